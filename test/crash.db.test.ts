/**
 * `kill -9` of the real server process in the middle of a large sync, then a restart on the same
 * data: the crashed sync left nothing half-written, the connection's row lock went with the dead
 * process, and the next sync imports exactly the sandbox's deterministic history, once.
 *
 * The database is the one test/support/database.ts gives: PGlite in a data directory (whose
 * files the kill leaves mid-write, so the restart also proves the embedded engine recovers), or
 * a new database on the PostgreSQL server of DATABASE_URL.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../src/db/client.js';
import type { ConsentContext, ProviderTransaction } from '../src/providers/provider.js';
import { SandboxProvider } from '../src/providers/sandbox/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import type { Json, SyncBody } from './support/fixtures.js';
import { freePort, startServer, waitForReady } from './support/server-process.js';

const ADMIN_TOKEN = 'crash-test-admin-token';
/**
 * Big enough that a sync takes seconds, over the longest history the sandbox allows, so that few
 * transactions are young enough to change (book, or appear) while the test runs.
 */
const SIZE = { accounts: 10, transactionsPerAccount: 3_000, days: 3_650 };
const SYNC_KEY = 'crash-sync-1';

/**
 * How long the sync after the restart may take at most: it must not wait for a dead lock (the
 * dead request's Idempotency-Key is free within 20 s).
 */
const SYNC_BOUND_MS = 45_000;

/** When a successful sync read the bank: a successful sync always sets it. */
function syncedAt(answer: SyncBody): Date {
  expect(answer.lastSyncedAt).not.toBeNull();
  return new Date(String(answer.lastSyncedAt));
}

/**
 * What the sandbox holds for a connection at `at`, computed here from the provider itself with
 * the connection's consent and creation time and the instant the server's sync read at
 * (`lastSyncedAt`): its accounts and every transaction of each, as the first sync reads them.
 */
async function sandboxHoldings(consentId: string, connectedAt: Date, at: Date) {
  const provider = new SandboxProvider({ clock: () => at });
  const consent: ConsentContext = {
    teamId: 'team_crash',
    providerId: 'sandbox-gb',
    consentId,
    metadata: { sandbox: SIZE },
    connectedAt,
    state: null,
  };
  const holdings = new Map<string, ProviderTransaction[]>();
  const accounts = await provider.listAccounts(consent);
  for (const account of accounts) {
    const transactions: ProviderTransaction[] = [];
    let cursor: string | null = null;
    do {
      const page = await provider.listTransactions(consent, {
        providerAccountId: account.providerAccountId,
        from: null,
        to: at,
        cursor,
      });
      transactions.push(...page.transactions);
      cursor = page.nextCursor;
    } while (cursor);
    holdings.set(account.providerAccountId, transactions);
  }
  const balances = accounts.map((a) => `${a.providerAccountId}|${a.balanceMinor}|${a.availableBalanceMinor}`);
  return { keys: expectedKeys(holdings), balances };
}

/** A transaction as stored and as the sandbox gives it, for comparing the two exactly. */
const key = (
  account: string,
  t: { ref: string | null; status: string; amount: number | string; at: number },
) => `${account}|${t.ref}|${t.status}|${t.amount}|${t.at}`;

function expectedKeys(holdings: Map<string, ProviderTransaction[]>): string[] {
  return [...holdings.entries()]
    .flatMap(([account, transactions]) =>
      transactions.map((t) =>
        key(account, {
          ref: t.providerTransactionId,
          status: t.status,
          amount: t.amountMinor,
          at: t.transactionDate.getTime(),
        }),
      ),
    )
    .sort();
}

