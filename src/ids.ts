import { randomBytes } from 'node:crypto';

export type IdPrefix = 'team' | 'conn' | 'cons' | 'acct' | 'txn' | 'evt' | 'whd' | 'whe' | 'aud';

let lastMillis = 0;
let counter = 0;

/**
 * A prefixed id (`cons_019ac1f2e3d40001a1b2c3d4e5f6`), in the manner of Stripe's, that sorts in
 * creation order within a process: 48 bits of wall-clock milliseconds and a 16-bit counter, then
 * 48 random bits. Lower-case hex sorts the same under every collation, so `ORDER BY created_at,
 * id` is creation order even when a (test) clock gives two rows the same `created_at`.
 */
export function newId(prefix: IdPrefix): string {
  const now = Date.now();
  if (now > lastMillis) {
    lastMillis = now;
    counter = 0;
  } else if (++counter > 0xffff) {
    // More than 65,536 ids in one millisecond (or the wall clock stepped back): borrow the next one.
    lastMillis++;
    counter = 0;
  }
  const time = lastMillis.toString(16).padStart(12, '0');
  const sequence = counter.toString(16).padStart(4, '0');
  return `${prefix}_${time}${sequence}${randomBytes(6).toString('hex')}`;
}
