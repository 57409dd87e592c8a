import { createHash } from 'node:crypto';
import type { ProviderTransaction } from '../../providers/provider.js';

export type IdentifiedTransaction = ProviderTransaction & { providerTransactionId: string };

/**
 * Gives every transaction an id. Where the provider gives none, a fingerprint of its stable
 * fields stands in, plus an occurrence number, so two genuine identical purchases on one day
 * both stay (`fp_<hash>_0`, `fp_<hash>_1`). The same data in the same order give the same ids.
 */
export function withStableIds(transactions: ProviderTransaction[]): IdentifiedTransaction[] {
  return stableIdAssigner()(transactions);
}

/**
 * `withStableIds` over an account's pages in turn: occurrence numbers run on across pages. It
 * keeps one counter per fingerprint seen, not the transactions. `storedVariants`: see
 * `withoutRepeatedIds`.
 */
export function stableIdAssigner(): (
  page: ProviderTransaction[],
  storedVariants?: ReadonlySet<string>,
) => IdentifiedTransaction[] {
  const occurrences = new Map<string, number>();
  return (page, storedVariants) =>
    withoutRepeatedIds(page, storedVariants).map((transaction) => {
      if (transaction.providerTransactionId) return transaction as IdentifiedTransaction;
      const fingerprint = fingerprintOf(transaction);
      const occurrence = occurrences.get(fingerprint) ?? 0;
      occurrences.set(fingerprint, occurrence + 1);
      return { ...transaction, providerTransactionId: `fp_${fingerprint}_${occurrence}` };
    });
}

export function fingerprintOf(transaction: ProviderTransaction): string {
  const stable = [
    transaction.transactionDate.toISOString().slice(0, 10),
    transaction.amountMinor,
    transaction.type,
    transaction.currency,
    transaction.description.trim().toLowerCase(),
  ].join('|');
  return createHash('sha256').update(stable).digest('base64url').slice(0, 22);
}

/** The id under which a bank's id `id`, used for another transaction too, keeps `transaction`. */
export const variantRef = (id: string, transaction: ProviderTransaction) =>
  `${id}${VARIANT_MARK}${fingerprintOf(transaction)}`;

/**
 * Whether a stored id may be a `variantRef` (a bank's own id could hold the mark too, which only
 * costs a lookup). The queries and the partial index of src/db/schema.ts spell it `like '%~%'`.
 */
export const isVariantRef = (ref: string) => ref.includes(VARIANT_MARK);

const VARIANT_MARK = '~';

/**
 * One transaction per provider id in a page, since one statement cannot write a row twice. Banks
 * repeat themselves (GoCardless passes on a bank's duplicated transactions as they come, and
 * lists a transaction that is booking under one id in both `booked` and `pending`): a pending
 * copy gives way to a booked one, and a copy with the same fingerprint is the same transaction.
 * What is left shares an id but not its content, so the bank reused the id for another
 * transaction: the first keeps the id, each other one is told apart by its fingerprint
 * (`variantRef`). A transaction already stored under its variant (`stored`, the variants the
 * account holds) keeps it, whether or not its twin is in this page: an incremental sync may see
 * one twin without the other, and must not give it the plain id the other holds.
 */
export function withoutRepeatedIds(
  page: ProviderTransaction[],
  stored: ReadonlySet<string> = new Set(),
): ProviderTransaction[] {
  const known =
    stored.size === 0
      ? page
      : page.map((transaction) => {
          const id = transaction.providerTransactionId;
          const variant = id ? variantRef(id, transaction) : null;
          return variant && stored.has(variant)
            ? { ...transaction, providerTransactionId: variant }
            : transaction;
        });
  const copiesById = new Map<string, ProviderTransaction[]>();
  for (const transaction of known) {
    const id = transaction.providerTransactionId;
    if (!id) continue;
    const copies = copiesById.get(id);
    if (copies) copies.push(transaction);
    else copiesById.set(id, [transaction]);
  }
  const repeated = [...copiesById].filter(([, copies]) => copies.length > 1);
  if (repeated.length === 0) return known;
  const idOf = new Map<ProviderTransaction, string>();
  for (const [id, copies] of repeated) {
    const booked = copies.filter((transaction) => transaction.status === 'BOOKED');
    const seen = new Set<string>();
    for (const transaction of booked.length > 0 ? booked : copies) {
      const fingerprint = fingerprintOf(transaction);
      if (seen.has(fingerprint)) continue;
      idOf.set(transaction, seen.size === 0 ? id : variantRef(id, transaction));
      seen.add(fingerprint);
    }
  }
  return known.flatMap((transaction) => {
    const id = transaction.providerTransactionId;
    if (!id || (copiesById.get(id)?.length ?? 0) < 2) return [transaction];
    const kept = idOf.get(transaction);
    return kept === undefined ? [] : [{ ...transaction, providerTransactionId: kept }];
  });
}
