import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { transactions } from '../../src/db/schema.js';
import { encodeCursor } from '../../src/http/cursor.js';
import { newId } from '../../src/ids.js';
import { connectSandbox, startTestApp, type Team, type TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/database.js';
import {
  type AccountBody,
  getUrl,
  listAccounts,
  listAllTransactions,
  nextLink,
  syncConnection,
  type TransactionBody,
} from '../support/fixtures.js';

/**
 * What the reads cost the database, counted statement by statement, and what keyset paging
 * promises while a sync adds rows between two pages.
 */
describe('reads: one query per list, pages that new rows do not move', () => {
  let t: TestApp;
  let team: Team;
  let connectionId: string;
  let account: AccountBody;
  let sample: TransactionBody;
  /** Every statement the app sent since the last reset, but the API-key lookup of the guard. */
  let statements: string[] = [];
  /** The values bound to each of `statements`. */
  let values: unknown[][] = [];
  let databaseUrl: string | undefined;

  beforeAll(async () => {
    const testDatabase = await createTestDatabase();
    databaseUrl = testDatabase.env.DATABASE_URL;
    const handle = await openDatabase({
      databaseUrl: testDatabase.env.DATABASE_URL,
      dataDir: testDatabase.env.DATA_DIR ?? 'memory://',
      poolSize: 5,
      logQuery: (statement, params) => {
        if (/from "api_keys"/.test(statement)) return;
        statements.push(statement);
        values.push(params);
      },
    });
    await handle.migrate();
    t = await startTestApp({ testDatabase: { ...testDatabase, open: async () => handle } });
    team = await t.createTeam('reads');
    const client = t.as(team);
    connectionId = (
      await connectSandbox(client, team, {
        metadata: { sandbox: { accounts: 2, transactionsPerAccount: 40, days: 30 } },
      })
    ).id;
    await syncConnection(t, team, connectionId);
    const accounts = await listAccounts(t, team);
    account = accounts[0] as AccountBody;
    // A row every filter matches, whatever the sandbox drew for this consent.
    const rows = await listAllTransactions(t, team, { accountId: account.id });
    sample = rows.find((row) => row.category !== null) as TransactionBody;
    expect(sample).toBeDefined();
  });
  afterAll(() => t.close());
  beforeEach(() => {
    statements = [];
    values = [];
  });

  const get = async (url: string, query: Record<string, string | number> = {}) => {
    statements = [];
    values = [];
    const response = await t.as(team).get(url, { teamId: team.teamId, ...query });
    expect(response.statusCode, response.body).toBe(200);
    return response;
  };

  describe('statements per request', () => {
    it.each([
      ['no filter', {}],
      ['accountId', () => ({ accountId: account.id })],
      ['connectionId', () => ({ connectionId })],
      [
        'every filter at once',
        () => ({
          accountId: account.id,
          connectionId,
          from: sample.transactionDate,
          to: sample.transactionDate,
          type: sample.type,
          category: sample.category as string,
        }),
      ],
    ] as const)('a page of transactions with %s is one statement, without OFFSET', async (_label, query) => {
      const response = await get('/api/banking/transactions', typeof query === 'function' ? query() : query);
      expect((response.json() as TransactionBody[]).length).toBeGreaterThan(0);
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(
        /^select .* from "transactions" left join "accounts" .* left join "connections"/,
      );
      expect(statements[0]).not.toMatch(/\boffset\b/i);
    });

    it('the page after a cursor is one statement too, a row comparison on (transaction_date, id)', async () => {
      const first = await get('/api/banking/transactions', { limit: 5 });
      const next = nextLink(first);
      expect(next).not.toBeNull();
      statements = [];
      const response = await getUrl(t, team, next as string);
      expect(response.statusCode).toBe(200);
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(/\("transactions"\."transaction_date", "transactions"\."id"\) < \(/);
      expect(statements[0]).not.toMatch(/\boffset\b/i);
    });

    it('every filter with a cursor and the largest page prepares under a name PostgreSQL keeps whole', async () => {
      const response = await get('/api/banking/transactions', {
        accountId: account.id,
        connectionId,
        from: '2000-01-01',
        to: sample.transactionDate,
        type: sample.type,
        category: sample.category as string,
        cursor: encodeCursor({ at: sample.transactionDate, id: sample.id }),
        limit: 5000,
      });
      expect(Array.isArray(response.json())).toBe(true);
      expect(statements[0]).toMatch(/ limit 5001$/);
    });

    it('the page size is written into the statement, so PostgreSQL can keep one plan for it', async () => {
      await get('/api/banking/transactions', { limit: 7 });
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(/ limit 8$/);
      // The team alone (in each type's range and its joins): no limit among the values.
      expect(new Set(values[0])).toEqual(new Set([team.teamId]));
    });

    it.runIf(process.env.DATABASE_URL)(
      'PostgreSQL runs the list statement on a generic plan once prepared, instead of planning it every time',
      async () => {
        await get('/api/banking/transactions', { accountId: account.id, limit: 3 });
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        try {
          for (let i = 0; i < 8; i++) {
            await client.query({ name: 'list', text: statements[0] as string, values: values[0] });
          }
          const { rows } = await client.query<{ generic_plans: string; custom_plans: string }>(
            `select generic_plans, custom_plans from pg_prepared_statements where name = 'list'`,
          );
          // PostgreSQL tries five custom plans, then keeps the generic one when it costs no more.
          expect(rows).toEqual([{ generic_plans: '3', custom_plans: '5' }]);
        } finally {
          await client.end();
        }
      },
    );

    it('the nested account and connection of 80 rows come from the same one statement (no query per row)', async () => {
      const response = await get('/api/banking/transactions', { limit: 5000 });
      const rows = response.json() as TransactionBody[];
      expect(rows).toHaveLength(80);
      expect(new Set(rows.map((row) => row.account.id)).size).toBe(2);
      expect(statements).toHaveLength(1);
    });

    it('an empty page with filter ids looks the ids up, so that an unknown one is still a 404', async () => {
      const response = await get('/api/banking/transactions', { accountId: account.id, category: 'no-such' });
      expect(response.json()).toEqual([]);
      expect(statements).toHaveLength(2);
      const unknown = await t
        .as(team)
        .get('/api/banking/transactions', { teamId: team.teamId, accountId: 'acct_unknown' });
      expect(unknown.statusCode).toBe(404);
    });

    it.each([
      ['the accounts list', {}],
      ['the accounts list of one connection', () => ({ connectionId })],
    ] as const)('%s is one statement', async (_label, query) => {
      const response = await get('/api/banking/accounts', typeof query === 'function' ? query() : query);
      expect((response.json() as AccountBody[]).length).toBe(2);
      expect(statements).toHaveLength(1);
    });

    it("account details read the maintained transactionCount: two statements, neither counting the account's rows", async () => {
      const response = await get(`/api/banking/accounts/${account.id}`);
      expect((response.json() as { transactionCount: number }).transactionCount).toBe(40);
      expect(statements).toHaveLength(2);
      for (const statement of statements) expect(statement).not.toMatch(/count\(/i);
      // The recent transactions' limit is in the statement, as the list's is, for a generic plan.
      expect(statements[1]).toMatch(/ limit 10$/);
    });
  });

  describe('keyset pages while rows arrive', () => {
    const insertTransaction = async (transactionDate: Date, id = newId('txn')) => {
      await t.database.db.insert(transactions).values({
        teamId: team.teamId,
        id,
        accountId: account.id,
        connectionId,
        providerTransactionId: `late-${id}`,
        amountMinor: 1234,
        currency: 'GBP',
        description: 'Arrived between two pages',
        transactionDate,
        type: 'DEBIT',
        status: 'PENDING',
        category: null,
      });
      return id;
    };

    it('a row newer than every row, and one tied with the last row served, neither shift nor repeat the next pages', async () => {
      const before = await listAllTransactions(t, team);
      const first = await get('/api/banking/transactions', { limit: 7 });
      const firstPage = first.json() as TransactionBody[];
      expect(firstPage.map((row) => row.id)).toEqual(before.slice(0, 7).map((row) => row.id));
      const boundary = firstPage.at(-1) as TransactionBody;

      // Newer than everything, and on the boundary's date with a higher id: both sort before
      // the cursor, into the page already handed out.
      const newest = await insertTransaction(
        new Date(Date.parse(before[0]?.transactionDate as string) + 60_000),
      );
      const tied = await insertTransaction(new Date(boundary.transactionDate), `${boundary.id}z`);

      const served = [...firstPage];
      let next = nextLink(first);
      while (next) {
        const response = await getUrl(t, team, next);
        expect(response.statusCode).toBe(200);
        served.push(...(response.json() as TransactionBody[]));
        next = nextLink(response);
      }
      expect(served.map((row) => row.id)).toEqual(before.map((row) => row.id));

      const fresh = (await get('/api/banking/transactions', { limit: 9 })).json() as TransactionBody[];
      expect(fresh.map((row) => row.id)).toEqual([
        newest,
        ...before.slice(0, 6).map((row) => row.id),
        tied,
        boundary.id,
      ]);
    });
  });
});
