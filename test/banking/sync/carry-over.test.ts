import { describe, expect, it } from 'vitest';
import { HistoryCarryOver, type StoredTransaction } from '../../../src/banking/sync/carry-over.js';
import type { IdentifiedTransaction } from '../../../src/banking/sync/fingerprint.js';

const stored = (ref: string, amountMinor: number, description = 'COFFEE'): StoredTransaction => ({
  providerTransactionId: ref,
  amountMinor,
  type: 'DEBIT',
  currency: 'USD',
  description,
  transactionDate: new Date('2026-11-20T00:00:00Z'),
});

const incoming = (ref: string, amountMinor: number, description = 'COFFEE'): IdentifiedTransaction => ({
  ...stored(ref, amountMinor, description),
  status: 'BOOKED',
  category: null,
});

describe('history carried over to new transaction ids after a re-consent', () => {
  it('hands each stored row to the first new transaction with its fingerprint', () => {
    const carry = new HistoryCarryOver([
      stored('old-1', 433),
      stored('old-2', 433),
      stored('old-3', 999, 'BOOKS'),
    ]);
    expect(carry.claim(incoming('new-1', 433))).toBe('old-1');
    expect(carry.claim(incoming('new-2', 433))).toBe('old-2');
    expect(carry.claim(incoming('new-3', 433))).toBeNull();
    expect(carry.claim(incoming('new-4', 999, 'books'))).toBe('old-3');
  });

  it('leaves transactions whose ids are already stored, or that match nothing, alone', () => {
    const carry = new HistoryCarryOver([stored('same', 433)]);
    expect(carry.claim(incoming('new', 120))).toBeNull();
    expect(carry.claim(incoming('same', 433))).toBeNull();
    // `same` is listed under its own id, so a second identical purchase is new, not a takeover.
    expect(carry.claim(incoming('new-2', 433))).toBeNull();
  });
});
