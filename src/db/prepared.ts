import { sql } from 'drizzle-orm';
import type { Database } from './client.js';

const byDatabase = new WeakMap<Database, Map<string, unknown>>();

/**
 * PostgreSQL keeps a prepared statement, and its plan, on every pooled connection until the
 * connection closes (about 90 KiB for a transactions list). Names come from request shapes
 * (filters, page size), so past this many a query is built afresh and sent unnamed instead: no
 * mix of requests can grow the server's memory without bound. PgJDBC caches 256 per connection.
 */
export const MAX_PREPARED_STATEMENTS = 200;

/** PostgreSQL cuts longer statement names, and two names that share their first 63 characters clash. */
const MAX_NAME_LENGTH = 63;

/**
 * The query `build` answers, prepared under `name` for `db` on first use. The hot reads run
 * prepared: drizzle then builds their SQL once instead of on every request (a quarter of a list
 * request's CPU), and PostgreSQL parses them once per connection. `name` must say everything that
 * changes the SQL.
 */
export function prepared<Query>(
  db: Database,
  name: string,
  build: () => { prepare(name: string): Query },
): Query {
  let queries = byDatabase.get(db);
  if (!queries) {
    queries = new Map();
    byDatabase.set(db, queries);
  }
  let query = queries.get(name) as Query | undefined;
  if (!query) {
    // Checked once per name, when it is first prepared, not on every request.
    if (name.length > MAX_NAME_LENGTH) throw new Error(`prepared statement name too long: ${name}`);
    // An empty name is an unnamed statement for node-postgres (PGlite ignores names).
    if (queries.size >= MAX_PREPARED_STATEMENTS) return build().prepare('');
    query = build().prepare(name);
    queries.set(name, query);
  }
  return query;
}

/**
 * `limit` written into the SQL rather than bound: with `LIMIT $n` PostgreSQL cannot cost a generic
 * plan (it assumes a tenth of the rows) and so plans every execution afresh, about as much
 * work as reading a small page; with a literal it keeps one generic plan. The name
 * of the prepared query must then include the limit.
 */
export function literalLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`invalid limit ${limit}`);
  // drizzle types `limit` as a number or a placeholder, and writes any SQL object as it is.
  return sql.raw(String(limit)) as unknown as number;
}

/**
 * Runs a prepared select and answers the driver's rows as they arrive, keyed by column name,
 * without drizzle's per-field decoding (a third of a 500-row page's CPU). For the hottest list
 * only, which selects columns whose text both engines return alike and maps each row once.
 * Both drivers' prepared queries have `all`; the list's tests run on both engines.
 */
export function driverRows<Row>(query: object, values: Record<string, unknown>): Promise<Row[]> {
  return (query as { all(values: Record<string, unknown>): Promise<Row[]> }).all(values);
}
