import { describe, expect, it } from 'vitest';
import {
  MAX_CATEGORY_LENGTH,
  MAX_REF_LENGTH,
  storableAccount,
  storablePage,
} from '../../../src/banking/sync/storable.js';
import { MAX_MINOR_UNITS } from '../../../src/money.js';
import {
  type ProviderAccount,
  ProviderError,
  type ProviderTransaction,
} from '../../../src/providers/provider.js';

const transaction: ProviderTransaction = {
  providerTransactionId: 'tx-1',
  amountMinor: 1234,
  type: 'DEBIT',
  currency: 'GBP',
  description: 'COFFEE',
  transactionDate: new Date('2026-11-20T00:00:00.000Z'),
  status: 'BOOKED',
  category: 'eating_out',
};

const account: ProviderAccount = {
  providerAccountId: 'acc-1',
  name: 'Main',
  type: 'CHECKING',
  currency: 'GBP',
  accountNumber: '12345678',
  sortCode: '202015',
  balanceMinor: 100,
  availableBalanceMinor: null,
};

const only = (t: Partial<ProviderTransaction>) =>
  storablePage({ transactions: [{ ...transaction, ...t }], nextCursor: null }).transactions[0];

describe('bank data made storable before a sync writes it', () => {
  it('drops U+0000, which PostgreSQL text cannot hold, from every text a bank gives', () => {
    expect(
      only({ description: 'COFFEE\u0000SHOP', category: 'eat\u0000ing', providerTransactionId: 'a\u0000b' }),
    ).toMatchObject({ description: 'COFFEESHOP', category: 'eating', providerTransactionId: 'ab' });
    expect(
      storableAccount({ ...account, name: 'Main\u0000Account', accountNumber: '1234\u00005678' }),
    ).toMatchObject({
      name: 'MainAccount',
      accountNumber: '12345678',
      sortCode: '202015',
    });
  });

  it('keeps an id too long for an index as its hash, the same every time, in every place it appears', () => {
    const long = 'x'.repeat(MAX_REF_LENGTH + 1);
    const page = storablePage({
      transactions: [{ ...transaction, providerTransactionId: long, pendingTransactionId: long }],
      removed: [long, 'short'],
      nextCursor: null,
    });
    const hashed = page.transactions[0]?.providerTransactionId;
    expect(hashed).toMatch(/^sha256:[\w-]{43}$/);
    expect(page.transactions[0]?.pendingTransactionId).toBe(hashed);
    expect(page.removed).toEqual([hashed, 'short']);
    expect(only({ providerTransactionId: 'y'.repeat(MAX_REF_LENGTH) })?.providerTransactionId).toHaveLength(
      MAX_REF_LENGTH,
    );
    expect(only({ providerTransactionId: null })?.providerTransactionId).toBeNull();
  });

  it('cuts a category at the length the category filter takes, on a character boundary', () => {
    expect(only({ category: 'c'.repeat(5000) })?.category).toHaveLength(MAX_CATEGORY_LENGTH);
    const emoji = only({ category: '🍕'.repeat(MAX_CATEGORY_LENGTH + 1) })?.category ?? '';
    expect(Array.from(emoji)).toHaveLength(MAX_CATEGORY_LENGTH);
    expect(emoji.isWellFormed()).toBe(true);
    expect(only({ category: null })?.category).toBeNull();
  });

  it('refuses, as the bank failing, an account currency ISO 4217 does not list and an amount past exact', () => {
    expect(() => storableAccount({ ...account, currency: 'XBT' })).toThrow(ProviderError);
    expect(() => storableAccount({ ...account, availableBalanceMinor: -(MAX_MINOR_UNITS + 1) })).toThrow(
      /too large/,
    );
    expect(() => only({ amountMinor: MAX_MINOR_UNITS + 1 })).toThrow(/too large/);
    expect(only({ amountMinor: MAX_MINOR_UNITS })?.amountMinor).toBe(MAX_MINOR_UNITS);
  });
});
