import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';

/**
 * `migrate --build-indexes-concurrently`: the indexes that pending migrations build on tables
 * that already exist, built first with `CREATE INDEX CONCURRENTLY`, which does not block reads
 * or writes. The migrator runs each file in a transaction, where PostgreSQL does not allow a
 * concurrent build, so a migration's own `CREATE INDEX` locks the table while it builds (11.6 s
 * for the 1,000,000 rows of migration 0007 on a 2-core VM, docs/DECISIONS.md). Written
 * `IF NOT EXISTS`, the migration then keeps the index built ahead.
 *
 * What cannot be built ahead is left to the migration, and said: an index not written
 * `IF NOT EXISTS` (the migration would fail on the one built ahead), one on a table or column
 * that a pending migration creates (empty, or not there yet).
 */

/** What became of one index that a pending migration builds. */
export interface IndexOutcome {
  migration: string;
  index: string;
  table: string;
  outcome: 'built' | 'rebuilt' | 'present' | 'left to the migration';
  /** Why it is left to the migration. */
  reason?: string;
  /** How long the build took. */
  ms?: number;
}

/**
 * The builds, in the order of the migrations and their statements, on a connection of their
 * own. Run under the migration lock (`migrate({ buildIndexesConcurrently })`, src/db/client.ts),
 * so that no instance migrates while they build.
 */
export async function buildPendingIndexesConcurrently(
  connectionString: string,
  migrationsFolder: string,
  onOutcome: (outcome: IndexOutcome) => void = () => {},
): Promise<IndexOutcome[]> {
  return withClient(connectionString, async (client) => {
    // A build of a large table may take minutes: a server-wide limit meant for requests must
    // not cancel it half-way (and leave an invalid index).
    await client.query('set statement_timeout = 0');
    const outcomes: IndexOutcome[] = [];
    for (const { migration, build } of await pendingIndexBuilds(client, migrationsFolder)) {
      const outcome = { migration, ...(await buildAhead(client, build)) };
      outcomes.push(outcome);
      onOutcome(outcome);
    }
    return outcomes;
  });
}

/** A migration refused over invalid indexes: its message says what to do, for an operator. */
export class InvalidIndexesError extends Error {}

/**
 * Refuses to migrate while an index that a pending migration builds `IF NOT EXISTS` is there but
 * invalid: what a concurrent build leaves when it fails or its process is stopped mid-way. The
 * migration would keep it, and the planner never uses an invalid index, so the reads it serves
 * would go on without it, unnoticed. Run under the migration lock, before the migrator.
 */
export async function refuseInvalidIndexes(
  connectionString: string,
  migrationsFolder: string,
): Promise<void> {
  await withClient(connectionString, async (client) => {
    const invalid: string[] = [];
    for (const { migration, build } of await pendingIndexBuilds(client, migrationsFolder)) {
      if (build.ifNotExists && (await indexState(client, build.index)) === 'invalid') {
        const building = await beingBuilt(client, build.index);
        invalid.push(`${build.index} (migration ${migration}${building ? ', being built now' : ''})`);
      }
    }
    if (invalid.length > 0) {
      const one = invalid.length === 1;
      throw new InvalidIndexesError(
        `nothing was migrated: invalid ${one ? 'index' : 'indexes'} ${invalid.join(', ')}. An index is ` +
          'invalid while a concurrent build runs, and after one that failed or was stopped: wait for ' +
          `the build, or run \`npm run migrate -- --build-indexes-concurrently\`, which builds ${one ? 'it' : 'them'} ` +
          'again and migrates.',
      );
    }
  });
}

/** `use` on a connection of its own to the server of `connectionString`, closed after. */
async function withClient<T>(connectionString: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** A migration's `CREATE INDEX`, and the same build made concurrent. */
export interface IndexBuild {
  index: string;
  /** The table as the statement names it (quoted, perhaps with its schema). */
  table: string;
  ifNotExists: boolean;
  concurrentStatement: string;
}

const CREATE_INDEX =
  /^CREATE\s+(UNIQUE\s+)?INDEX\s+(CONCURRENTLY\s+)?(IF\s+NOT\s+EXISTS\s+)?"([^"]+)"\s+ON\s+(?:ONLY\s+)?((?:"[^"]+"\.)?"[^"]+")/i;

/** The index build of one migration statement, if it is one (drizzle-kit quotes every name). */
export function indexBuildOf(statement: string): IndexBuild | undefined {
  const text = statement.replace(/^(\s*--[^\n]*\n)*\s*/, '').trim();
  const match = CREATE_INDEX.exec(text);
  // A statement already concurrent cannot run in the migration's transaction in the first place.
  if (!match || match[2]) return undefined;
  const [head, unique = '', , ifNotExists, index = '', table = ''] = match;
  const rest = text.slice(head.length).replace(/;\s*$/, '');
  return {
    index,
    table,
    ifNotExists: Boolean(ifNotExists),
    concurrentStatement: `CREATE ${unique.toUpperCase()}INDEX CONCURRENTLY IF NOT EXISTS "${index}" ON ${table}${rest}`,
  };
}

