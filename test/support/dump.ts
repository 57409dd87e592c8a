/**
 * A dump of the whole database, for proving that requests wrote nothing: every table of the
 * `public` schema, each row cast to its text form and sorted, so two dumps of an unchanged
 * database are equal on PGlite and PostgreSQL alike, whatever order the engine returns rows in.
 */
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { type DatabaseHandle, rowsOf } from '../../src/db/client.js';

/** Table name to its rows (as PostgreSQL's row text, e.g. `(team_x,Acme,"2026-...")`), sorted. */
export type DatabaseDump = Record<string, string[]>;

export interface DumpOptions {
  /**
   * Only the rows of this team: tables with a `team_id` column are filtered on it, `teams` on
   * `id` and tables keyed by a `scope` (idempotency keys) on `scope`. A table with none of these
   * is dumped whole, so a change there is never missed.
   */
  teamId?: string;
}

/** Every table of the public schema, in name order. */
export async function listTables(database: DatabaseHandle): Promise<string[]> {
  const result = await database.db.execute(sql`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE'
    order by table_name`);
  return rowsOf<{ table_name: string }>(result).map((row) => row.table_name);
}

async function columnsOf(database: DatabaseHandle, table: string): Promise<Set<string>> {
  const result = await database.db.execute(sql`
    select column_name from information_schema.columns
    where table_schema = 'public' and table_name = ${table}`);
  return new Set(rowsOf<{ column_name: string }>(result).map((row) => row.column_name));
}

/** Dumps every public table (or one team's rows of each); compare two dumps with `toEqual`. */
export async function dumpDatabase(
  database: DatabaseHandle,
  options: DumpOptions = {},
): Promise<DatabaseDump> {
  const dump: DatabaseDump = {};
  for (const table of await listTables(database)) {
    const name = sql.identifier(table);
    let filter = sql``;
    if (options.teamId !== undefined) {
      const columns = await columnsOf(database, table);
      const column = columns.has('team_id')
        ? 'team_id'
        : table === 'teams'
          ? 'id'
          : columns.has('scope')
            ? 'scope'
            : undefined;
      if (column) filter = sql` where ${sql.identifier(column)} = ${options.teamId}`;
    }
    const result = await database.db.execute(sql`select t::text as row from ${name} t${filter}`);
    // Sorted here rather than by ORDER BY, so the order does not depend on the server's collation.
    dump[table] = rowsOf<{ row: string }>(result)
      .map((row) => row.row)
      .sort();
  }
  return dump;
}

/**
 * Asserts two dumps are equal, naming the tables that differ and a few of the rows that appeared
 * or disappeared, rather than printing two whole databases.
 */
export function expectSameDump(after: DatabaseDump, before: DatabaseDump, what = 'the database') {
  const differences: string[] = [];
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const was = new Set(before[table] ?? []);
    const is = new Set(after[table] ?? []);
    const added = [...is].filter((row) => !was.has(row));
    const removed = [...was].filter((row) => !is.has(row));
    if (
      added.length === 0 &&
      removed.length === 0 &&
      (before[table]?.length ?? 0) === (after[table]?.length ?? 0)
    ) {
      continue;
    }
    const sample = (rows: string[]) =>
      rows.slice(0, 3).map((row) => (row.length > 200 ? `${row.slice(0, 200)}...` : row));
    differences.push(
      `${table}: ${added.length} row(s) added ${JSON.stringify(sample(added))}, ` +
        `${removed.length} removed ${JSON.stringify(sample(removed))}`,
    );
  }
  expect(differences, `${what} changed`).toEqual([]);
}
