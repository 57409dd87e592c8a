import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  name: string;
  url: string;
  handle: DatabaseHandle;
  /** Empties every table of the app (the migrations stay), so each scenario starts alike. */
  reset(): Promise<void>;
  /** Closes the handle and drops the database. */
  drop(): Promise<void>;
}

export async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(
  adminUrl: string,
  statement: string,
): Promise<T[]> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return (await client.query<T>(statement)).rows;
  } finally {
    await client.end();
  }
}

/** A new database `bench_<random>` on the server of `adminUrl`, migrated. */
export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  const name = `bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let handle: DatabaseHandle | undefined;
  let dropped: Promise<void> | undefined;
  // Once, whoever asks first (the end of the run or an interrupt).
  const drop = () => {
    dropped ??= (async () => {
      await handle?.close().catch(() => {});
      await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
    })();
    return dropped;
  };
  try {
    handle = await openDatabase({ databaseUrl: url.toString(), dataDir: '', poolSize: 10 });
    await handle.migrate();
  } catch (error) {
    await drop();
    throw error;
  }
  const opened = handle;
  return {
    name,
    url: url.toString(),
    handle: opened,
    reset: () => resetDatabase(url.toString()),
    drop,
  };
}

async function resetDatabase(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `select quote_ident(tablename) as name from pg_tables where schemaname = 'public'`,
    );
    if (rows.length > 0) {
      await client.query(`truncate table ${rows.map((row) => row.name).join(', ')} restart identity cascade`);
    }
    // Dirty pages of the last scenario are not written during the next one (needs superuser).
    await client.query('checkpoint').catch(() => {});
  } finally {
    await client.end();
  }
}

/** A plain node-postgres client on the bench database, for what drizzle does not do (COPY). */
export async function connectClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  // A connection the server ends (the database dropped on an interrupt) fails the query in
  // flight; it must not also crash the process as an unhandled 'error' event.
  client.on('error', () => {});
  await client.connect();
  return client;
}
