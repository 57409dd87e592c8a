import type { FieldError } from '../../errors.js';

const DAY_MS = 86_400_000;

export interface Bound {
  at: Date;
  /** True when `at` itself is excluded (the end of a date-only `to` is the next midnight). */
  exclusive: boolean;
}

function utcMidnight(value: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  const real =
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return real ? date : null;
}

/**
 * Parses a `from`/`to` value that passed the schema's pattern: a date means the whole UTC day;
 * a date-time without an offset is UTC. Impossible dates (2026-02-30) are errors.
 */
export function parseBound(value: string, edge: 'from' | 'to'): Bound | FieldError {
  const midnight = utcMidnight(value);
  const invalid = { path: `/${edge}`, message: 'is not a real date or date-time' };
  if (!midnight) return invalid;
  if (value.length === 10) {
    return edge === 'from'
      ? { at: midnight, exclusive: false }
      : { at: new Date(midnight.getTime() + DAY_MS), exclusive: true };
  }
  const withOffset = value.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const at = new Date(/([Zz]|[+-]\d{2}:\d{2})$/.test(withOffset) ? withOffset : `${withOffset}Z`);
  return Number.isNaN(at.getTime()) ? invalid : { at, exclusive: false };
}
