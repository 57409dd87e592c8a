import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSandbox, startTestApp, type Team, type TestApp } from '../support/app.js';
import {
  DAY_MS,
  expectNewestFirst,
  expectValidationProblem,
  followPages,
  getUrl,
  listAccounts,
  listAllTransactions,
  nextLink,
  syncConnection,
  type TransactionBody,
  utcDate,
} from '../support/fixtures.js';

describe('transactions: limit, cursor and the Link header', () => {
  let t: TestApp;
  let team: Team;
  let gbId: string;
  let euId: string;
  /** The team's whole list, newest first. */
  let full: TransactionBody[];

  beforeAll(async () => {
    t = await startTestApp();
    team = await t.createTeam('paging');
    const client = t.as(team);
    gbId = (
      await connectSandbox(client, team, { metadata: { sandbox: { transactionsPerAccount: 220, days: 30 } } })
    ).id;
    euId = (
      await connectSandbox(client, team, {
        providerId: 'sandbox-eu',
        metadata: { sandbox: { transactionsPerAccount: 20, days: 10 } },
      })
    ).id;
    await syncConnection(t, team, gbId);
    await syncConnection(t, team, euId);
    full = await listAllTransactions(t, team);
  });
  afterAll(() => t.close());

  const list = (query: Record<string, string | number | undefined>) =>
    t.as(team).get('/api/banking/transactions', { teamId: team.teamId, ...query });
  const ids = (rows: TransactionBody[]) => rows.map((row) => row.id);

  describe('limit', () => {
    it('without limit, answers the 500 newest rows and a Link to the next page', async () => {
      expect(full.length).toBeGreaterThan(500);
      const response = await list({});
      expect(response.statusCode).toBe(200);
      const body = response.json() as TransactionBody[];
      expect(body).toHaveLength(500);
      expect(ids(body)).toEqual(ids(full.slice(0, 500)));
      expect(nextLink(response)).not.toBeNull();
    });

    it('limit=1 answers one row, the newest, with a Link', async () => {
      const response = await list({ limit: 1 });
      expect(response.statusCode).toBe(200);
      expect(ids(response.json() as TransactionBody[])).toEqual([full[0]?.id]);
      expect(nextLink(response)).not.toBeNull();
    });

    it('limit=5000 is allowed and answers every row with no Link', async () => {
      const response = await list({ limit: 5000 });
      expect(response.statusCode).toBe(200);
      expect((response.json() as TransactionBody[]).length).toBe(full.length);
      expect(response.headers.link).toBeUndefined();
    });

    it.each([
      ['0', 0],
      ['5001 (never clamped)', 5001],
      ['abc', 'abc'],
      ['-1', -1],
      ['2.5', 2.5],
      ['1000000', 1_000_000],
      ['1e3 (a number, but not written in digits)', '1e3'],
      ['0x10', '0x10'],
      ['" 5"', ' 5'],
    ])('400 for limit=%s, naming /limit', async (_label, limit) => {
      expectValidationProblem(await list({ limit }), ['/limit']);
    });
  });

  describe('paging through Link: <url>; rel="next"', () => {
    it('Link is `<url>; rel="next"` pointing at the same endpoint', async () => {
      const response = await list({ limit: 10 });
      const header = String(response.headers.link);
      expect(header).toMatch(/^<[^>]+>;\s*rel="next"$/);
      expect(nextLink(response)?.split('?')[0]).toBe('/api/banking/transactions');
    });

    it('Link is absolute on the request host, and relative when the Host header is not a plain host', async () => {
      const withHost = (host: string) =>
        t.app.inject({
          method: 'GET',
          url: `/api/banking/transactions?teamId=${team.teamId}&limit=2`,
          headers: { authorization: `Bearer ${team.apiKey}`, host },
        });
      const plain = await withHost('api.example.com:8080');
      expect(String(plain.headers.link)).toMatch(
        /^<http:\/\/api\.example\.com:8080\/api\/banking\/transactions\?teamId=[^>]+&limit=2&cursor=[^>]+>; rel="next"$/,
      );
      for (const host of ['a b', 'evil.example>; rel="prev", <http://evil.example', '[not-ipv6']) {
        const response = await withHost(host);
        expect(response.statusCode).toBe(200);
        expect(String(response.headers.link)).toMatch(
          /^<\/api\/banking\/transactions\?teamId=[^>]+&limit=2&cursor=[^>]+>; rel="next"$/,
        );
      }
    });

    it('following Link with limit=37 gives every row exactly once, in order, and no Link on the last page', async () => {
      const { pages, responses } = await followPages(t, team, { limit: 37 });
      expect(pages.length).toBe(Math.ceil(full.length / 37));
      for (const [i, page] of pages.entries()) {
        const last = i === pages.length - 1;
        if (!last) expect(page).toHaveLength(37);
        else expect(page.length).toBeGreaterThan(0);
        expect(nextLink(responses[i]) === null).toBe(last);
      }
      const rows = pages.flat();
      expect(new Set(ids(rows)).size).toBe(rows.length);
      expect(ids(rows)).toEqual(ids(full));
      expectNewestFirst(rows);
    });

    it('following Link from the default page size reaches every row', async () => {
      const { pages } = await followPages(t, team, {});
      expect(pages[0]).toHaveLength(500);
      expect(ids(pages.flat())).toEqual(ids(full));
    });

    it('a page that ends on the last row has no Link (limit equal to the number of rows)', async () => {
      const response = await list({ limit: full.length });
      expect(response.statusCode).toBe(200);
      expect((response.json() as TransactionBody[]).length).toBe(full.length);
      expect(response.headers.link).toBeUndefined();
    });

    it('limit one less than the number of rows: a Link, then a last page of one row without Link', async () => {
      const { pages, responses } = await followPages(t, team, { limit: full.length - 1 });
      expect(pages.map((page) => page.length)).toEqual([full.length - 1, 1]);
      expect(nextLink(responses[1])).toBeNull();
      expect(ids(pages.flat())).toEqual(ids(full));
    });

    it('paging keeps the filters: connectionId + type, limit=25', async () => {
      const filter = { connectionId: gbId, type: 'DEBIT' };
      const expected = full.filter((row) => row.account.connection.id === gbId && row.type === 'DEBIT');
      expect(expected.length).toBeGreaterThan(25);
      const { pages } = await followPages(t, team, { ...filter, limit: 25 });
      expect(pages.length).toBe(Math.ceil(expected.length / 25));
      expect(ids(pages.flat())).toEqual(ids(expected));
    });

    it('paging keeps the filters: accountId + from + to, limit=9', async () => {
      const [account] = await listAccounts(t, team, gbId);
      const now = t.clock.now().getTime();
      const from = utcDate(now - 20 * DAY_MS);
      const to = utcDate(now - 5 * DAY_MS);
      const end = Date.parse(`${to}T00:00:00.000Z`) + DAY_MS;
      const expected = full.filter(
        (row) =>
          row.accountId === account?.id &&
          row.transactionDate >= `${from}T00:00:00.000Z` &&
          Date.parse(row.transactionDate) < end,
      );
      expect(expected.length).toBeGreaterThan(9);
      const { pages } = await followPages(t, team, { accountId: account?.id ?? '', from, to, limit: 9 });
      expect(ids(pages.flat())).toEqual(ids(expected));
    });

    it('a Link followed with another limit in place keeps serving from the cursor onward', async () => {
      const first = await list({ limit: 50 });
      const next = nextLink(first);
      expect(next).not.toBeNull();
      const url = new URL(next ?? '', 'http://localhost');
      url.searchParams.set('limit', '20');
      const second = await getUrl(t, team, `${url.pathname}${url.search}`);
      expect(second.statusCode).toBe(200);
      expect(ids(second.json() as TransactionBody[])).toEqual(ids(full.slice(50, 70)));
    });
  });

  describe('rows with the same transactionDate', () => {
    let tied: Team;
    let tiedFull: TransactionBody[];
    /** Pairs of neighbouring rows with equal transactionDate, in list order. */
    let pairs: [TransactionBody, TransactionBody][];

    beforeAll(async () => {
      tied = await t.createTeam('ties');
      // Two accounts with 1500 transactions each in one day of history, in whole seconds: some
      // rows of the two accounts share a transactionDate.
      const connection = await connectSandbox(t.as(tied), tied, {
        metadata: { sandbox: { accounts: 2, transactionsPerAccount: 1500, days: 1 } },
      });
      await syncConnection(t, tied, connection.id);
      tiedFull = await listAllTransactions(t, tied);
      pairs = [];
      for (let i = 1; i < tiedFull.length; i++) {
        const a = tiedFull[i - 1] as TransactionBody;
        const b = tiedFull[i] as TransactionBody;
        if (a.transactionDate === b.transactionDate) pairs.push([a, b]);
      }
    });

    it('are ordered by id desc', async () => {
      expect(pairs.length).toBeGreaterThan(0);
      for (const [a, b] of pairs) expect(a.id > b.id, `${a.id} before ${b.id}`).toBe(true);
      expectNewestFirst(tiedFull);
    });

    it('page across a tie with limit=1: each row of the tie exactly once, in order', async () => {
      for (const [a] of pairs.slice(0, 10)) {
        const same = tiedFull.filter((row) => row.transactionDate === a.transactionDate);
        const { pages } = await followPages(t, tied, {
          from: a.transactionDate,
          to: a.transactionDate,
          limit: 1,
        });
        expect(pages.map((page) => page.length)).toEqual(same.map(() => 1));
        expect(ids(pages.flat())).toEqual(ids(same));
      }
    });

    it('following Link with limit=50 through the whole list gives every row exactly once, in order', async () => {
      const { pages } = await followPages(t, tied, { limit: 50 });
      const rows = pages.flat();
      expect(new Set(ids(rows)).size).toBe(rows.length);
      expect(ids(rows)).toEqual(ids(tiedFull));
    });
  });

  describe('cursor', () => {
    it.each([
      ['not base64', '!!!not-a-cursor!!!'],
      ['random text', 'abc'],
      ['base64 of an object', Buffer.from(JSON.stringify({ a: 1 })).toString('base64url')],
      [
        'base64 of a bad position',
        Buffer.from(JSON.stringify(['not-a-date', 'txn_x'])).toString('base64url'),
      ],
      ['a truncated real cursor', 'TRUNCATE'],
    ])('400 for a malformed cursor (%s), naming /cursor', async (label, value) => {
      let cursor = value;
      if (label === 'a truncated real cursor') {
        const next = nextLink(await list({ limit: 3 }));
        const real = new URL(next ?? '', 'http://localhost').searchParams.get('cursor') ?? '';
        expect(real.length).toBeGreaterThan(4);
        cursor = real.slice(0, Math.floor(real.length / 2) - 1);
      }
      expectValidationProblem(await list({ cursor, limit: 10 }), ['/cursor']);
    });
  });
});

describe('the Link header of a deployment that sets PUBLIC_URL (behind a proxy that ends TLS)', () => {
  let t: TestApp;
  let team: Team;

  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_URL: 'https://api.example.com/banking/' } });
    team = await t.createTeam('public url');
    const connection = await connectSandbox(t.as(team), team, {
      metadata: { sandbox: { accounts: 1, transactionsPerAccount: 5, days: 5 } },
    });
    await syncConnection(t, team, connection.id);
  });
  afterAll(() => t.close());

  it('is built on PUBLIC_URL, whatever Host the request came with', async () => {
    for (const host of ['localhost:3000', 'evil.example', 'a b']) {
      const response = await t.app.inject({
        method: 'GET',
        url: `/api/banking/transactions?teamId=${team.teamId}&limit=2`,
        headers: { authorization: `Bearer ${team.apiKey}`, host },
      });
      expect(response.statusCode).toBe(200);
      expect(String(response.headers.link)).toMatch(
        /^<https:\/\/api\.example\.com\/banking\/api\/banking\/transactions\?teamId=[^>]+&limit=2&cursor=[^>]+>; rel="next"$/,
      );
    }
  });
});
