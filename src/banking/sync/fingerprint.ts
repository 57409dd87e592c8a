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
 * keeps one counter per fingerprint seen, not the transactions.
 */
export function stableIdAssigner(): (page: ProviderTransaction[]) => IdentifiedTransaction[] {
  const occurrences = new Map<string, number>();
  return (page) =>
    page.map((transaction) => {
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
