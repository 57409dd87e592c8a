import { describe, expect, it } from 'vitest';
import {
  accountReferences,
  accountType,
  amountToMinor,
  decodePageCursor,
  encodePageCursor,
  errorKind,
  itemExpiry,
  itemHasExpiry,
  itemScopes,
  NO_EXPIRY_FALLBACK_DAYS,
  parsePlaidError,
  RATE_LIMIT_RETRY_SECONDS,
  readState,
  redact,
  toInstitution,
  toProviderAccount,
  toProviderError,
  toProviderTransaction,
  transactionDate,
} from '../../../src/providers/plaid/transform.js';
import type {
  PlaidAccount,
  PlaidErrorBody,
  PlaidInstitution,
  PlaidItem,
  PlaidTransaction,
} from '../../../src/providers/plaid/types.js';
import { ProviderError } from '../../../src/providers/provider.js';
import {
  CARD_PAYMENT,
  COFFEE,
  fixtureAccounts,
  GROCERY_PENDING,
  GROCERY_POSTED,
  INSTITUTIONS,
  LOGO_BASE64,
  PARKING,
  PAYROLL,
  transaction,
} from './fixtures.js';

const tx = (input: Parameters<typeof transaction>[0], extra: Partial<PlaidTransaction> = {}) =>
  ({ ...transaction(input), ...extra }) as unknown as PlaidTransaction;

const [checkingJson, cardJson] = fixtureAccounts() as unknown as [PlaidAccount, PlaidAccount];

function account(
  overrides: Partial<PlaidAccount>,
  balances: Partial<PlaidAccount['balances']> = {},
): PlaidAccount {
  return { ...checkingJson, ...overrides, balances: { ...checkingJson.balances, ...balances } };
}

function item(overrides: Partial<PlaidItem> = {}): PlaidItem {
  return {
    item_id: 'item-1',
    institution_id: 'ins_100001',
    webhook: null,
    error: null,
    available_products: [],
    billed_products: ['transactions'],
    products: ['transactions'],
    consent_expiration_time: null,
    update_type: 'background',
    ...overrides,
  };
}

function plaidError(code: string, type: string, extra: Partial<PlaidErrorBody> = {}): PlaidErrorBody {
  return { error_type: type, error_code: code, error_message: 'message', display_message: null, ...extra };
}

describe('amounts', () => {
  it('converts JSON numbers to exact minor units', () => {
    expect(amountToMinor(12.34, 'USD')).toBe(1234);
    expect(amountToMinor(0.1 + 0.2, 'USD')).toBe(30);
    expect(amountToMinor(1.1 + 2.2, 'USD')).toBe(330);
    expect(amountToMinor(-2500, 'USD')).toBe(-250000);
    expect(amountToMinor(1234567.89, 'USD')).toBe(123456789);
    expect(amountToMinor(500, 'JPY')).toBe(500);
    expect(amountToMinor(1.234, 'BHD')).toBe(1234);
    expect(amountToMinor(-0.001, 'USD')).toBe(0);
    expect(Object.is(amountToMinor(-0, 'USD'), 0)).toBe(true);
  });

  it('refuses a non-finite amount', () => {
    expect(() => amountToMinor(Number.NaN, 'USD')).toThrow(RangeError);
  });
});

