import { type AnyColumn, type SQL, sql } from 'drizzle-orm';

/**
 * A timestamptz column as the API writes instants (`2026-11-26T10:15:00.000Z`), formatted by
 * PostgreSQL: the reads that return many rows then pass the text on, instead of the driver
 * parsing each value into a Date and the service printing it back.
 */
export function isoTimestamp(column: AnyColumn): SQL<string> {
  return sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}
