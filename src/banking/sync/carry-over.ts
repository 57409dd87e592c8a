import type { ProviderTransaction } from '../../providers/provider.js';
import { fingerprintOf, type IdentifiedTransaction } from './fingerprint.js';

export interface StoredTransaction
  extends Pick<ProviderTransaction, 'amountMinor' | 'type' | 'currency' | 'description' | 'transactionDate'> {
  providerTransactionId: string;
}

/**
 * After a re-consent the provider may list the same history under new transaction ids (a new
 * Plaid Item does). For an account that was just matched to a new provider account, each
 * transaction with an id we do not know takes over a stored row with the same fingerprint (day,
 * amount, direction, currency, description) that no incoming transaction has claimed, so our ids
 * and history stay and nothing is imported twice.
 */
export class HistoryCarryOver {
  private readonly known: Set<string>;
  private readonly unclaimed = new Map<string, string[]>();
  private readonly fingerprints = new Map<string, string>();

  constructor(stored: StoredTransaction[]) {
    this.known = new Set(stored.map((row) => row.providerTransactionId));
    for (const row of stored) {
      const key = fingerprintOf({
        ...row,
        providerTransactionId: row.providerTransactionId,
        status: 'BOOKED',
        category: null,
      });
      const refs = this.unclaimed.get(key) ?? [];
      refs.push(row.providerTransactionId);
      this.unclaimed.set(key, refs);
      this.fingerprints.set(row.providerTransactionId, key);
    }
  }

  /** The stored row's provider id that `transaction` takes over, or null when it is new or already known. */
  claim(transaction: IdentifiedTransaction): string | null {
    const ref = transaction.providerTransactionId;
    if (this.known.has(ref)) {
      // Listed under its stored id: that row is spoken for and is no one else's to take over.
      const refs = this.unclaimed.get(this.fingerprints.get(ref) ?? '');
      if (refs?.includes(ref)) refs.splice(refs.indexOf(ref), 1);
      return null;
    }
    const old = this.unclaimed.get(fingerprintOf(transaction))?.shift();
    if (old === undefined) return null;
    this.known.delete(old);
    this.known.add(ref);
    return old;
  }
}