describe('toProviderTransaction', () => {
  it('treats a positive amount as money out (DEBIT) with its magnitude in minor units', () => {
    const mapped = toProviderTransaction(tx(COFFEE));
    expect(mapped).toMatchObject({ providerTransactionId: 'txnCoffee01', amountMinor: 433, type: 'DEBIT' });
  });

  it('keeps money out that rounds to nothing as money out', () => {
    expect(toProviderTransaction(tx({ ...COFFEE, amount: 1e-7 }))).toMatchObject({
      amountMinor: 0,
      type: 'DEBIT',
    });
  });

  it('treats a negative amount as money in (CREDIT)', () => {
    expect(toProviderTransaction(tx(PAYROLL))).toMatchObject({ amountMinor: 250000, type: 'CREDIT' });
    expect(toProviderTransaction(tx(CARD_PAYMENT))).toMatchObject({ amountMinor: 20000, type: 'CREDIT' });
  });

  it('keeps float-looking amounts exact', () => {
    expect(toProviderTransaction(tx(PARKING))?.amountMinor).toBe(30);
    expect(toProviderTransaction(tx({ ...COFFEE, amount: 12.34 }))?.amountMinor).toBe(1234);
    expect(toProviderTransaction(tx({ ...COFFEE, amount: 0.07 * 3 }))?.amountMinor).toBe(21);
  });

  it('marks pending transactions and links a posted one to its pending one', () => {
    const pending = toProviderTransaction(tx(GROCERY_PENDING));
    expect(pending).toMatchObject({ status: 'PENDING', pendingTransactionId: null, amountMinor: 8940 });
    const posted = toProviderTransaction(tx(GROCERY_POSTED));
    expect(posted).toMatchObject({
      providerTransactionId: 'txnGroceryPosted01',
      status: 'BOOKED',
      pendingTransactionId: 'txnGroceryPending01',
      amountMinor: 9120,
      type: 'DEBIT',
    });
  });

  it('describes by merchant name, else by name', () => {
    expect(toProviderTransaction(tx(COFFEE))?.description).toBe('Corner Coffee');
    expect(toProviderTransaction(tx(PAYROLL))?.description).toBe('ACME CORP PAYROLL');
    expect(toProviderTransaction(tx({ ...COFFEE, merchant: '  ' }))?.description).toBe('CORNER COFFEE #12');
  });

  it('takes the primary personal finance category, lower-cased, or null', () => {
    expect(toProviderTransaction(tx(COFFEE))?.category).toBe('food_and_drink');
    expect(toProviderTransaction(tx({ ...COFFEE, category: null }))?.category).toBeNull();
    expect(toProviderTransaction(tx(COFFEE, { personal_finance_category: undefined }))?.category).toBeNull();
  });

  it('upper-cases the currency and skips an unofficial one', () => {
    expect(toProviderTransaction(tx(COFFEE, { iso_currency_code: 'gbp' }))?.currency).toBe('GBP');
    expect(
      toProviderTransaction(tx(COFFEE, { iso_currency_code: null, unofficial_currency_code: 'DOGE' })),
    ).toBeNull();
  });

  it('dates by authorisation first, then the posted date-time, then the date', () => {
    expect(transactionDate(tx(COFFEE))).toEqual(new Date('2026-05-01T00:00:00.000Z'));
    expect(transactionDate(tx(COFFEE, { authorized_datetime: '2026-05-01T08:15:00Z' }))).toEqual(
      new Date('2026-05-01T08:15:00Z'),
    );
    expect(transactionDate(tx(PAYROLL))).toEqual(new Date('2026-05-03T06:00:00Z'));
    expect(transactionDate(tx({ ...COFFEE, authorized: null }))).toEqual(
      new Date('2026-05-02T00:00:00.000Z'),
    );
    expect(() => transactionDate(tx({ ...COFFEE, authorized: null, date: 'soon' }))).toThrow(RangeError);
    // A date-time that names no offset is UTC, whatever the server's own zone.
    expect(transactionDate(tx(COFFEE, { authorized_datetime: '2026-05-01T23:30:00' }))).toEqual(
      new Date('2026-05-01T23:30:00Z'),
    );
  });

  it('gives the pending and posted versions the same date', () => {
    expect(toProviderTransaction(tx(GROCERY_POSTED))?.transactionDate).toEqual(
      toProviderTransaction(tx(GROCERY_PENDING))?.transactionDate,
    );
  });
});

