import { type Database, openDatabase } from '../../src/db/client.js';

/** A statement as the service sent it to the driver: its text and its bound values. */
export interface Statement {
  text: string;
  values: unknown[];
}

/**
 * The statements `work` sends when run against the bench database, captured from drizzle's
 * query log: what the service runs for a request, so that the driver baseline runs exactly that.
 */
export async function captureStatements(
  databaseUrl: string,
  work: (db: Database) => Promise<unknown>,
): Promise<Statement[]> {
  const statements: Statement[] = [];
  const handle = await openDatabase({
    databaseUrl,
    dataDir: '',
    poolSize: 1,
    logQuery: (text, values) => statements.push({ text, values }),
  });
  try {
    await work(handle.db);
  } finally {
    await handle.close();
  }
  return statements;
}