/** An entry of drizzle-kit's journal (`meta/_journal.json`). */
interface JournalEntry {
  idx: number;
  tag: string;
  /** When it was generated (ms); the migrator records it as `created_at` once applied. */
  when: number;
}

interface Migration {
  tag: string;
  /** Its SQL split at drizzle-kit's breakpoints, as the migrator runs it. */
  statements: string[];
}

/** The migrations of `migrationsFolder` whose journal entry `keep` accepts, in the journal's order. */
export async function readMigrations(
  migrationsFolder: string,
  keep: (entry: JournalEntry) => boolean,
): Promise<Migration[]> {
  const journal = JSON.parse(await readFile(join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as {
    entries: JournalEntry[];
  };
  return Promise.all(
    journal.entries.filter(keep).map(async ({ tag }) => ({
      tag,
      statements: (await readFile(join(migrationsFolder, `${tag}.sql`), 'utf8')).split(
        '--> statement-breakpoint',
      ),
    })),
  );
}

/**
 * The migrations drizzle's migrator would apply, in order: those newer than the last applied
 * (its rule). None on a database never migrated: its tables are yet to be made, and empty.
 */
async function pendingMigrations(client: pg.Client, migrationsFolder: string): Promise<Migration[]> {
  if (!(await exists(client, 'drizzle.__drizzle_migrations'))) return [];
  const { rows } = await client.query<{ last: string | null }>(
    'select max(created_at)::text as last from drizzle.__drizzle_migrations',
  );
  const last = rows[0]?.last;
  if (last == null) return [];
  return readMigrations(migrationsFolder, (entry) => entry.when > Number(last));
}

/** Every index build of the pending migrations, in order, with the tag of its migration. */
async function pendingIndexBuilds(client: pg.Client, migrationsFolder: string) {
  return (await pendingMigrations(client, migrationsFolder)).flatMap(({ tag, statements }) =>
    statements.flatMap((statement) => {
      const build = indexBuildOf(statement);
      return build ? [{ migration: tag, build }] : [];
    }),
  );
}

async function buildAhead(client: pg.Client, build: IndexBuild): Promise<Omit<IndexOutcome, 'migration'>> {
  const about = { index: build.index, table: build.table };
  const left = (reason: string) => ({ ...about, outcome: 'left to the migration' as const, reason });
  if (!(await exists(client, build.table))) return left('its table is made by a pending migration');
  if (!build.ifNotExists) {
    return left(`not written IF NOT EXISTS, so the migration builds it, locking ${build.table}`);
  }
  const state = await indexState(client, build.index);
  if (state === 'valid') return { ...about, outcome: 'present' };
  // What a concurrent build that failed leaves: the planner never uses it, and IF NOT EXISTS
  // would keep it. (`refuseInvalidIndexes` stops the migrator from running over one.)
  if (state === 'invalid') await dropConcurrently(client, build.index);
  const started = performance.now();
  try {
    await client.query(build.concurrentStatement);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // Class 42 (a column, type or table not there yet, ...) is raised before the build starts,
    // so nothing is left behind; the migration, which makes what is missing first, builds it.
    if (typeof code === 'string' && code.startsWith('42')) return left((error as Error).message);
    if ((await indexState(client, build.index)) === 'invalid') await dropConcurrently(client, build.index);
    throw new Error(`building index ${build.index} concurrently failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { ...about, outcome: state === 'invalid' ? 'rebuilt' : 'built', ms: performance.now() - started };
}

async function exists(client: pg.Client, relation: string) {
  const { rows } = await client.query<{ found: boolean }>('select to_regclass($1) is not null as found', [
    relation,
  ]);
  return rows[0]?.found === true;
}

async function indexState(client: pg.Client, index: string): Promise<'valid' | 'invalid' | null> {
  const { rows } = await client.query<{ valid: boolean }>(
    'select indisvalid as valid from pg_index where indexrelid = to_regclass($1)',
    [`"${index}"`],
  );
  const [row] = rows;
  return row ? (row.valid ? 'valid' : 'invalid') : null;
}

/** Whether a `CREATE INDEX` of `index` is running in some session (as far as this role may see). */
async function beingBuilt(client: pg.Client, index: string) {
  const { rows } = await client.query<{ found: boolean }>(
    'select exists (select 1 from pg_stat_progress_create_index where index_relid = to_regclass($1)) as found',
    [`"${index}"`],
  );
  return rows[0]?.found === true;
}

async function dropConcurrently(client: pg.Client, index: string) {
  await client.query(`DROP INDEX CONCURRENTLY IF EXISTS "${index}"`);
}
