import { createHash } from 'node:crypto';
import { isCurrencyCode, MAX_MINOR_UNITS } from '../../money.js';
import {
  type ProviderAccount,
  ProviderError,
  type ProviderTransaction,
  type TransactionPage,
} from '../../providers/provider.js';

/**
 * What a provider answers, made storable before a sync writes it. The providers' transforms read
 * their banks' formats; this is the database's side, the same for every provider: one bank value
 * the database cannot take would otherwise fail every sync of the connection, for good, as a 500.
 * - PostgreSQL text cannot hold U+0000, which banks do send in names and descriptions: it is
 *   dropped.
 * - An id or a category is an index key, and an index entry must fit in a page (about 2.7 KB):
 *   an id longer than `MAX_REF_LENGTH` is kept as its hash (the same id always gives the same
 *   hash, so the transaction keeps its row), a category is cut at the length a client can filter
 *   by.
 * - An account currency ISO 4217 does not list, or an amount no JSON number can show exactly,
 *   is the bank's data we cannot serve: the sync fails as the provider's (502), as it does for
 *   such a transaction in the providers' transforms.
 */
export function storablePage(page: TransactionPage): TransactionPage {
  return {
    ...page,
    transactions: page.transactions.map(storableTransaction),
    ...(page.removed ? { removed: page.removed.map(storableRef) } : {}),
  };
}

export function storableAccount(account: ProviderAccount): ProviderAccount {
  if (!isCurrencyCode(account.currency)) {
    throw new ProviderError('unavailable', `the bank gave an account a currency ISO 4217 does not list`);
  }
  for (const amount of [account.balanceMinor, account.availableBalanceMinor]) {
    if (amount !== null) exactAmount(amount);
  }
  return {
    ...account,
    name: storableText(account.name),
    accountNumber: nullableText(account.accountNumber),
    sortCode: nullableText(account.sortCode),
    ...(account.stableReference ? { stableReference: storableRef(account.stableReference) } : {}),
  };
}

function storableTransaction(transaction: ProviderTransaction): ProviderTransaction {
  exactAmount(transaction.amountMinor);
  return {
    ...transaction,
    providerTransactionId:
      transaction.providerTransactionId && storableRef(transaction.providerTransactionId),
    ...(transaction.pendingTransactionId
      ? { pendingTransactionId: storableRef(transaction.pendingTransactionId) }
      : {}),
    description: storableText(transaction.description),
    category: transaction.category === null ? null : storableCategory(transaction.category),
  };
}

/** Longest provider id kept as it is: Plaid's and GoCardless's are under 100 characters. */
export const MAX_REF_LENGTH = 200;
/** The `category` filter's own limit (transactions/schemas.ts). */
export const MAX_CATEGORY_LENGTH = 100;

const storableText = (text: string) => (text.includes('\u0000') ? text.replaceAll('\u0000', '') : text);
const nullableText = (text: string | null) => (text === null ? null : storableText(text));

function storableRef(ref: string): string {
  const text = storableText(ref);
  if (text.length <= MAX_REF_LENGTH) return text;
  return `sha256:${createHash('sha256').update(text).digest('base64url')}`;
}

function storableCategory(category: string): string {
  const text = storableText(category);
  return text.length <= MAX_CATEGORY_LENGTH ? text : Array.from(text).slice(0, MAX_CATEGORY_LENGTH).join('');
}

function exactAmount(minor: number): void {
  if (Math.abs(minor) > MAX_MINOR_UNITS) {
    throw new ProviderError('unavailable', 'the bank gave an amount too large to serve exactly');
  }
}