describe('toProviderAccount', () => {
  it("keeps Plaid's persistent_account_id as the account's stable reference across items", () => {
    expect(toProviderAccount({ ...checkingJson, persistent_account_id: 'persist-7' })?.stableReference).toBe(
      'persist-7',
    );
  });

  it('prefers the persistent_account_id to a reference made from the description', () => {
    const withBoth = { ...checkingJson, persistent_account_id: 'persist-7' };
    expect(toProviderAccount(withBoth, 'plaid-described:x')?.stableReference).toBe('persist-7');
    expect(toProviderAccount(checkingJson, 'plaid-described:x')?.stableReference).toBe('plaid-described:x');
  });

  it('maps a checking account with balances in minor units and no account number', () => {
    expect(toProviderAccount(checkingJson)).toEqual({
      providerAccountId: checkingJson.account_id,
      name: 'Everyday Checking',
      type: 'CHECKING',
      currency: 'USD',
      accountNumber: null,
      sortCode: null,
      stableReference: null,
      balanceMinor: 121057,
      availableBalanceMinor: 120345,
    });
  });

  it('shows a credit balance as money owed: negative', () => {
    expect(toProviderAccount(cardJson)).toMatchObject({
      type: 'CREDIT',
      balanceMinor: -41034,
      availableBalanceMinor: 458966,
    });
    expect(
      toProviderAccount({ ...cardJson, balances: { ...cardJson.balances, current: -12.5 } })?.balanceMinor,
    ).toBe(1250);
    expect(
      toProviderAccount({ ...cardJson, balances: { ...cardJson.balances, current: 0 } })?.balanceMinor,
    ).toBe(0);
  });

  it('maps types and subtypes', () => {
    expect(accountType('depository', 'checking')).toBe('CHECKING');
    expect(accountType('depository', 'savings')).toBe('SAVINGS');
    expect(accountType('depository', 'money market')).toBe('SAVINGS');
    expect(accountType('depository', 'cd')).toBe('SAVINGS');
    expect(accountType('depository', 'prepaid')).toBe('CHECKING');
    expect(accountType('depository', null)).toBe('CHECKING');
    expect(accountType('credit', 'credit card')).toBe('CREDIT');
    expect(accountType('loan', 'mortgage')).toBe('CREDIT');
    expect(accountType('investment', 'brokerage')).toBe('INVESTMENT');
    expect(accountType('brokerage', null)).toBe('INVESTMENT');
    expect(accountType('other', null)).toBe('CHECKING');
  });

  it('keeps null balances null, and never reads the mask as a number', () => {
    const mapped = toProviderAccount(account({ mask: '1234' }, { current: null, available: null }));
    expect(mapped).toMatchObject({ balanceMinor: null, availableBalanceMinor: null, accountNumber: null });
  });

  it('skips an account without an ISO currency', () => {
    expect(
      toProviderAccount(account({}, { iso_currency_code: null, unofficial_currency_code: 'BTC' })),
    ).toBeNull();
  });

  it('maps a loan balance as owed', () => {
    const loan = account({ type: 'loan', subtype: 'student' }, { current: 1000.1, available: null });
    expect(toProviderAccount(loan)).toMatchObject({ type: 'CREDIT', balanceMinor: -100010 });
  });
});

describe('accountReferences', () => {
  const INSTITUTION = 'ins_100001';

  it('gives the same account the same reference in a new Item, where its account_id changes', () => {
    const first = accountReferences([checkingJson, cardJson], INSTITUTION);
    const second = accountReferences(
      [
        { ...checkingJson, account_id: 'chk-item2' },
        { ...cardJson, account_id: 'crd-item2' },
      ],
      INSTITUTION,
    );
    expect(first.get(checkingJson.account_id)).toEqual(expect.stringMatching(/^plaid-described:/));
    expect(second.get('chk-item2')).toBe(first.get(checkingJson.account_id));
    expect(second.get('crd-item2')).toBe(first.get(cardJson.account_id));
    expect(first.get(checkingJson.account_id)).not.toBe(first.get(cardJson.account_id));
  });

  it('gives none to accounts alike in institution, type, subtype, mask and name', () => {
    const twin = { ...checkingJson, account_id: 'chk-twin' };
    const references = accountReferences([checkingJson, twin, cardJson], INSTITUTION);
    expect(references.get(checkingJson.account_id)).toBeNull();
    expect(references.get('chk-twin')).toBeNull();
    expect(references.get(cardJson.account_id)).toEqual(expect.any(String));
  });

  it('gives none without a mask, and tells institutions and masks apart', () => {
    expect(
      accountReferences([{ ...checkingJson, mask: null }], INSTITUTION).get(checkingJson.account_id),
    ).toBeNull();
    const here = accountReferences([checkingJson], INSTITUTION).get(checkingJson.account_id);
    expect(accountReferences([checkingJson], 'ins_100003').get(checkingJson.account_id)).not.toBe(here);
    expect(
      accountReferences([{ ...checkingJson, mask: '0001' }], INSTITUTION).get(checkingJson.account_id),
    ).not.toBe(here);
  });
});

