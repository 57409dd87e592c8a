import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';

/**
 * A fresh, migrated database for one test file: an in-memory PGlite by default, or a new
 * database on the PostgreSQL server of DATABASE_URL (dropped again by `drop`).
 */
export interface TestDatabase {
  engine: 'pglite' | 'postgres';
  /** The environment that points the server process at this database. */
  env: Record<string, string>;
  /** Opens (again) a handle on the same database, e.g. to prove data survive a restart. */
  open(): Promise<DatabaseHandle>;
  drop(): Promise<void>;
}

/**
 * A fresh database as `createTestDatabase` makes it; on PostgreSQL, opened with a pool of
 * `poolSize` connections (`poolSize` changes nothing on PGlite, which has one).
 */
export async function createTestDatabase(
  options: { dataDir?: string; poolSize?: number } = {},
): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const dataDir = options.dataDir ?? 'memory://';
    return {
      engine: 'pglite',
      env: { DATA_DIR: dataDir },
      open: async () => {
        const handle = await openDatabase({ dataDir });
        await handle.migrate();
        return handle;
      },
      drop: async () => {},
    };
  }
  const name = `obs_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(serverUrl, `create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    engine: 'postgres',
    env: { DATABASE_URL: url.toString() },
    open: async () => {
      const handle = await openDatabase({
        databaseUrl: url.toString(),
        dataDir: '',
        poolSize: options.poolSize ?? 5,
      });
      await handle.migrate();
      return handle;
    },
    drop: () => adminQuery(serverUrl, `drop database if exists ${name} with (force)`),
  };
}

async function adminQuery(serverUrl: string, statement: string) {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