describe('kill -9 during a large sync', () => {
  let database: TestDatabase;
  let dataDir: string;
  let running: ReturnType<typeof startServer> | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'obs-crash-'));
    database = await createTestDatabase({ dataDir });
  });
  afterAll(async () => {
    if (running && running.child.exitCode === null && running.child.signalCode === null) {
      running.child.kill('SIGKILL');
      await running.exited;
    }
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('leaves nothing half-written; after a restart the connection syncs at once, exactly the sandbox totals, once', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = {
      ...database.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_MAX: '1000000',
    };
    running = startServer(env);
    await waitForReady(base, running.child, running.output);

    const json = { 'content-type': 'application/json' };
    const teamAnswer = await fetch(`${base}/api/admin/teams`, {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ name: 'Crash' }),
    });
    expect(teamAnswer.status).toBe(201);
    const team = (await teamAnswer.json()) as { teamId: string; apiKey: string };
    const auth = { ...json, authorization: `Bearer ${team.apiKey}` };
    const post = (path: string, body: Json, signal?: AbortSignal, idempotencyKey?: string) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: idempotencyKey ? { ...auth, 'idempotency-key': idempotencyKey } : auth,
        body: JSON.stringify({ teamId: team.teamId, ...body }),
        ...(signal ? { signal } : {}),
      });
    const get = async (path: string) => {
      const response = await fetch(`${base}${path}`, { headers: auth });
      expect(response.status, path).toBe(200);
      return response.json();
    };
    const connect = async (consentId: string) => {
      const response = await post('/api/banking/connect', {
        provider: 'sandbox',
        providerId: 'sandbox-gb',
        consentId,
        metadata: { sandbox: SIZE },
      });
      expect(response.status).toBe(201);
      return (await response.json()) as { id: string; createdAt: string };
    };
    const sync = async (connectionId: string, signal?: AbortSignal, idempotencyKey?: string) => {
      const response = await post('/api/banking/sync', { connectionId }, signal, idempotencyKey);
      const body = await response.text();
      expect(response.status, body.slice(0, 500)).toBe(200);
      return JSON.parse(body) as SyncBody;
    };
    const transactionCount = async (connectionId: string) => {
      const accounts = (await get(
        `/api/banking/accounts?teamId=${team.teamId}&connectionId=${connectionId}`,
      )) as { id: string }[];
      let total = 0;
      for (const account of accounts) {
        const details = (await get(`/api/banking/accounts/${account.id}?teamId=${team.teamId}`)) as {
          transactionCount: number;
        };
        total += details.transactionCount;
      }
      return { accounts: accounts.length, transactions: total };
    };

    // A committed sync of the same size first: how long a sync takes on this machine, and data
    // the crash must not lose.
    const reference = await connect('crash-reference');
    const startedAt = Date.now();
    const referenceSync = await sync(reference.id);
    const fullSyncMs = Date.now() - startedAt;
    const total = SIZE.accounts * SIZE.transactionsPerAccount;
    expect(referenceSync.sync.transactionsAdded).toBeGreaterThanOrEqual(total);
    const referenceCounts = await transactionCount(reference.id);

    const victim = await connect('crash-victim');
    let settled = false;
    // Sent with an Idempotency-Key, retried below with the same key as a client would.
    const inFlight = post('/api/banking/sync', { connectionId: victim.id }, undefined, SYNC_KEY).then(
      (response) => {
        settled = true;
        return response.status;
      },
      (error: unknown) => {
        settled = true;
        return error;
      },
    );
    await new Promise((resolve) => setTimeout(resolve, fullSyncMs / 2));
    if (database.engine === 'postgres') {
      // Really in progress: the sync's transaction has written rows that are not committed.
      const client = new pg.Client({ connectionString: database.env.DATABASE_URL });
      await client.connect();
      try {
        const writing = await client.query(
          `select count(*)::int as n from pg_stat_activity
           where datname = current_database() and pid <> pg_backend_pid() and backend_xid is not null`,
        );
        expect(writing.rows[0].n).toBeGreaterThanOrEqual(1);
      } finally {
        await client.end();
      }
    }
    expect(settled, 'the sync ended before the kill: make SIZE larger').toBe(false);
    running.child.kill('SIGKILL');
    expect(await running.exited).toBe('SIGKILL');
    expect(await inFlight).toBeInstanceOf(Error);

    running = startServer(env);
    await waitForReady(base, running.child, running.output);

    // The crashed sync's transaction is gone whole; the reference's committed one is all there.
    expect(await transactionCount(victim.id)).toEqual({ accounts: 0, transactions: 0 });
    expect(await transactionCount(reference.id)).toEqual(referenceCounts);
    const [victimView] = (
      (await get(`/api/banking/connections?teamId=${team.teamId}`)) as {
        id: string;
        lastSyncedAt: string | null;
        lastSyncStatus: string | null;
      }[]
    ).filter((connection) => connection.id === victim.id);
    expect(victimView).toMatchObject({ lastSyncedAt: null, lastSyncStatus: null });

    // The row lock died with the process, and the dead request's hold on its Idempotency-Key
    // runs out: the retry with the same key runs (bounded), and is exact.
    const resumedAt = Date.now();
    const resumed = await sync(victim.id, AbortSignal.timeout(SYNC_BOUND_MS), SYNC_KEY);
    expect(Date.now() - resumedAt).toBeLessThan(SYNC_BOUND_MS);
    const connectedAt = new Date(victim.createdAt);
    const expected = await sandboxHoldings('crash-victim', connectedAt, syncedAt(resumed));
    expect(resumed.sync).toEqual({
      accountsAdded: SIZE.accounts,
      accountsUpdated: 0,
      transactionsAdded: expected.keys.length,
      transactionsUpdated: 0,
      transactionsRemoved: 0,
    });

    // A further sync reports zeros: the sandbox gives the same at its instant, unless its clock
    // moved something on meanwhile (a young transaction booking or a new one, rarely, with this
    // size); then the sync reports exactly that.
    const again = await sync(victim.id);
    const later = await sandboxHoldings('crash-victim', connectedAt, syncedAt(again));
    const refOf = (k: string) => k.split('|').slice(0, 2).join('|');
    const earlierRefs = new Set(expected.keys.map(refOf));
    const laterRefs = new Set(later.keys.map(refOf));
    const unchanged = new Set(expected.keys);
    const sameBalances = new Set(expected.balances);
    expect(again.sync).toEqual({
      accountsAdded: 0,
      accountsUpdated: later.balances.filter((b) => !sameBalances.has(b)).length,
      transactionsAdded: later.keys.filter((k) => !earlierRefs.has(refOf(k))).length,
      transactionsUpdated: later.keys.filter((k) => earlierRefs.has(refOf(k)) && !unchanged.has(k)).length,
      transactionsRemoved: expected.keys.filter((k) => !laterRefs.has(refOf(k))).length,
    });

    // Stopped cleanly, the stored rows themselves: each of the sandbox's transactions exactly
    // once, as it gives them, and each account's counter equal to its rows.
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    const handle = await database.open();
    try {
      const stored = rowsOf<{
        account: string;
        ref: string | null;
        status: string;
        amount: string;
        at: Date | string;
      }>(
        await handle.db.execute(sql`
          select a.provider_account_id as account, t.provider_transaction_id as ref, t.status,
                 t.amount_minor::text as amount, t.transaction_date as at
          from transactions t join accounts a on a.team_id = t.team_id and a.id = t.account_id
          where t.connection_id = ${victim.id}`),
      );
      const storedKeys = stored
        .map((row) => key(row.account, { ...row, at: new Date(row.at).getTime() }))
        .sort();
      expect(new Set(stored.map((row) => `${row.account}|${row.ref}`)).size).toBe(stored.length);
      expect(storedKeys).toEqual(later.keys);
      const counters = rowsOf<{ counted: number; rows: number }>(
        await handle.db.execute(sql`
          select a.transaction_count::int as counted,
                 (select count(*)::int from transactions t
                  where t.team_id = a.team_id and t.account_id = a.id) as rows
          from accounts a where a.connection_id = ${victim.id}`),
      );
      expect(counters).toHaveLength(SIZE.accounts);
      for (const { counted, rows } of counters) expect(counted).toBe(rows);
    } finally {
      await handle.close();
    }
  });
});
