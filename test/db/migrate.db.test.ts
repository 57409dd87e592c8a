import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase, rowsOf } from '../../src/db/client.js';
import { createTestDatabase } from '../support/database.js';

const MIGRATIONS = join(import.meta.dirname, '../../drizzle');
const LIST_INDEXES_MIGRATION = '0007_list_indexes_type_prefix';

/** The server of `url` migrated up to, not including, the migration tagged `before`. */
async function migrateUpTo(url: string, before: string) {
  const folder = await mkdtemp(join(tmpdir(), 'obs-migrations-'));
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await cp(MIGRATIONS, folder, { recursive: true });
    const journal = JSON.parse(await readFile(join(MIGRATIONS, 'meta/_journal.json'), 'utf8')) as {
      entries: { tag: string }[];
    };
    const stop = journal.entries.findIndex((entry) => entry.tag === before);
    expect(stop).toBeGreaterThan(0);
    journal.entries = journal.entries.slice(0, stop);
    await writeFile(join(folder, 'meta/_journal.json'), JSON.stringify(journal));
    await migrate(drizzle(pool), { migrationsFolder: folder });
  } finally {
    await pool.end();
    await rm(folder, { recursive: true, force: true });
  }
}

/**
 * Migration 0007's index builds as an operator runs them ahead of the upgrade (README,
 * Operations): each `CREATE INDEX` of the file, made `CONCURRENTLY`, outside a transaction.
 */
async function buildListIndexesConcurrently(url: string) {
  const file = await readFile(join(MIGRATIONS, `${LIST_INDEXES_MIGRATION}.sql`), 'utf8');
  const builds = file
    .split('--> statement-breakpoint')
    .map((statement) => statement.trim())
    .filter((statement) => statement.startsWith('CREATE INDEX'))
    .map((statement) =>
      statement.replace(/^CREATE INDEX (IF NOT EXISTS )?/, 'CREATE INDEX CONCURRENTLY IF NOT EXISTS '),
    );
  expect(builds).toHaveLength(6);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const build of builds) await client.query(build);
  } finally {
    await client.end();
  }
  return builds.map((build) => /"([^"]+)"/.exec(build)?.[1] ?? '');
}

/** The transactions table's list indexes: name, object id (a rebuilt index gets a new one), validity. */
async function listIndexes(database: DatabaseHandle) {
  return rowsOf<{ name: string; oid: number; valid: boolean }>(
    await database.db.execute(
      sql`select c.relname as name, c.oid::int as oid, i.indisvalid as valid
          from pg_index i join pg_class c on c.oid = i.indexrelid
          where i.indrelid = 'transactions'::regclass and c.relname like 'transactions_team_%date_idx'
          order by 1`,
    ),
  );
}

/**
 * `check` on a new PostgreSQL database migrated up to 0006, whose 0007 indexes were then built
 * concurrently (their names given), through a handle that has not migrated further.
 */
async function withListIndexesBuiltAhead(
  check: (database: DatabaseHandle, built: string[]) => Promise<void>,
) {
  const fresh = await createTestDatabase();
  try {
    const url = fresh.env.DATABASE_URL ?? '';
    await migrateUpTo(url, LIST_INDEXES_MIGRATION);
    const built = await buildListIndexesConcurrently(url);
    const database = await openDatabase({ databaseUrl: url, dataDir: '', poolSize: 2 });
    try {
      await check(database, built);
    } finally {
      await database.close();
    }
  } finally {
    await fresh.drop();
  }
}

describe('migrations', () => {
  it.runIf(process.env.DATABASE_URL)(
    'run once when several instances start on one server at the same time',
    async () => {
      const fresh = await createTestDatabase();
      try {
        const url = fresh.env.DATABASE_URL ?? '';
        const instances = await Promise.all(
          [1, 2, 3].map(() => openDatabase({ databaseUrl: url, dataDir: '', poolSize: 2 })),
        );
        await Promise.all(instances.map((instance) => instance.migrate()));
        const [first] = instances;
        const applied = rowsOf<{ n: number }>(
          await (first?.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`) ??
            Promise.resolve({ rows: [] })),
        );
        expect(applied[0]?.n).toBeGreaterThanOrEqual(4);
        await Promise.all(instances.map((instance) => instance.close()));
      } finally {
        await fresh.drop();
      }
    },
  );

  it('applies every migration to a new embedded database, and again changes nothing', async () => {
    const database = await openDatabase({ dataDir: 'memory://' });
    await database.migrate();
    await database.migrate();
    const tables = rowsOf<{ name: string }>(
      await database.db.execute(
        sql`select table_name as name from information_schema.tables where table_schema = 'public' order by 1`,
      ),
    ).map((row) => row.name);
    expect(tables).toEqual([
      'accounts',
      'api_keys',
      'audit_events',
      'connections',
      'consent_references',
      'consents',
      'idempotency_keys',
      'teams',
      'transactions',
      'webhook_deliveries',
      'webhook_endpoints',
      'webhook_events',
    ]);
    await database.close();
  });

  it.runIf(process.env.DATABASE_URL)(
    'migrates a database whose 0007 indexes were built concurrently beforehand, keeping those indexes',
    () =>
      withListIndexesBuiltAhead(async (database, built) => {
        const before = await listIndexes(database);
        await database.migrate();
        const after = await listIndexes(database);
        // The old five are gone, and the six built ahead are the very objects kept, all valid.
        expect(after.map((index) => index.name).sort()).toEqual([...built].sort());
        expect(after.every((index) => index.valid)).toBe(true);
        const ahead = before.filter((index) => built.includes(index.name));
        expect(after.map((index) => `${index.name}:${index.oid}`).sort()).toEqual(
          ahead.map((index) => `${index.name}:${index.oid}`).sort(),
        );
      }),
  );

  it.runIf(process.env.DATABASE_URL)(
    'refuses to migrate over an 0007 index that a failed concurrent build left invalid',
    () =>
      withListIndexesBuiltAhead(async (database, [first]) => {
        // What a CREATE INDEX CONCURRENTLY that fails part-way leaves behind (needs a superuser).
        await database.db.execute(
          sql`update pg_index set indisvalid = false where indexrelid = ${first}::regclass`,
        );
        await expect(database.migrate()).rejects.toThrow(/invalid/);
        // Nothing of 0007 was applied: the old indexes are still there.
        const names = (await listIndexes(database)).map((index) => index.name);
        expect(names).toContain('transactions_team_date_idx');
      }),
  );
});
