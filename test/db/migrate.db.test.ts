import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase, rowsOf } from '../../src/db/client.js';
import { buildPendingIndexesConcurrently, refuseInvalidIndexes } from '../../src/db/index-builds.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const MIGRATIONS = join(import.meta.dirname, '../../drizzle');
const LIST_INDEXES_MIGRATION = '0007_list_indexes_type_prefix';
/** Indexes each migration from 0007 on builds: what a database migrated up to 0006 has pending. */
const PENDING_INDEXES_AFTER_0006 = 6 + 1;
/** The tag of the migration `withMigrationAfter` adds after the project's last one. */
const TEST_MIGRATION = `${String(
  (JSON.parse(readFileSync(join(MIGRATIONS, 'meta/_journal.json'), 'utf8')) as { entries: JournalEntry[] })
    .entries.length,
).padStart(4, '0')}_test`;
/** An index on a table that exists, as a migration after 0007 would build it. */
const TEAM_STATUS_INDEX =
  'CREATE INDEX IF NOT EXISTS "transactions_team_status_idx" ON "transactions" USING btree ("team_id","status");';

/** A copy of the project's migrations, its journal's entries as `edit` answers them; removed after `use`. */
async function withMigrationsFolder<T>(
  edit: (entries: JournalEntry[], folder: string) => Promise<JournalEntry[]>,
  use: (folder: string) => Promise<T>,
): Promise<T> {
  const folder = await mkdtemp(join(tmpdir(), 'obs-migrations-'));
  try {
    await cp(MIGRATIONS, folder, { recursive: true });
    const journalFile = join(folder, 'meta/_journal.json');
    const journal = JSON.parse(await readFile(journalFile, 'utf8')) as { entries: JournalEntry[] };
    journal.entries = await edit(journal.entries, folder);
    await writeFile(journalFile, JSON.stringify(journal));
    return await use(folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

interface JournalEntry {
  idx: number;
  version: string;
  when: number;
  tag: string;
  breakpoints: boolean;
}

/** Applies the migrations of `folder` to the server of `url`, as drizzle's migrator does at start. */
async function migrateFrom(url: string, folder: string) {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await migrate(drizzle(pool), { migrationsFolder: folder });
  } finally {
    await pool.end();
  }
}

/** The server of `url` migrated up to, not including, the migration tagged `before`. */
async function migrateUpTo(url: string, before: string) {
  await withMigrationsFolder(
    async (entries) => {
      const stop = entries.findIndex((entry) => entry.tag === before);
      expect(stop).toBeGreaterThan(0);
      return entries.slice(0, stop);
    },
    (folder) => migrateFrom(url, folder),
  );
}

/** The project's migrations and one more after them, made of `statements`. */
function withMigrationAfter<T>(statements: string[], use: (folder: string) => Promise<T>) {
  return withMigrationsFolder(async (entries, folder) => {
    const last = entries.at(-1) as JournalEntry;
    const tag = `${String(last.idx + 1).padStart(4, '0')}_test`;
    await writeFile(join(folder, `${tag}.sql`), statements.join('--> statement-breakpoint\n'));
    return [...entries, { ...last, idx: last.idx + 1, when: last.when + 1, tag }];
  }, use);
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

/** `check` on a new, empty database of the PostgreSQL server of DATABASE_URL, dropped after. */
async function withNewDatabase(check: (url: string, fresh: TestDatabase) => Promise<void>) {
  const fresh = await createTestDatabase();
  try {
    await check(fresh.env.DATABASE_URL ?? '', fresh);
  } finally {
    await fresh.drop();
  }
}

/** `check` through a handle on `url` (not migrated by opening it), closed after. */
async function withHandle(url: string, check: (database: DatabaseHandle) => Promise<void>) {
  const database = await openDatabase({ databaseUrl: url, dataDir: '', poolSize: 2 });
  try {
    await check(database);
  } finally {
    await database.close();
  }
}

/**
 * `check` on a new PostgreSQL database migrated up to 0006, whose pending indexes (0007's and
 * any later migration's) were then built as `migrate --build-indexes-concurrently` builds them
 * (the names of 0007's given), through a handle that has not migrated further.
 */
function withListIndexesBuiltAhead(
  check: (database: DatabaseHandle, built: string[], url: string) => Promise<void>,
) {
  return withNewDatabase(async (url) => {
    await migrateUpTo(url, LIST_INDEXES_MIGRATION);
    const outcomes = await buildPendingIndexesConcurrently(url, MIGRATIONS);
    expect(outcomes.map(({ outcome }) => outcome)).toEqual(Array(PENDING_INDEXES_AFTER_0006).fill('built'));
    const ofListIndexes = outcomes.filter(({ migration }) => migration === LIST_INDEXES_MIGRATION);
    expect(ofListIndexes).toHaveLength(6);
    const built = ofListIndexes.map((outcome) => outcome.index);
    await withHandle(url, (database) => check(database, built, url));
  });
}

/** `check` on a new PostgreSQL database migrated to the latest migration. */
function withMigratedDatabase(check: (database: DatabaseHandle, url: string) => Promise<void>) {
  return withNewDatabase((url) =>
    withHandle(url, async (database) => {
      await database.migrate();
      await check(database, url);
    }),
  );
}

describe('migrations', () => {
  it.runIf(process.env.DATABASE_URL)(
    'run once when several instances start on one server at the same time',
    () =>
      withNewDatabase(async (url) => {
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
      }),
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

  it('refuses to build indexes concurrently on the embedded database, which one process owns', async () => {
    const database = await openDatabase({ dataDir: 'memory://' });
    try {
      await expect(database.migrate({ buildIndexesConcurrently: () => {} })).rejects.toThrow(
        /PostgreSQL only/,
      );
    } finally {
      await database.close();
    }
  });

  it.runIf(process.env.DATABASE_URL)(
    'migrates a database whose 0007 indexes were built concurrently ahead of it, keeping those indexes',
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
        await expect(database.migrate()).rejects.toThrow(
          `invalid index ${first} (migration ${LIST_INDEXES_MIGRATION})`,
        );
        // Nothing of 0007 was applied: the old indexes are still there.
        const names = (await listIndexes(database)).map((index) => index.name);
        expect(names).toContain('transactions_team_date_idx');
      }),
  );

  it.runIf(process.env.DATABASE_URL)(
    'refuses to migrate over an index of any pending migration that a failed concurrent build left invalid',
    () =>
      withMigratedDatabase((database, url) =>
        withMigrationAfter(
          [
            TEAM_STATUS_INDEX,
            'CREATE INDEX IF NOT EXISTS "accounts_team_currency_idx" ON "accounts" USING btree ("team_id","currency");',
          ],
          async (folder) => {
            await database.db.execute(
              sql`create index concurrently "transactions_team_status_idx" on "transactions" ("team_id", "status")`,
            );
            await database.db.execute(
              sql`update pg_index set indisvalid = false where indexrelid = '"transactions_team_status_idx"'::regclass`,
            );
            await expect(refuseInvalidIndexes(url, folder)).rejects.toThrow(
              new RegExp(
                `^nothing was migrated: invalid index transactions_team_status_idx \\(migration ${TEST_MIGRATION}\\)\\. .* --build-indexes-concurrently\`, which builds it again`,
              ),
            );
            // Built again ahead, it is valid, and the migration may run.
            await buildPendingIndexesConcurrently(url, folder);
            await refuseInvalidIndexes(url, folder);
            await migrateFrom(url, folder);
          },
        ),
      ),
  );

  it.runIf(process.env.DATABASE_URL)(
    'refuses to migrate while an index of a pending migration is still being built concurrently, and says so',
    () =>
      withMigratedDatabase((_database, url) =>
        withMigrationAfter([TEAM_STATUS_INDEX], async (folder) => {
          // A writer's open transaction holds the build, invalid, at its start.
          const [writer, builder, watcher] = [url, url, url].map(
            (connectionString) => new pg.Client({ connectionString }),
          ) as [pg.Client, pg.Client, pg.Client];
          await Promise.all([writer.connect(), builder.connect(), watcher.connect()]);
          try {
            await writer.query('begin');
            await writer.query('update transactions set status = status where false');
            const build = builder.query(
              'create index concurrently "transactions_team_status_idx" on "transactions" ("team_id", "status")',
            );
            for (let tries = 0; ; tries++) {
              // Asked outside the writer's transaction, which sees the catalog as at its start.
              const found = await watcher.query(
                `select to_regclass('"transactions_team_status_idx"') as oid`,
              );
              if (found.rows[0]?.oid) break;
              if (tries > 100) throw new Error('the build did not start');
              await setTimeout(50);
            }
            await expect(refuseInvalidIndexes(url, folder)).rejects.toThrow(
              `invalid index transactions_team_status_idx (migration ${TEST_MIGRATION}, being built now)`,
            );
            await writer.query('rollback');
            await build;
            await refuseInvalidIndexes(url, folder);
          } finally {
            await Promise.all([writer.end(), builder.end(), watcher.end()]);
          }
        }),
      ),
  );

  it.runIf(process.env.DATABASE_URL)(
    'builds again, ahead of the migration, an 0007 index that a failed concurrent build left invalid',
    () =>
      withListIndexesBuiltAhead(async (database, [first], url) => {
        await database.db.execute(
          sql`update pg_index set indisvalid = false where indexrelid = ${first}::regclass`,
        );
        const before = await listIndexes(database);
        const outcomes = await buildPendingIndexesConcurrently(url, MIGRATIONS);
        expect(outcomes.map(({ index, outcome }) => `${index}: ${outcome}`)).toEqual(
          outcomes.map(({ index }) => `${index}: ${index === first ? 'rebuilt' : 'present'}`),
        );
        const after = await listIndexes(database);
        expect(after.every((index) => index.valid)).toBe(true);
        const oidOf = (indexes: typeof after, name = first) =>
          indexes.find((index) => index.name === name)?.oid;
        expect(oidOf(after)).not.toBe(oidOf(before));
        await database.migrate();
      }),
  );

  it.runIf(process.env.DATABASE_URL)(
    'builds nothing ahead on a database never migrated, nor on one already up to date',
    () =>
      withNewDatabase(async (url, fresh) => {
        expect(await buildPendingIndexesConcurrently(url, MIGRATIONS)).toEqual([]);
        await (await fresh.open()).close();
        expect(await buildPendingIndexesConcurrently(url, MIGRATIONS)).toEqual([]);
      }),
  );

  it.runIf(process.env.DATABASE_URL)(
    'leaves to the migration the indexes it cannot build ahead, and the migration then builds them',
    () =>
      withMigratedDatabase((database, url) =>
        withMigrationAfter(
          [
            'ALTER TABLE "transactions" ADD COLUMN "note" text;',
            'CREATE INDEX IF NOT EXISTS "transactions_note_idx" ON "transactions" USING btree ("note");',
            'CREATE INDEX "transactions_status_idx" ON "transactions" USING btree ("status");',
            'CREATE TABLE "notes" ("id" text PRIMARY KEY, "body" text);',
            'CREATE INDEX IF NOT EXISTS "notes_body_idx" ON "notes" USING btree ("body");',
            TEAM_STATUS_INDEX,
          ],
          async (folder) => {
            const outcomes = await buildPendingIndexesConcurrently(url, folder);
            expect(outcomes.map(({ index, outcome, reason }) => [index, outcome, reason])).toEqual([
              ['transactions_note_idx', 'left to the migration', 'column "note" does not exist'],
              ['transactions_status_idx', 'left to the migration', expect.stringMatching(/IF NOT EXISTS/)],
              ['notes_body_idx', 'left to the migration', expect.stringMatching(/pending migration/)],
              ['transactions_team_status_idx', 'built', undefined],
            ]);
            await migrateFrom(url, folder);
            const valid = rowsOf<{ name: string }>(
              await database.db.execute(
                sql`select c.relname as name from pg_index i join pg_class c on c.oid = i.indexrelid
                    where i.indisvalid and c.relname in
                      ('transactions_note_idx', 'transactions_status_idx', 'notes_body_idx', 'transactions_team_status_idx')
                    order by 1`,
              ),
            ).map((row) => row.name);
            expect(valid).toEqual([
              'notes_body_idx',
              'transactions_note_idx',
              'transactions_status_idx',
              'transactions_team_status_idx',
            ]);
          },
        ),
      ),
  );

  it.runIf(process.env.DATABASE_URL)(
    'stops at a concurrent build that fails, and drops the invalid index it leaves',
    () =>
      withMigratedDatabase(async (database, url) => {
        await database.db.execute(sql`insert into teams (id, name) values ('team_a', 'A'), ('team_b', 'B')`);
        await withMigrationAfter(
          ['CREATE UNIQUE INDEX IF NOT EXISTS "teams_only_one" ON "teams" USING btree ((1));'],
          async (folder) => {
            await expect(buildPendingIndexesConcurrently(url, folder)).rejects.toThrow(
              /teams_only_one concurrently failed: could not create unique index/,
            );
          },
        );
        const left = rowsOf<{ found: boolean }>(
          await database.db.execute(sql`select to_regclass('"teams_only_one"') is not null as found`),
        );
        expect(left).toEqual([{ found: false }]);
      }),
  );

  it.runIf(process.env.DATABASE_URL)(
    'holds an instance that starts while the indexes are built ahead until the migration is done, without holding up the builds',
    () =>
      withNewDatabase(async (url) => {
        await migrateUpTo(url, LIST_INDEXES_MIGRATION);
        // A writer's open transaction holds the first build at its start, long enough for an
        // instance to start meanwhile.
        const writer = new pg.Client({ connectionString: url });
        await writer.connect();
        await writer.query('begin');
        await writer.query(`update transactions set status = status where false`);
        const outcomes: string[] = [];
        const upgrade = withHandle(url, (database) =>
          database.migrate({ buildIndexesConcurrently: ({ outcome }) => outcomes.push(outcome) }),
        );
        // Asked outside the writer's transaction, which sees the server's activity as at its start.
        const watcher = new pg.Client({ connectionString: url });
        await watcher.connect();
        const building = async () =>
          rowsOf<{ n: number }>(
            await watcher.query(
              `select count(*)::int as n from pg_stat_activity
               where datname = current_database() and query like 'CREATE INDEX CONCURRENTLY%' and state = 'active'`,
            ),
          )[0]?.n === 1;
        await expect.poll(building, { timeout: 10_000 }).toBe(true);
        await watcher.end();
        let started = false;
        const instance = withHandle(url, async (database) => {
          await database.migrate();
          started = true;
        });
        await setTimeout(500);
        expect(started).toBe(false);
        await writer.query('commit');
        await writer.end();
        const done = Promise.all([upgrade, instance]);
        await expect(Promise.race([done, setTimeout(20_000, 'stuck')])).resolves.not.toBe('stuck');
        expect(outcomes).toEqual(Array(PENDING_INDEXES_AFTER_0006).fill('built'));
        await withHandle(url, async (database) => {
          const indexes = await listIndexes(database);
          expect(indexes).toHaveLength(6);
          expect(indexes.every((index) => index.valid)).toBe(true);
        });
      }),
  );
});
