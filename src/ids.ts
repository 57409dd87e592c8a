import { randomBytes } from 'node:crypto';

export type IdPrefix = 'team' | 'key' | 'conn' | 'cons' | 'acct' | 'txn';

/** A random, URL-safe id with a type prefix (`acct_3xk...`), in the manner of Stripe's ids. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}
