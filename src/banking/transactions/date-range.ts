import type { FieldError } from '../../errors.js';
import { isDateOnly, LATEST_MS, parseInstant } from '../../http/dates.js';

const DAY_MS = 86_400_000;

export interface Bound {
  at: Date;
  /** True when `at` itself is excluded (the end of a date-only `to` is the next midnight). */
  exclusive: boolean;
}

/** Fraction digits past the millisecond that are not all zero (`.0001`, `.123456789`). */
const INSIDE_A_MILLISECOND = /\.\d{3}\d*[1-9]/;

/**
 * A `from`/`to` filter bound: a date means the whole UTC day, so a date `to` ends at the next
 * midnight. Dates are kept to the millisecond, here and in the database (sync stores what `Date`
 * reads), so a `from` inside a millisecond starts at the next one: cut down to its own, it would
 * take in rows before it. A `to` inside one is right cut down.
 */
export function parseBound(value: string, edge: 'from' | 'to'): Bound | FieldError {
  const read = parseInstant(value, { path: `/${edge}`, in: 'query' });
  if (!(read instanceof Date)) return read;
  const at =
    edge === 'from' && INSIDE_A_MILLISECOND.test(value) && read.getTime() < LATEST_MS
      ? new Date(read.getTime() + 1)
      : read;
  if (!(edge === 'to' && isDateOnly(value))) return { at, exclusive: false };
  // The day after 9999-12-31 is past what the database reads: its last instant is included instead.
  const next = at.getTime() + DAY_MS;
  return next > LATEST_MS
    ? { at: new Date(LATEST_MS), exclusive: false }
    : { at: new Date(next), exclusive: true };
}
