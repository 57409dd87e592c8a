import type { FieldError } from '../../errors.js';
import { isDateOnly, LATEST_MS, parseInstant } from '../../http/dates.js';

const DAY_MS = 86_400_000;

export interface Bound {
  at: Date;
  /** True when `at` itself is excluded (the end of a date-only `to` is the next midnight). */
  exclusive: boolean;
}

/** A `from`/`to` filter bound: a date means the whole UTC day, so a date `to` ends at the next midnight. */
export function parseBound(value: string, edge: 'from' | 'to'): Bound | FieldError {
  const at = parseInstant(value, { path: `/${edge}`, in: 'query' });
  if (!(at instanceof Date)) return at;
  if (!(edge === 'to' && isDateOnly(value))) return { at, exclusive: false };
  // The day after 9999-12-31 is past what the database reads: its last instant is included instead.
  const next = at.getTime() + DAY_MS;
  return next > LATEST_MS
    ? { at: new Date(LATEST_MS), exclusive: false }
    : { at: new Date(next), exclusive: true };
}
