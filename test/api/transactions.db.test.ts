import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSandbox, startTestApp, type Team, type TestApp } from '../support/app.js';
import {
  type AccountBody,
  DAY_MS,
  expectNewestFirst,
  expectProblem,
  expectTransactionShape,
  expectValidationProblem,
  listAccounts,
  listAllTransactions,
  syncConnection,
  type TransactionBody,
  utcDate,
} from '../support/fixtures.js';

interface Filter {
  accountId?: string;
  connectionId?: string;
  from?: string;
  to?: string;
  type?: 'CREDIT' | 'DEBIT';
  category?: string;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** Whether a row satisfies every filter, as the contract defines them. */
function matches(row: TransactionBody, filter: Filter): boolean {
  const at = Date.parse(row.transactionDate);
  if (filter.accountId !== undefined && row.accountId !== filter.accountId) return false;
  if (filter.connectionId !== undefined && row.account.connection.id !== filter.connectionId) return false;
  if (filter.from !== undefined) {
    const from = DATE_ONLY.test(filter.from)
      ? Date.parse(`${filter.from}T00:00:00.000Z`)
      : Date.parse(filter.from);
    if (at < from) return false;
  }
  if (filter.to !== undefined) {
    if (DATE_ONLY.test(filter.to)) {
      if (at >= Date.parse(`${filter.to}T00:00:00.000Z`) + DAY_MS) return false;
    } else if (at > Date.parse(filter.to)) {
      return false;
    }
  }
  if (filter.type !== undefined && row.type !== filter.type) return false;
  if (filter.category !== undefined && row.category !== filter.category) return false;
  return true;
}

describe('transactions: list and filters', () => {
  let t: TestApp;
  let team: Team;
  let other: Team;
  let gbId: string;
  let euId: string;
  let defaultId: string;
  let otherConnectionId: string;
  let accounts: AccountBody[];
  /** The team's whole list, newest first. */
  let full: TransactionBody[];
  let otherFull: TransactionBody[];

  beforeAll(async () => {
    t = await startTestApp();
    team = await t.createTeam('transactions');
    other = await t.createTeam('other');
    const client = t.as(team);
    gbId = (
      await connectSandbox(client, team, {
        providerId: 'sandbox-gb',
        metadata: { sandbox: { transactionsPerAccount: 60, days: 30 } },
      })
    ).id;
    euId = (
      await connectSandbox(client, team, {
        providerId: 'sandbox-eu',
        metadata: { sandbox: { transactionsPerAccount: 40, days: 30 } },
      })
    ).id;
    defaultId = (await connectSandbox(client, team, { providerId: 'sandbox-gb' })).id;
    for (const id of [gbId, euId, defaultId]) await syncConnection(t, team, id);
    otherConnectionId = (
      await connectSandbox(t.as(other), other, {
        metadata: { sandbox: { transactionsPerAccount: 20, days: 10 } },
      })
    ).id;
    await syncConnection(t, other, otherConnectionId);
    accounts = await listAccounts(t, team);
    full = await listAllTransactions(t, team);
    otherFull = await listAllTransactions(t, other);
  });
  afterAll(() => t.close());

  const list = (query: Record<string, string | number | undefined>) =>
    t.as(team).get('/api/banking/transactions', { teamId: team.teamId, ...query });

  /** The most frequent non-null category of the rows. */
  const commonCategory = (rows: TransactionBody[]) => {
    const counts = new Map<string, number>();
    for (const row of rows) if (row.category) counts.set(row.category, (counts.get(row.category) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'none';
  };
  const accountOf = (connectionId: string, type: string) =>
    accounts.find((a) => a.connectionId === connectionId && a.type === type)?.id ?? 'missing';
  const dayBeforeClock = (days: number) => utcDate(t.clock.now().getTime() - days * DAY_MS);

  describe('the list', () => {
    it('answers 200 with a JSON array of every transaction of the team', async () => {
      const response = await list({});
      expect(response.statusCode).toBe(200);
      expect(String(response.headers['content-type'])).toMatch(/^application\/json/);
      const body = response.json() as TransactionBody[];
      expect(Array.isArray(body)).toBe(true);
      expect(full.length).toBeGreaterThanOrEqual(3 * 60 + 3 * 40 + 100);
      expect(new Set(full.map((x) => x.id)).size).toBe(full.length);
    });

    it('lists newest first: transactionDate desc, then id desc', async () => {
      expectNewestFirst(full);
    });

    it('every row has every seed field with the right type, plus status', async () => {
      for (const row of full) expectTransactionShape(row);
    });

    it('amount is a magnitude (>= 0) with at most 2 decimals; type gives the direction', async () => {
      for (const row of full) {
        expect(row.amount).toBeGreaterThanOrEqual(0);
        expect(Math.round(row.amount * 100) / 100).toBe(row.amount);
        expect((String(row.amount).split('.')[1] ?? '').length).toBeLessThanOrEqual(2);
      }
      expect(full.some((row) => row.type === 'CREDIT')).toBe(true);
      expect(full.some((row) => row.type === 'DEBIT')).toBe(true);
    });

    it('nests the account {id, accountName, accountNumber, connection {id, provider}} as the accounts list shows it', async () => {
      const byId = new Map(accounts.map((a) => [a.id, a]));
      for (const row of full) {
        const account = byId.get(row.accountId);
        expect(account, row.accountId).toBeDefined();
        expect(row.account).toMatchObject({
          id: account?.id,
          accountName: account?.accountName,
          accountNumber: account?.accountNumber,
          connection: { id: account?.connectionId, provider: 'sandbox' },
        });
        expect(row.currency).toBe(account?.currency);
      }
    });

    it('the default sandbox data include PENDING and BOOKED rows, and rows with and without a category', async () => {
      const ofDefault = full.filter((row) => row.account.connection.id === defaultId);
      expect(ofDefault.some((row) => row.status === 'PENDING')).toBe(true);
      expect(ofDefault.some((row) => row.status === 'BOOKED')).toBe(true);
      expect(ofDefault.some((row) => row.category === null)).toBe(true);
      expect(ofDefault.some((row) => row.category !== null)).toBe(true);
    });

    it("never lists another team's transactions", async () => {
      expect(otherFull.length).toBeGreaterThan(0);
      const ours = new Set(full.map((row) => row.id));
      for (const row of otherFull) {
        expect(ours.has(row.id)).toBe(false);
        expect(row.account.connection.id).toBe(otherConnectionId);
      }
    });
  });

  describe('filters, alone and combined with AND', () => {
    const cases: [string, () => Filter][] = [
      ['accountId', () => ({ accountId: accountOf(gbId, 'CHECKING') })],
      ['connectionId', () => ({ connectionId: euId })],
      ['from (date)', () => ({ from: dayBeforeClock(10) })],
      ['to (date)', () => ({ to: dayBeforeClock(10) })],
      ['from and to (dates)', () => ({ from: dayBeforeClock(20), to: dayBeforeClock(5) })],
      [
        'from and to (date-times)',
        () => ({
          from: full[Math.floor(full.length * 0.7)]?.transactionDate,
          to: full[Math.floor(full.length * 0.3)]?.transactionDate,
        }),
      ],
      ['type CREDIT', () => ({ type: 'CREDIT' })],
      ['type DEBIT', () => ({ type: 'DEBIT' })],
      ['category', () => ({ category: commonCategory(full) })],
      ['accountId + type', () => ({ accountId: accountOf(defaultId, 'CHECKING'), type: 'DEBIT' })],
      ['connectionId + category', () => ({ connectionId: defaultId, category: commonCategory(full) })],
      [
        'accountId + from + to + type',
        () => ({
          accountId: accountOf(gbId, 'CHECKING'),
          from: dayBeforeClock(25),
          to: dayBeforeClock(3),
          type: 'DEBIT',
        }),
      ],
      [
        'connectionId + from + type + category',
        () => {
          const rows = full.filter((row) => row.account.connection.id === defaultId && row.type === 'DEBIT');
          return {
            connectionId: defaultId,
            from: dayBeforeClock(60),
            type: 'DEBIT',
            category: commonCategory(rows),
          };
        },
      ],
      [
        'accountId + connectionId (the account is of that connection)',
        () => ({ accountId: accountOf(euId, 'SAVINGS'), connectionId: euId }),
      ],
    ];

    it.each(cases)(
      '%s: every row satisfies the filters and the rows are exactly those of the full list that do',
      async (_label, make) => {
        const filter = make();
        const expected = full.filter((row) => matches(row, filter));
        expect(expected.length, `filter ${JSON.stringify(filter)} should match some rows`).toBeGreaterThan(0);
        expect(expected.length).toBeLessThan(full.length);
        const rows = await listAllTransactions(t, team, { ...filter });
        for (const row of rows)
          expect(matches(row, filter), `${row.id} ${row.transactionDate} vs ${JSON.stringify(filter)}`).toBe(
            true,
          );
        expect(rows.length).toBe(expected.length);
        expect(rows.map((row) => row.id)).toEqual(expected.map((row) => row.id));
        expectNewestFirst(rows);
      },
    );

    it('an accountId of one connection with the connectionId of another gives an empty list (AND)', async () => {
      const rows = await listAllTransactions(t, team, {
        accountId: accountOf(gbId, 'CHECKING'),
        connectionId: euId,
      });
      expect(rows).toEqual([]);
    });

    it('a category nobody has gives an empty list', async () => {
      expect(await listAllTransactions(t, team, { category: 'no-such-category-xyz' })).toEqual([]);
    });

    it('type CREDIT and type DEBIT split the list in two', async () => {
      const credits = await listAllTransactions(t, team, { type: 'CREDIT' });
      const debits = await listAllTransactions(t, team, { type: 'DEBIT' });
      expect(credits.length + debits.length).toBe(full.length);
      expect(credits.every((row) => row.type === 'CREDIT')).toBe(true);
      expect(debits.every((row) => row.type === 'DEBIT')).toBe(true);
    });

    it('connectionId filters give the rows of each connection, which add up to the whole list', async () => {
      let total = 0;
      for (const connectionId of [gbId, euId, defaultId]) {
        const rows = await listAllTransactions(t, team, { connectionId });
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.every((row) => row.account.connection.id === connectionId)).toBe(true);
        total += rows.length;
      }
      expect(total).toBe(full.length);
    });
  });

  describe('dates', () => {
    /** A UTC day, some days back, with a transaction in its second half. */
    const dayWithLateRow = () => {
      const row = full.find(
        (x) =>
          Date.parse(x.transactionDate) < t.clock.now().getTime() - 3 * DAY_MS &&
          new Date(x.transactionDate).getUTCHours() >= 12,
      );
      if (!row) throw new Error('no late row');
      return { row, day: utcDate(row.transactionDate) };
    };

    it('`to` as a date includes the whole UTC day, up to 23:59:59.999', async () => {
      const { row, day } = dayWithLateRow();
      const rows = await listAllTransactions(t, team, { to: day });
      expect(rows.map((x) => x.id)).toContain(row.id);
      const ofDay = full.filter((x) => utcDate(x.transactionDate) === day);
      const ids = new Set(rows.map((x) => x.id));
      for (const x of ofDay) expect(ids.has(x.id)).toBe(true);
      for (const x of rows) expect(utcDate(x.transactionDate) <= day).toBe(true);
      expect(rows.length).toBe(full.filter((x) => utcDate(x.transactionDate) <= day).length);
    });

    it('`from` as a date starts at 00:00 UTC of that day', async () => {
      const { day } = dayWithLateRow();
      const rows = await listAllTransactions(t, team, { from: day });
      expect(rows.length).toBe(full.filter((x) => utcDate(x.transactionDate) >= day).length);
      expect(rows.every((x) => utcDate(x.transactionDate) >= day)).toBe(true);
    });

    it('`from` and `to` both the same date give exactly the rows of that UTC day', async () => {
      const { day } = dayWithLateRow();
      const rows = await listAllTransactions(t, team, { from: day, to: day });
      const expected = full.filter((x) => utcDate(x.transactionDate) === day);
      expect(expected.length).toBeGreaterThan(0);
      expect(rows.map((x) => x.id)).toEqual(expected.map((x) => x.id));
    });

    it('`from` and `to` date-times are inclusive: both equal to a row’s transactionDate include it', async () => {
      const row = full[Math.floor(full.length / 2)] as TransactionBody;
      const rows = await listAllTransactions(t, team, {
        from: row.transactionDate,
        to: row.transactionDate,
      });
      expect(rows.map((x) => x.id)).toContain(row.id);
      expect(rows.every((x) => x.transactionDate === row.transactionDate)).toBe(true);
    });

    it('a date-time with an offset means the same instant as its UTC form', async () => {
      const { row } = dayWithLateRow();
      const at = new Date(row.transactionDate);
      const shifted = new Date(at.getTime() + 2 * 3_600_000).toISOString().slice(0, 19);
      const withOffset = await listAllTransactions(t, team, { to: `${shifted}+02:00` });
      const utc = await listAllTransactions(t, team, { to: row.transactionDate });
      expect(withOffset.map((x) => x.id)).toEqual(utc.map((x) => x.id));
      expect(withOffset.map((x) => x.id)).toContain(row.id);
    });

    it('dates of the first century are read in their own year: from 0050-06-15 lists every row, to 0099-12-31 none', async () => {
      expect((await listAllTransactions(t, team, { from: '0050-06-15' })).map((x) => x.id)).toEqual(
        full.map((x) => x.id),
      );
      expect(await listAllTransactions(t, team, { to: '0099-12-31T23:59:59Z' })).toEqual([]);
    });

    it.each(['0000-01-01', '0000-06-15T00:00:00Z'])(
      '400 for %s, a date of the year 0, naming it',
      async (from) => {
        expectValidationProblem(await list({ from }), ['/from']);
      },
    );

    it('400 when `from` is after `to`, naming them', async () => {
      const response = await list({ from: dayBeforeClock(3), to: dayBeforeClock(10) });
      const body = expectProblem(response, 400);
      const paths = (body.errors ?? []).map((e) => e.path).join(' ');
      expect(paths).toMatch(/from|to/);
    });

    it('400 when a date-time `from` is after a date-time `to`', async () => {
      const response = await list({ from: '2026-11-20T12:00:00.000Z', to: '2026-11-20T11:59:59.000Z' });
      expectProblem(response, 400);
    });

    it.each([
      ['from', '2026-02-30'],
      ['to', '2026-02-30'],
      ['from', 'yesterday'],
      ['to', 'yesterday'],
      ['from', '2026-13-01'],
      ['to', '2026-11-01T25:00:00Z'],
      ['from', '26-11-2026'],
    ])('400 for an invalid date %s=%s, naming it', async (field, value) => {
      expectValidationProblem(await list({ [field]: value }), [`/${field}`]);
    });
  });

  describe('bad filters', () => {
    it.each([['TRANSFER'], ['credit']])('400 for an unknown type value %j, naming /type', async (type) => {
      expectValidationProblem(await list({ type }), ['/type']);
    });

    it('404 for an unknown accountId filter', async () => {
      expectProblem(await list({ accountId: 'acct_unknown' }), 404);
    });

    it('404 for an unknown connectionId filter', async () => {
      expectProblem(await list({ connectionId: 'conn_unknown' }), 404);
    });

    it("404 for another team's accountId filter", async () => {
      expectProblem(await list({ accountId: otherFull[0]?.accountId }), 404);
    });

    it("404 for another team's connectionId filter", async () => {
      expectProblem(await list({ connectionId: otherConnectionId }), 404);
    });
  });
});
