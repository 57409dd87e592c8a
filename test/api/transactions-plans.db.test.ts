import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, rowsOf } from '../../src/db/client.js';
import { encodeCursor } from '../../src/http/cursor.js';
import { connectSandbox, startTestApp, type Team, type TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/database.js';
import { type AccountBody, listAccounts, syncConnection } from '../support/fixtures.js';

/** A node of PostgreSQL's `EXPLAIN (FORMAT JSON)`, with the keys read here. */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Filter?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

function* nodesOf(node: PlanNode): Generator<PlanNode> {
  yield node;
  for (const child of node.Plans ?? []) yield* nodesOf(child);
}

/** A plan in one line, each node with `detail`, for a failure's message. */
const planLine = (nodes: PlanNode[], detail: keyof PlanNode) =>
  nodes.map((node) => [node['Node Type'], node['Index Name'], node[detail]].join(' ')).join(' / ');

/** A bound value written as a SQL literal, for `EXECUTE`. */
const literal = (value: unknown) => (value === null ? 'null' : `'${String(value).replaceAll("'", "''")}'`);

const ROWS = 20_000;
// A page that is a small part of the history, as on a team with years of it.
const PAGE = 20;
const CATEGORIES = ['groceries', 'eating_out', 'transport', 'bills', 'income', 'travel', null];

/**
 * Every combination of the list's filters is an index scan in the list's order whose equality
 * filters are a prefix of the index (one scan per type, merged in order, when no type is asked):
 * no sort, no row fetched only to be thrown away, and a combination that matches nothing is a
 * descent to an empty range, however long the history (the figures at 1,000,000 rows are in
 * docs/BENCHMARKS.md).
 */
describe('transactions list plans: every filter combination served by the prefix of an index', () => {
  let t: TestApp;
  let team: Team;
  let accounts: AccountBody[];
  let statements: { text: string; values: unknown[] }[] = [];

  beforeAll(async () => {
    const testDatabase = await createTestDatabase();
    const handle = await openDatabase({
      databaseUrl: testDatabase.env.DATABASE_URL,
      dataDir: testDatabase.env.DATA_DIR ?? 'memory://',
      poolSize: 2,
      logQuery: (text, values) => {
        if (/from "transactions"/.test(text)) statements.push({ text, values });
      },
    });
    await handle.migrate();
    t = await startTestApp({ testDatabase: { ...testDatabase, open: async () => handle } });
    team = await t.createTeam('plans');
    const client = t.as(team);
    for (const providerId of ['sandbox-gb', 'sandbox-eu']) {
      const { id } = await connectSandbox(client, team, {
        providerId,
        metadata: { sandbox: { accounts: 2, transactionsPerAccount: 5, days: 10 } },
      });
      await syncConnection(t, team, id);
    }
    accounts = await listAccounts(t, team);
    expect(new Set(accounts.map((account) => account.connectionId)).size).toBe(2);
    // A history long enough that PostgreSQL plans as it would for a real team: every category
    // but `income` is DEBIT only, so a category with type=CREDIT matches nothing.
    const ids = accounts.map((account) => account.id);
    await t.database.db.execute(sql`
      insert into transactions (team_id, id, account_id, connection_id, provider_transaction_id,
        amount_minor, currency, description, transaction_date, type, status, category, created_at, updated_at)
      select ${team.teamId}, 'txn_plan_' || g, a.id, a.connection_id, 'plan-' || g, 100 + g, 'GBP', 'PLAN',
        now() - make_interval(mins => g), case when c.category = 'income' then 'CREDIT' else 'DEBIT' end,
        'BOOKED', c.category, now(), now()
      from generate_series(1, ${ROWS}) g
      join accounts a on a.team_id = ${team.teamId}
        and a.id = (${sql.param(ids)}::text[])[1 + g % ${ids.length}]
      cross join lateral (select (${sql.param(CATEGORIES)}::text[])[1 + (g / 7) % ${CATEGORIES.length}] as category) c`);
    // CREDIT rows (income among them) and travel are the connection of `account()` alone, so the
    // other connection, or one of its accounts, with either matches nothing. VACUUM clears the
    // row versions the update leaves, whose index entries a scan would otherwise still visit.
    await t.database.db.execute(sql`
      update transactions set type = 'DEBIT',
        category = case category when 'income' then 'groceries' when 'travel' then 'transport' else category end
      where team_id = ${team.teamId} and connection_id <> ${account().connectionId}
        and (type = 'CREDIT' or category in ('income', 'travel'))`);
    await t.database.db.execute(sql`vacuum analyze transactions`);
  });
  afterAll(() => t.close());

  /**
   * The plan of the list statement the service sent for `query`, generic or with its values;
   * with `analyze`, as run, with the pages it read; with `unforced`, as PostgreSQL chooses it.
   */
  async function listPlan(
    query: Record<string, string>,
    plan: 'generic' | 'custom',
    { analyze = false, unforced = false } = {},
  ) {
    statements = [];
    const response = await t.as(team).get('/api/banking/transactions', {
      teamId: team.teamId,
      limit: PAGE,
      ...query,
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(statements).toHaveLength(1);
    const { text, values } = statements[0] as (typeof statements)[number];
    const db = t.database.db;
    // One transaction, so the setting and the statement stay on one pooled connection.
    return db.transaction(async (tx) => {
      await tx.execute(sql.raw(`set local plan_cache_mode = force_${plan}_plan`));
      // On a history this short PostgreSQL may rightly prefer reading it all and sorting; at a
      // million rows it takes the ordered index scan (the plans in docs/BENCHMARKS.md). What is
      // asked here is whether such a scan exists for the combination, so the other ways are
      // priced out.
      for (const method of unforced ? [] : ['seqscan', 'bitmapscan', 'sort', 'incremental_sort']) {
        await tx.execute(sql.raw(`set local enable_${method} = off`));
      }
      await tx.execute(sql.raw(`prepare plan_probe as ${text}`));
      try {
        const result = await tx.execute(
          sql.raw(
            `explain (${analyze ? 'analyze, buffers, ' : ''}format json) execute plan_probe(${values.map(literal).join(', ')})`,
          ),
        );
        const cell = Object.values(rowsOf<Record<string, unknown>>(result)[0] ?? {})[0];
        const [document] = (typeof cell === 'string' ? JSON.parse(cell) : cell) as [{ Plan: PlanNode }];
        return document.Plan;
      } finally {
        await tx.execute(sql.raw('deallocate plan_probe'));
      }
    });
  }

  const account = () => accounts[1] as AccountBody;
  const otherAccount = () =>
    accounts.find((other) => other.connectionId !== account().connectionId) as AccountBody;
  const otherConnection = () => otherAccount().connectionId;
  const equalities: Record<string, () => Record<string, string>> = {
    accountId: () => ({ accountId: account().id }),
    connectionId: () => ({ connectionId: account().connectionId }),
    'connectionId of another connection': () => ({ connectionId: otherConnection() }),
    category: () => ({ category: 'groceries' }),
    type: () => ({ type: 'CREDIT' }),
  };
  const ranges: Record<string, () => Record<string, string>> = {
    'no range': () => ({}),
    'from and to': () => ({
      from: new Date(Date.now() - 3 * 86_400_000).toISOString(),
      to: new Date(Date.now() - 86_400_000).toISOString(),
    }),
    'a cursor': () => ({
      cursor: encodeCursor({ at: new Date(Date.now() - 86_400_000).toISOString(), id: 'txn_plan_5' }),
    }),
  };
  // Every subset of the equality filters (an account's connection and another's are not used
  // together), with each kind of range.
  const names = Object.keys(equalities);
  const cases: [string, string, () => Record<string, string>][] = [];
  for (let mask = 0; mask < 1 << names.length; mask++) {
    const chosen = names.filter((_, i) => mask & (1 << i));
    if (chosen.filter((name) => name.startsWith('connectionId')).length > 1) continue;
    for (const [range, bounds] of Object.entries(ranges)) {
      const query = () => Object.assign({}, ...chosen.map((name) => equalities[name]?.()), bounds());
      cases.push([chosen.join(' + ') || 'no filter', range, query]);
    }
  }

  for (const plan of ['generic', 'custom'] as const) {
    it.each(cases)(
      `${plan} plan: %s, %s: an index scan per type with every filter on the index, no sort`,
      async (filters, _range, query) => {
        const nodes = [...nodesOf(await listPlan(query(), plan))];
        const shown = planLine(nodes, 'Filter');
        const scans = nodes.filter((node) => node['Relation Name'] === 'transactions');
        // A page of one type reads its range; of both, the two ranges merged in order.
        expect(scans, shown).toHaveLength(filters.includes('type') ? 1 : 2);
        for (const scan of scans) {
          expect(scan['Node Type'], shown).toBe('Index Scan');
          expect(scan['Index Name'], shown).toMatch(/^transactions_team_\w+_idx$/);
          expect(scan.Filter, shown).toBeUndefined();
        }
        const types = nodes.map((node) => node['Node Type']);
        if (scans.length > 1) expect(types, shown).toContain('Merge Append');
        expect(types, shown).not.toContain('Sort');
        expect(types, shown).not.toContain('Incremental Sort');
      },
    );
  }

  // Combinations whose filters each match rows, and together none.
  const empty: Record<string, () => Record<string, string>> = {
    'a category and a type it never has': () => ({ category: 'groceries', type: 'CREDIT' }),
    "a connection and a category only the other's accounts have": () => ({
      connectionId: otherConnection(),
      category: 'travel',
    }),
    'a connection and a type only the other has': () => ({ connectionId: otherConnection(), type: 'CREDIT' }),
    "an account and a type only the other connection's accounts have": () => ({
      accountId: otherAccount().id,
      type: 'CREDIT',
    }),
    'an account, a category and a type it never has': () => ({
      accountId: account().id,
      category: 'travel',
      type: 'CREDIT',
    }),
    'a connection, a category and a type': () => ({
      connectionId: otherConnection(),
      category: 'income',
      type: 'CREDIT',
    }),
    "an account and another connection's id": () => ({
      accountId: account().id,
      connectionId: otherConnection(),
    }),
  };
  // A descent of one index per type, the account looked up once, the accounts and connections
  // joined to nothing: a handful of pages. Walking the 2,800 index entries of a category, or
  // the 5,000 of an account, reads more than twice as many.
  const EMPTY_PAGE_BLOCKS = 12;

  for (const plan of ['generic', 'custom'] as const) {
    it.each(Object.entries(empty))(
      `${plan} plan: %s: an empty page read from a few index pages, not a walk of the history`,
      async (_name, query) => {
        const root = await listPlan(query(), plan, { analyze: true });
        const nodes = [...nodesOf(root)];
        const shown = planLine(nodes, 'Shared Hit Blocks');
        expect(root['Actual Rows'], shown).toBe(0);
        const blocks = (root['Shared Hit Blocks'] ?? 0) + (root['Shared Read Blocks'] ?? 0);
        expect(blocks, shown).toBeLessThanOrEqual(EMPTY_PAGE_BLOCKS);
      },
    );
  }

  it.each(['generic', 'custom'] as const)(
    '%s plan: with no statistics on accounts and connections, the first page still reads only its rows',
    async (plan) => {
      // A new deployment: autovacuum never analyses a table of a few rows, so PostgreSQL
      // guesses one account and one connection for the team.
      const db = t.database.db;
      await db.execute(
        sql`delete from pg_statistic where starelid in ('accounts'::regclass, 'connections'::regclass)`,
      );
      await db.execute(
        sql`update pg_class set reltuples = -1, relpages = 0 where relname in ('accounts', 'connections')`,
      );
      try {
        const nodes = [...nodesOf(await listPlan({}, plan, { analyze: true, unforced: true }))];
        const shown = planLine(nodes, 'Actual Rows');
        const scans = nodes.filter((node) => node['Relation Name'] === 'transactions');
        // Each type's range is read up to the page and one more row, at most.
        for (const scan of scans) {
          const rows = (scan['Actual Rows'] ?? 0) * (scan['Actual Loops'] ?? 1);
          expect(rows, shown).toBeLessThanOrEqual(PAGE + 1);
        }
        expect(
          nodes.map((node) => node['Node Type']),
          shown,
        ).not.toContain('Sort');
      } finally {
        await db.execute(sql`analyze accounts`);
        await db.execute(sql`analyze connections`);
      }
    },
  );
});
