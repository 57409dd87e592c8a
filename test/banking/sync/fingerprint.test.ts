import { describe, expect, it } from 'vitest';
import { variantRef, withoutRepeatedIds, withStableIds } from '../../../src/banking/sync/fingerprint.js';
import type { ProviderTransaction } from '../../../src/providers/provider.js';

const coffee: ProviderTransaction = {
  providerTransactionId: null,
  amountMinor: 350,
  type: 'DEBIT',
  currency: 'GBP',
  description: 'PRET A MANGER',
  transactionDate: new Date('2026-11-20T08:15:00Z'),
  status: 'BOOKED',
  category: 'eating_out',
};

describe('transaction ids where the provider gives none', () => {
  it('keeps two identical purchases on one day apart by an occurrence number', () => {
    const [first, second] = withStableIds([coffee, { ...coffee }]);
    expect(first?.providerTransactionId).toMatch(/^fp_.+_0$/);
    expect(second?.providerTransactionId).toMatch(/^fp_.+_1$/);
    expect(first?.providerTransactionId.slice(0, -2)).toBe(second?.providerTransactionId.slice(0, -2));
  });

  it('gives the same ids to the same data on every sync', () => {
    const once = withStableIds([coffee, { ...coffee, amountMinor: 420 }]).map((t) => t.providerTransactionId);
    const again = withStableIds([coffee, { ...coffee, amountMinor: 420 }]).map(
      (t) => t.providerTransactionId,
    );
    expect(again).toEqual(once);
    expect(new Set(once).size).toBe(2);
  });

  it('keeps the provider id where there is one', () => {
    const [withId] = withStableIds([{ ...coffee, providerTransactionId: 'bank-1' }]);
    expect(withId?.providerTransactionId).toBe('bank-1');
  });
});

describe('a provider id that a page repeats', () => {
  const booked = { ...coffee, providerTransactionId: 'bank-7' };

  it('keeps one of two copies of the same transaction', () => {
    const page = withStableIds([booked, { ...booked }, { ...coffee, providerTransactionId: 'bank-8' }]);
    expect(page.map((t) => t.providerTransactionId)).toEqual(['bank-7', 'bank-8']);
  });

  it('keeps the booked copy of a transaction listed as booked and as pending', () => {
    const pending = { ...booked, status: 'PENDING' as const, amountMinor: 300 };
    const page = withStableIds([pending, booked]);
    expect(page).toEqual([booked]);
  });

  it('keeps apart two different transactions under one id, the first keeping it, on every sync', () => {
    const other = { ...booked, amountMinor: 900, description: 'TFL TRAVEL' };
    const once = withStableIds([booked, other, { ...booked }]).map((t) => t.providerTransactionId);
    expect(once).toHaveLength(2);
    expect(once[0]).toBe('bank-7');
    expect(once[1]).toMatch(/^bank-7~.+/);
    expect(withStableIds([booked, other]).map((t) => t.providerTransactionId)).toEqual(once);
  });

  it('keeps a transaction stored under its variant there when it comes without its twin', () => {
    const other = { ...booked, amountMinor: 900, description: 'TFL TRAVEL' };
    const stored = new Set([variantRef('bank-7', other)]);
    expect(withoutRepeatedIds([other], stored).map((t) => t.providerTransactionId)).toEqual([
      variantRef('bank-7', other),
    ]);
    expect(withoutRepeatedIds([other, booked], stored).map((t) => t.providerTransactionId)).toEqual([
      variantRef('bank-7', other),
      'bank-7',
    ]);
  });
});