describe('items', () => {
  const now = new Date('2026-06-01T12:00:00Z');

  it('grants accounts and balances always, transactions with the product', () => {
    expect(itemScopes(item())).toEqual(['accounts', 'balances', 'transactions']);
    expect(itemScopes(item({ products: ['auth'], billed_products: ['auth'] }))).toEqual([
      'accounts',
      'balances',
    ]);
    expect(itemScopes(item({ products: undefined, billed_products: ['transactions'] }))).toContain(
      'transactions',
    );
  });

  it("expires at the item's consent expiration time, else after the fallback", () => {
    const dated = item({ consent_expiration_time: '2026-09-01T00:00:00Z' });
    expect(itemExpiry(dated, now)).toEqual(new Date('2026-09-01T00:00:00Z'));
    expect(itemHasExpiry(dated)).toBe(true);
    expect(itemExpiry(item(), now)).toEqual(new Date(now.getTime() + NO_EXPIRY_FALLBACK_DAYS * 86_400_000));
    expect(itemHasExpiry(item())).toBe(false);
  });
});

describe('institutions', () => {
  it('maps id, name, countries and the logo as a data URL', () => {
    const [harbour, harbourside] = INSTITUTIONS as unknown as [PlaidInstitution, PlaidInstitution];
    expect(toInstitution(harbour)).toEqual({
      id: 'ins_100001',
      name: 'Harbour Federal Bank',
      countries: ['US'],
      logoUrl: `data:image/png;base64,${LOGO_BASE64}`,
      maxHistoryDays: null,
    });
    expect(toInstitution(harbourside).logoUrl).toBeNull();
  });
});

