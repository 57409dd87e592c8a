import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { lockDataDir } from './data-dir-lock.js';
import { buildPendingIndexesConcurrently, type IndexOutcome, refuseInvalidIndexes } from './index-builds.js';
import * as schema from './schema.js';

/** The one database type the rest of the code sees, whichever engine is underneath. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A database or an open transaction: query functions take either, so services compose them. */
export type Queryable = Pick<Database, 'select' | 'insert' | 'update' | 'delete' | 'execute'>;
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

export interface DatabaseHandle {
  db: Database;
  engine: 'pglite' | 'postgres';
  /** How many connections the database may hold at once: the pool's size, or 1 for PGlite. */
  connections: number;
  migrate(options?: MigrateOptions): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface MigrateOptions {
  /**
   * PostgreSQL only: first build the indexes that pending migrations build on existing tables
   * with `CREATE INDEX CONCURRENTLY` (src/db/index-builds.ts), each outcome told here as it comes.
   */
  buildIndexesConcurrently?: (outcome: IndexOutcome) => void;
  /** PostgreSQL only: told once when another instance holds the migration lock and this one waits. */
  onLockBusy?: () => void;
}

export interface DatabaseOptions {
  /** A PostgreSQL server; when absent, an embedded PGlite database is used. */
  databaseUrl?: string | undefined;
  /** Where PGlite keeps its files; `memory://` for a throw-away database. */
  dataDir: string;
  poolSize?: number;
  /** Called with every statement sent (tests count the queries a request makes). */
  logQuery?: ((statement: string, params: unknown[]) => void) | undefined;
}

/** The project's `drizzle/` folder, found upwards from here (this file runs from src/ or dist/src/). */
function findMigrationsFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'drizzle', 'meta', '_journal.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('drizzle/ migrations folder not found');
    dir = parent;
  }
  return join(dir, 'drizzle');
}

const migrationsFolder = findMigrationsFolder();

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const logger = options.logQuery ? { logQuery: options.logQuery } : undefined;
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10, logger);
  return openPglite(options.dataDir, logger);
}

type QueryLogger = { logQuery(statement: string, params: unknown[]): void } | undefined;

/**
 * How long a query waits for one of the pool's connections (or for a new one to open) before it
 * fails as the database being unavailable (503 with `Retry-After`), rather than leave its request
 * waiting without end while every connection is busy.
 */
const POOL_WAIT_MS = 10_000;

/**
 * A connection whose network goes silent (a firewall or NAT that drops its state, a hung
 * pooler) leaves its query waiting for an answer that never comes, and a sync's transaction
 * holding the connection's row lock. TCP keep-alive probes after this much quiet let the kernel
 * find the socket dead (with Linux's default probes, about 11 minutes later), so the request
 * fails as unavailable instead of waiting for ever.
 */
const KEEP_ALIVE_AFTER_MS = 10_000;

/**
 * The server ends a session left idle inside a transaction this long, which frees the row locks
 * it held for the other instances even while its client cannot hear. A sync's transaction is idle
 * only while it waits for the bank (`PROVIDER_TIMEOUT_MS`, 15 s, per call).
 */
const IDLE_IN_TRANSACTION_MS = 10 * 60_000;

function openPostgres(connectionString: string, max: number, logger: QueryLogger): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: POOL_WAIT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEP_ALIVE_AFTER_MS,
    // A startup parameter of each session (behind PgBouncer, list it in its
    // `ignore_startup_parameters`).
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
  });
  // A client that loses its server must not end the process. An idle one errors on the pool,
  // which replaces it; one in use (inside a transaction, say) errors on itself as well as failing
  // its query, whose request answers 503, and is dropped by the pool when released.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = drizzleNodePg(pool, { schema, ...(logger ? { logger } : {}) }) as unknown as Database;
  return {
    db,
    engine: 'postgres',
    connections: max,
    migrate: (options) =>
      withMigrationLock(connectionString, options?.onLockBusy, async () => {
        if (options?.buildIndexesConcurrently) {
          await buildPendingIndexesConcurrently(
            connectionString,
            migrationsFolder,
            options.buildIndexesConcurrently,
          );
        }
        await refuseInvalidIndexes(connectionString, migrationsFolder);
        await migrateNodePg(drizzleNodePg(pool, { schema }), { migrationsFolder });
      }),
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => pool.end(),
  };
}

/** Any constant: the key of the advisory lock that lets one instance migrate at a time. */
const MIGRATION_LOCK_KEY = 7_254_319_001;

/** How often an instance asks again for the migration lock while another holds it. */
const MIGRATION_LOCK_POLL_MS = 200;

/**
 * Several instances starting together on one server would race to create the same tables; each
 * takes a session-level advisory lock on its own connection first, so they migrate one after
 * the other (the later ones find nothing to do). The lock is asked for again and again rather
 * than waited for: a session waiting on a lock holds a snapshot, and an index built
 * concurrently under the lock (`buildIndexesConcurrently`) waits for every older snapshot to
 * go, so a waiting instance and the holder would wait for each other through this process,
 * where PostgreSQL's deadlock detector cannot see it.
 */
async function withMigrationLock(
  connectionString: string,
  onLockBusy: (() => void) | undefined,
  migrate: () => Promise<void>,
) {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [
        MIGRATION_LOCK_KEY,
      ]);
      if (rows[0]?.locked) break;
      if (attempt === 0) onLockBusy?.();
      await setTimeout(MIGRATION_LOCK_POLL_MS);
    }
    await migrate();
  } finally {
    await client.end();
  }
}

async function openPglite(dataDir: string, logger: QueryLogger): Promise<DatabaseHandle> {
  // An in-memory database (`memory://`) is this process's alone; a directory must be taken.
  const release = !dataDir || dataDir.includes('://') ? async () => {} : await lockDataDir(dataDir);
  let client: PGlite;
  try {
    client = await PGlite.create(dataDir);
  } catch (error) {
    await release();
    throw error;
  }
  const db = drizzlePglite(client, { schema, ...(logger ? { logger } : {}) }) as unknown as Database;
  return {
    db,
    engine: 'pglite',
    connections: 1,
    migrate: async (options) => {
      // One process owns an embedded database: nothing else reads its tables while they index.
      if (options?.buildIndexesConcurrently)
        throw new Error('indexes are built concurrently on PostgreSQL only');
      await migratePglite(drizzlePglite(client, { schema }), { migrationsFolder });
    },
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: async () => {
      await client.close();
      await release();
    },
  };
}

/** The rows of a raw `execute` result; both drivers answer `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}
