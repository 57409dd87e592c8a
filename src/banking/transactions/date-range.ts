import type { FieldError } from '../../errors.js';
import { isDateOnly, parseInstant } from '../../http/dates.js';

const DAY_MS = 86_400_000;

export interface Bound {
  at: Date;
  /** True when `at` itself is excluded (the end of a date-only `to` is the next midnight). */
  exclusive: boolean;
}

/** A `from`/`to` filter bound: a date means the whole UTC day, so a date `to` ends at the next midnight. */
export function parseBound(value: string, edge: 'from' | 'to'): Bound | FieldError {
  const at = parseInstant(value, `/${edge}`);
  if (!(at instanceof Date)) return at;
  return edge === 'to' && isDateOnly(value)
    ? { at: new Date(at.getTime() + DAY_MS), exclusive: true }
    : { at, exclusive: false };
}