describe('errors', () => {
  it('maps codes onto the internal kinds', () => {
    expect(errorKind(400, plaidError('ITEM_LOGIN_REQUIRED', 'ITEM_ERROR'))).toBe('login_required');
    expect(
      errorKind(
        400,
        plaidError('ITEM_LOGIN_REQUIRED', 'ITEM_ERROR', { error_code_reason: 'OAUTH_CONSENT_EXPIRED' }),
      ),
    ).toBe('expired');
    expect(
      errorKind(
        400,
        plaidError('ITEM_LOGIN_REQUIRED', 'ITEM_ERROR', { error_code_reason: 'OAUTH_USER_REVOKED' }),
      ),
    ).toBe('revoked');
    expect(errorKind(400, plaidError('INVALID_ACCESS_TOKEN', 'INVALID_INPUT'))).toBe('revoked');
    expect(errorKind(400, plaidError('ITEM_NOT_FOUND', 'ITEM_ERROR'))).toBe('revoked');
    expect(errorKind(400, plaidError('USER_PERMISSION_REVOKED', 'ITEM_ERROR'))).toBe('revoked');
    expect(errorKind(400, plaidError('INVALID_PUBLIC_TOKEN', 'INVALID_INPUT'))).toBe('invalid');
    expect(errorKind(429, plaidError('RATE_LIMIT_EXCEEDED', 'RATE_LIMIT_EXCEEDED'))).toBe('rate_limited');
    expect(errorKind(429, plaidError('TRANSACTIONS_SYNC_LIMIT', 'RATE_LIMIT_EXCEEDED'))).toBe('rate_limited');
    expect(errorKind(400, plaidError('INSTITUTION_DOWN', 'INSTITUTION_ERROR'))).toBe('unavailable');
    expect(errorKind(400, plaidError('INSTITUTION_NOT_RESPONDING', 'INSTITUTION_ERROR'))).toBe('unavailable');
    expect(errorKind(400, plaidError('PRODUCT_NOT_READY', 'ITEM_ERROR'))).toBe('unavailable');
    expect(errorKind(400, plaidError('LAST_UPDATED_DATETIME_OUT_OF_RANGE', 'INVALID_RESULT'))).toBe(
      'unavailable',
    );
    expect(errorKind(400, plaidError('INVALID_API_KEYS', 'INVALID_INPUT'))).toBe('unavailable');
    expect(errorKind(500, plaidError('INTERNAL_SERVER_ERROR', 'API_ERROR'))).toBe('unavailable');
    expect(errorKind(503, null)).toBe('unavailable');
    expect(errorKind(400, plaidError('INVALID_FIELD', 'INVALID_REQUEST'))).toBe('invalid');
  });

  it('maps a 4xx without a Plaid error object (a proxy, a wrong base URL) to unavailable, not to the consent', () => {
    expect(errorKind(400, null)).toBe('unavailable');
    expect(errorKind(403, null)).toBe('unavailable');
    expect(errorKind(404, null)).toBe('unavailable');
    expect(errorKind(408, null)).toBe('timeout');
  });

  it('reads the documented error object and ignores other bodies', () => {
    expect(
      parsePlaidError({
        error_type: 'ITEM_ERROR',
        error_code: 'ITEM_LOGIN_REQUIRED',
        error_message: 'login required',
        display_message: null,
        request_id: 'req1',
      }),
    ).toEqual({
      error_type: 'ITEM_ERROR',
      error_code: 'ITEM_LOGIN_REQUIRED',
      error_code_reason: null,
      error_message: 'login required',
      display_message: null,
      request_id: 'req1',
    });
    expect(parsePlaidError('oops')).toBeNull();
    expect(parsePlaidError({ message: 'no' })).toBeNull();
  });

  it('builds a ProviderError without tokens or secrets', () => {
    const error = toProviderError(
      400,
      plaidError('INVALID_PUBLIC_TOKEN', 'INVALID_INPUT', {
        error_message: 'public-sandbox-1234-abcd was not found for client s3cr3t-value',
        request_id: 'req9',
      }),
      { secrets: ['s3cr3t-value'] },
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.kind).toBe('invalid');
    expect(error.message).toContain('INVALID_PUBLIC_TOKEN');
    expect(error.message).toContain('req9');
    expect(error.message).not.toContain('public-sandbox-1234');
    expect(error.message).not.toContain('s3cr3t-value');
    expect(toProviderError(429, null, { retryAfterSeconds: 30 }).retryAfterSeconds).toBe(30);
  });

  it('gives a rate limit without Retry-After a one-minute wait, and other errors none', () => {
    // Plaid's 429 documents no Retry-After header; its limits are per minute.
    const limited = toProviderError(429, plaidError('TRANSACTIONS_SYNC_LIMIT', 'RATE_LIMIT_EXCEEDED'));
    expect(limited.kind).toBe('rate_limited');
    expect(limited.retryAfterSeconds).toBe(RATE_LIMIT_RETRY_SECONDS);
    expect(RATE_LIMIT_RETRY_SECONDS).toBe(60);
    expect(toProviderError(400, plaidError('ITEM_LOGIN_REQUIRED', 'ITEM_ERROR')).retryAfterSeconds).toBe(
      undefined,
    );
  });

  it('redacts every kind of Plaid token', () => {
    expect(redact('a access-production-aa-bb b link-sandbox-x1 c public-development-y')).toBe(
      'a [redacted] b [redacted] c [redacted]',
    );
  });
});

describe('state and cursors', () => {
  it('reads a stored state and ignores one without an access token', () => {
    expect(readState(null)).toBeNull();
    expect(readState({ itemId: 'i' })).toBeNull();
    expect(readState({ accessToken: 'access-sandbox-1', itemId: 'i', cursors: { a: 'c1', b: 7 } })).toEqual({
      accessToken: 'access-sandbox-1',
      itemId: 'i',
      cursors: { a: 'c1' },
    });
    expect(readState({ accessToken: 'access-sandbox-1' })?.cursors).toEqual({});
  });

  it('round-trips page cursors and rejects foreign ones', () => {
    const first = { start: null, next: 'abc', pagination: null, restarts: 0 };
    expect(decodePageCursor(encodePageCursor(first))).toEqual(first);
    const later = { start: 's', next: 'n', pagination: 'p-1', restarts: 2 };
    expect(decodePageCursor(encodePageCursor(later))).toEqual(later);
    expect(decodePageCursor('abc')).toBeNull();
    expect(decodePageCursor('plaid1.!!!')).toBeNull();
    expect(decodePageCursor(`plaid1.${Buffer.from('{"s":1,"n":"x"}').toString('base64url')}`)).toBeNull();
  });
});
