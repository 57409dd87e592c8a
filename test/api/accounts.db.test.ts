import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSandbox, startTestApp, type Team, type TestApp } from '../support/app.js';
import {
  type AccountBody,
  type AccountDetailsBody,
  expectAccountShape,
  expectIsoUtc,
  expectMoney,
  expectNewestFirst,
  expectProblem,
  expectRecentTransactionShape,
  isValidIban,
  listAccounts,
  listAllTransactions,
  syncConnection,
} from '../support/fixtures.js';

describe('accounts', () => {
  let t: TestApp;
  let team: Team;
  let other: Team;
  /** sandbox-gb, sized. */
  let gbId: string;
  /** sandbox-eu, default size. */
  let euId: string;
  /** sandbox-gb with 5 accounts. */
  let fiveId: string;
  /** Another team's connection. */
  let otherConnectionId: string;
  let all: AccountBody[];

  beforeAll(async () => {
    t = await startTestApp();
    team = await t.createTeam('accounts');
    other = await t.createTeam('other');
    const client = t.as(team);
    gbId = (
      await connectSandbox(client, team, {
        providerId: 'sandbox-gb',
        metadata: { sandbox: { transactionsPerAccount: 30, days: 20 } },
      })
    ).id;
    euId = (await connectSandbox(client, team, { providerId: 'sandbox-eu' })).id;
    fiveId = (
      await connectSandbox(client, team, {
        providerId: 'sandbox-gb',
        metadata: { sandbox: { accounts: 5, transactionsPerAccount: 4, days: 5 } },
      })
    ).id;
    for (const id of [gbId, euId, fiveId]) await syncConnection(t, team, id);
    otherConnectionId = (
      await connectSandbox(t.as(other), other, {
        metadata: { sandbox: { transactionsPerAccount: 5, days: 5 } },
      })
    ).id;
    await syncConnection(t, other, otherConnectionId);
    all = await listAccounts(t, team);
  });
  afterAll(() => t.close());

  const details = (accountId: string, as: Team = team) =>
    t.as(as).get(`/api/banking/accounts/${accountId}`, { teamId: as.teamId });

  describe('list', () => {
    it('lists no accounts for a team without connections', async () => {
      const empty = await t.createTeam('empty');
      const response = await t.as(empty).get('/api/banking/accounts', { teamId: empty.teamId });
      expect(response.statusCode).toBe(200);
      expect(String(response.headers['content-type'])).toMatch(/^application\/json/);
      expect(response.json()).toEqual([]);
    });

    it("lists every account of the team's connections with every seed field and the right types", async () => {
      expect(all).toHaveLength(3 + 3 + 5);
      for (const account of all) expectAccountShape(account);
      expect(new Set(all.map((a) => a.id)).size).toBe(all.length);
      expect(new Set(all.map((a) => a.connectionId))).toEqual(new Set([gbId, euId, fiveId]));
    });

    it('nests the connection as {id, provider, status}', async () => {
      for (const account of all) {
        expect(account.connection).toMatchObject({
          id: account.connectionId,
          provider: 'sandbox',
          status: 'ACTIVE',
        });
      }
    });

    it("does not list another team's accounts", async () => {
      const ofOther = await listAccounts(t, other);
      expect(ofOther).toHaveLength(3);
      for (const account of ofOther) expect(account.connectionId).toBe(otherConnectionId);
      const ours = new Set(all.map((a) => a.id));
      for (const account of ofOther) expect(ours.has(account.id)).toBe(false);
    });

    it('a sandbox connection has by default one CHECKING, one SAVINGS and one CREDIT account', async () => {
      const types = all.filter((a) => a.connectionId === euId).map((a) => a.type);
      expect(types.sort()).toEqual(['CHECKING', 'CREDIT', 'SAVINGS']);
    });

    it('metadata.sandbox.accounts sets the number of accounts', async () => {
      expect(all.filter((a) => a.connectionId === fiveId)).toHaveLength(5);
    });

    it('filters by connectionId: exactly the accounts of that connection', async () => {
      for (const connectionId of [gbId, euId, fiveId]) {
        const filtered = await listAccounts(t, team, connectionId);
        expect(filtered.length).toBeGreaterThan(0);
        for (const account of filtered) expect(account.connectionId).toBe(connectionId);
        expect(filtered.map((a) => a.id).sort()).toEqual(
          all
            .filter((a) => a.connectionId === connectionId)
            .map((a) => a.id)
            .sort(),
        );
      }
    });

    it('404 for an unknown connectionId filter', async () => {
      const response = await t
        .as(team)
        .get('/api/banking/accounts', { teamId: team.teamId, connectionId: 'conn_unknown' });
      expectProblem(response, 404);
    });

    it("404 for another team's connectionId filter", async () => {
      const response = await t
        .as(team)
        .get('/api/banking/accounts', { teamId: team.teamId, connectionId: otherConnectionId });
      expectProblem(response, 404);
    });
  });

  describe('account numbers and currencies', () => {
    it('sandbox-gb accounts are GBP with an 8-digit accountNumber and a 6-digit sortCode', async () => {
      const gb = all.filter((a) => a.connectionId === gbId || a.connectionId === fiveId);
      expect(gb).toHaveLength(8);
      for (const account of gb) {
        expect(account.currency).toBe('GBP');
        expect(account.accountNumber).toMatch(/^\d{8}$/);
        expect(account.sortCode).toMatch(/^\d{6}$/);
      }
    });

    it('sandbox-eu accounts are EUR with an IBAN in electronic form as accountNumber and sortCode null', async () => {
      const eu = all.filter((a) => a.connectionId === euId);
      expect(eu).toHaveLength(3);
      for (const account of eu) {
        expect(account.currency).toBe('EUR');
        expect(account.accountNumber).toMatch(/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/);
        expect(isValidIban(account.accountNumber ?? '')).toBe(true);
        expect(account.sortCode).toBeNull();
      }
    });

    it('balance and availableBalance are numbers with at most 2 decimals (GBP, EUR)', async () => {
      for (const account of all) {
        expectMoney(account.balance, 2);
        if (account.availableBalance !== null) expectMoney(account.availableBalance, 2);
      }
      expect(all.some((a) => a.balance !== 0)).toBe(true);
    });
  });

  describe('details', () => {
    it('answers 200 with every field of the list entry plus transactionCount and recentTransactions', async () => {
      for (const account of all) {
        const response = await details(account.id);
        expect(response.statusCode, response.body).toBe(200);
        const body = response.json() as AccountDetailsBody;
        expectAccountShape(body);
        expect(body).toMatchObject({
          id: account.id,
          connectionId: account.connectionId,
          accountName: account.accountName,
          accountNumber: account.accountNumber,
          sortCode: account.sortCode,
          currency: account.currency,
          type: account.type,
          balance: account.balance,
          availableBalance: account.availableBalance,
          connection: account.connection,
        });
        expect(Number.isInteger(body.transactionCount)).toBe(true);
        expect(Array.isArray(body.recentTransactions)).toBe(true);
      }
    });

    it("transactionCount equals the number of the account's transactions listed by /transactions?accountId", async () => {
      for (const account of all) {
        const body = (await details(account.id)).json() as AccountDetailsBody;
        const listed = await listAllTransactions(t, team, { accountId: account.id });
        expect(body.transactionCount, account.accountName).toBe(listed.length);
      }
      const sized = all.filter((a) => a.connectionId === gbId);
      for (const account of sized) {
        expect(
          ((await details(account.id)).json() as AccountDetailsBody).transactionCount,
        ).toBeGreaterThanOrEqual(30);
      }
    });

    it('recentTransactions are the 10 newest of the account, newest first, each with status', async () => {
      for (const account of all) {
        const body = (await details(account.id)).json() as AccountDetailsBody;
        const listed = await listAllTransactions(t, team, { accountId: account.id });
        const expected = listed.slice(0, 10);
        expect(body.recentTransactions).toHaveLength(Math.min(10, listed.length));
        expectNewestFirst(body.recentTransactions);
        for (const [i, recent] of body.recentTransactions.entries()) {
          expectRecentTransactionShape(recent);
          expectIsoUtc(recent.transactionDate);
          expect(recent.currency).toBe(account.currency);
          const row = expected[i];
          expect(recent).toEqual(
            expect.objectContaining({
              id: row?.id,
              amount: row?.amount,
              currency: row?.currency,
              description: row?.description,
              transactionDate: row?.transactionDate,
              type: row?.type,
              category: row?.category,
              status: row?.status,
            }),
          );
        }
      }
    });

    it("a recent transaction has the list entry's own fields and not its account's", async () => {
      const busy = all.find((a) => a.connectionId === gbId);
      const body = (await details(busy?.id ?? '')).json() as AccountDetailsBody;
      expect(body.recentTransactions.length).toBeGreaterThan(0);
      for (const recent of body.recentTransactions) {
        expect(Object.keys(recent).sort()).toEqual(
          ['amount', 'category', 'currency', 'description', 'id', 'status', 'transactionDate', 'type'].sort(),
        );
      }
    });

    it('an account with more than 10 transactions shows exactly 10 recent ones', async () => {
      const busy = all.find((a) => a.connectionId === gbId);
      const body = (await details(busy?.id ?? '')).json() as AccountDetailsBody;
      expect(body.transactionCount).toBeGreaterThan(10);
      expect(body.recentTransactions).toHaveLength(10);
    });

    it('404 for an unknown account id', async () => {
      expectProblem(await details('acct_unknown'), 404);
    });

    it("404 for another team's account", async () => {
      const [theirs] = await listAccounts(t, other);
      expectProblem(await details(theirs?.id ?? ''), 404);
    });

    it('400 for a missing teamId', async () => {
      const response = await t.as(team).get(`/api/banking/accounts/${all[0]?.id}`);
      expectProblem(response, 400);
    });
  });

  describe('after disconnect', () => {
    it('the accounts stay listed, with connection.status DISCONNECTED, and their details still answer', async () => {
      const response = await t
        .as(team)
        .post('/api/banking/disconnect', { teamId: team.teamId, connectionId: fiveId });
      expect(response.statusCode).toBe(200);
      const after = await listAccounts(t, team, fiveId);
      expect(after.map((a) => a.id).sort()).toEqual(
        all
          .filter((a) => a.connectionId === fiveId)
          .map((a) => a.id)
          .sort(),
      );
      for (const account of after) {
        expect(account.connection.status).toBe('DISCONNECTED');
        const body = (await details(account.id)).json() as AccountDetailsBody;
        expect(body.connection.status).toBe('DISCONNECTED');
      }
      for (const account of await listAccounts(t, team, gbId)) {
        expect(account.connection.status).toBe('ACTIVE');
      }
    });
  });
});
