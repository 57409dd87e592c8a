import type { FieldError } from '../errors.js';

/** Midnight UTC of the date a value starts with, or null when that date does not exist (2026-02-30). */
export function utcMidnight(value: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // Not `Date.UTC`, which reads the years 0 to 99 as 1900 to 1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  const real =
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return real ? date : null;
}

export const isDateOnly = (value: string) => /^\d{4}-\d{2}-\d{2}$/.test(value);

/**
 * The instants a request may name: years 0001 to 9999. An offset can carry `9999-12-31T23:00-14:00`
 * into year 10000, which JavaScript writes `+010000-...` and PostgreSQL cannot read (a 500).
 */
export const EARLIEST_MS = Date.parse('0001-01-01T00:00:00.000Z');
export const LATEST_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** Whether `at` is an instant PostgreSQL can read back (see EARLIEST_MS). */
export const isStorable = (at: Date) => at.getTime() >= EARLIEST_MS && at.getTime() <= LATEST_MS;

/**
 * An instant from a value that passed the `DateOrDateTime` pattern: a date is its UTC midnight,
 * a date-time without an offset is UTC. `field` names the field in the error.
 */
export function parseInstant(value: string, field: Omit<FieldError, 'message'>): Date | FieldError {
  const read = readInstant(value);
  return typeof read === 'string' ? { ...field, message: read } : read;
}

/**
 * What keeps a value of the `DateOrDateTime` pattern from being an instant a request may name, or
 * null: the schemas' `date-or-date-time` format (src/http/validation.ts).
 */
export function instantProblem(value: string): string | null {
  const read = readInstant(value);
  return typeof read === 'string' ? read : null;
}

function readInstant(value: string): Date | string {
  const invalid = 'is not a real date or date-time';
  const midnight = utcMidnight(value);
  if (!midnight) return invalid;
  const at = isDateOnly(value) ? midnight : dateTime(value);
  if (Number.isNaN(at.getTime())) return invalid;
  if (!isStorable(at)) return 'must be between the years 0001 and 9999 (UTC)';
  return at;
}

/** A date-time, UTC when it names no offset; `+0100` is read as `+01:00`. */
function dateTime(value: string): Date {
  return utcUnlessZoned(value.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
}

/** A date-time as `Date` reads it, in UTC when it ends in no offset (`Z`, `+01:00` or `+0100`). */
export const utcUnlessZoned = (text: string) =>
  new Date(/(?:[Zz]|[+-]\d{2}:?\d{2})$/.test(text) ? text : `${text}Z`);

/**
 * A date or date-time a provider sent, as an instant: a date (`2026-11-26`) is its UTC midnight, a
 * date-time without an offset is UTC (never the server's own zone); null for anything else, and
 * for an instant the database cannot store (outside the years 0001 to 9999).
 */
export function providerInstant(value: string | null | undefined): Date | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  const at = isDateOnly(text)
    ? utcMidnight(text)
    : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)
      ? utcUnlessZoned(text)
      : null;
  return at && isStorable(at) ? at : null;
}
