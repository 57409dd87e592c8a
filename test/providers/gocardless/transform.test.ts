import { describe, expect, it } from 'vitest';
import { providerInstant } from '../../../src/http/dates.js';
import {
  accountIdentifiers,
  accountName,
  accountType,
  agreementRequest,
  agreementTerms,
  balancesInMinor,
  errorText,
  filterInstitutions,
  fromAccessScope,
  rateLimitRetryAfter,
  requisitionProblem,
  sanitize,
  toAccessScope,
  toInstitution,
  toProviderAccount,
  toProviderError,
  toProviderTransaction,
  toTransactions,
  transactionDescription,
} from '../../../src/providers/gocardless/transform.js';
import type {
  GcAgreement,
  GcBalance,
  GcRequisition,
  GcTransaction,
} from '../../../src/providers/gocardless/types.js';
import { ProviderError } from '../../../src/providers/provider.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-26T10:15:00.000Z');

const tx = (overrides: Partial<GcTransaction> = {}): GcTransaction => ({
  transactionAmount: { amount: '-10.00', currency: 'EUR' },
  bookingDate: '2026-11-20',
  ...overrides,
});

const balance = (balanceType: string, amount: string, extra: Partial<GcBalance> = {}): GcBalance => ({
  balanceAmount: { amount, currency: 'GBP' },
  balanceType,
  ...extra,
});

const requisition = (overrides: Partial<GcRequisition> = {}): GcRequisition => ({
  id: 'req-1',
  created: '2026-11-01T09:00:00Z',
  status: 'LN',
  institution_id: 'MONZO_MONZGB2L',
  agreement: 'agr-1',
  accounts: ['acc-1'],
  ...overrides,
});

const agreement = (overrides: Partial<GcAgreement> = {}): GcAgreement => ({
  id: 'agr-1',
  created: '2026-11-01T09:00:00Z',
  institution_id: 'MONZO_MONZGB2L',
  max_historical_days: 540,
  access_valid_for_days: 90,
  access_scope: ['balances', 'details', 'transactions'],
  accepted: '2026-11-02T12:00:00Z',
  ...overrides,
});

describe('transactions', () => {
  it('turns the amount sign into a magnitude and a direction', () => {
    expect(
      toProviderTransaction(tx({ transactionAmount: { amount: '-45.20', currency: 'GBP' } }), 'BOOKED'),
    ).toMatchObject({ amountMinor: 4520, type: 'DEBIT', currency: 'GBP' });
    expect(
      toProviderTransaction(tx({ transactionAmount: { amount: '2450.00', currency: 'GBP' } }), 'BOOKED'),
    ).toMatchObject({ amountMinor: 245000, type: 'CREDIT' });
    expect(
      toProviderTransaction(tx({ transactionAmount: { amount: '+0.5', currency: 'EUR' } }), 'BOOKED'),
    ).toMatchObject({ amountMinor: 50, type: 'CREDIT' });
    expect(
      toProviderTransaction(tx({ transactionAmount: { amount: '-1500', currency: 'JPY' } }), 'BOOKED'),
    ).toMatchObject({ amountMinor: 1500, type: 'DEBIT', currency: 'JPY' });
    expect(
      toProviderTransaction(tx({ transactionAmount: { amount: '-1.234', currency: 'bhd' } }), 'BOOKED'),
    ).toMatchObject({ amountMinor: 1234, type: 'DEBIT', currency: 'BHD' });
    // Money out that rounds to nothing is still money out.
    expect(
      toProviderTransaction(tx({ transactionAmount: { amount: '-0.004', currency: 'GBP' } }), 'BOOKED'),
    ).toMatchObject({ amountMinor: 0, type: 'DEBIT' });
  });

  it('never reads money as a float: large and awkward amounts stay exact', () => {
    const t = toProviderTransaction(
      tx({ transactionAmount: { amount: '-1234567.89', currency: 'EUR' } }),
      'BOOKED',
    );
    expect(t.amountMinor).toBe(123456789);
    expect(
      toProviderTransaction(tx({ transactionAmount: { amount: '0.10', currency: 'EUR' } }), 'BOOKED')
        .amountMinor,
    ).toBe(10);
  });

  it('rounds an amount finer than its currency half away from zero, as the bank would', () => {
    const amountOf = (amount: string) =>
      toProviderTransaction(tx({ transactionAmount: { amount, currency: 'GBP' } }), 'BOOKED');
    expect(amountOf('-12.345')).toMatchObject({ amountMinor: 1235, type: 'DEBIT' });
    expect(amountOf('7.004')).toMatchObject({ amountMinor: 700, type: 'CREDIT' });
  });

  it('refuses an amount that is not a decimal number as a provider failure', () => {
    for (const amount of ['12,50', 'abc', '1.2.3']) {
      expect(() =>
        toProviderTransaction(tx({ transactionAmount: { amount, currency: 'EUR' } }), 'BOOKED'),
      ).toThrow(ProviderError);
    }
    expect(() =>
      toProviderTransaction(tx({ transactionAmount: { amount: '1.00', currency: 'ZZZ' } }), 'BOOKED'),
    ).toThrow(ProviderError);
  });

  it('takes the id from transactionId, else internalTransactionId, else null', () => {
    expect(
      toProviderTransaction(tx({ transactionId: 'T1', internalTransactionId: 'I1' }), 'BOOKED')
        .providerTransactionId,
    ).toBe('T1');
    expect(toProviderTransaction(tx({ internalTransactionId: 'I1' }), 'BOOKED').providerTransactionId).toBe(
      'I1',
    );
    expect(
      toProviderTransaction(tx({ transactionId: '  ', internalTransactionId: 'I2' }), 'BOOKED')
        .providerTransactionId,
    ).toBe('I2');
    expect(toProviderTransaction(tx(), 'PENDING').providerTransactionId).toBeNull();
  });

  it('dates by booking date, then booking date-time, then value date', () => {
    const date = (t: Partial<GcTransaction>) =>
      toProviderTransaction(tx({ bookingDate: undefined, ...t }), 'BOOKED').transactionDate.toISOString();
    expect(date({ bookingDate: '2026-11-20', valueDate: '2026-11-21' })).toBe('2026-11-20T00:00:00.000Z');
    expect(date({ bookingDateTime: '2026-11-20T13:02:11+01:00', valueDate: '2026-11-21' })).toBe(
      '2026-11-20T12:02:11.000Z',
    );
    expect(date({ bookingDateTime: '2026-11-20T13:02:11' })).toBe('2026-11-20T13:02:11.000Z');
    expect(date({ valueDate: '2026-11-21' })).toBe('2026-11-21T00:00:00.000Z');
    expect(date({ valueDateTime: '2026-11-21T07:00:00Z' })).toBe('2026-11-21T07:00:00.000Z');
    expect(() => date({})).toThrow(ProviderError);
    expect(() => date({ bookingDate: '2026-02-30' })).toThrow(ProviderError);
  });

  it('marks booked items BOOKED and pending items PENDING, booked first', () => {
    const page = toTransactions({
      transactions: {
        booked: [tx({ transactionId: 'B1' }), tx({ transactionId: 'B2' })],
        pending: [tx({ bookingDate: undefined, valueDate: '2026-11-26', transactionId: 'P1' })],
      },
    });
    expect(page.map((t) => [t.providerTransactionId, t.status])).toEqual([
      ['B1', 'BOOKED'],
      ['B2', 'BOOKED'],
      ['P1', 'PENDING'],
    ]);
    expect(toTransactions({ transactions: {} })).toEqual([]);
  });

  it('describes by remittance information, then the counterparty of the direction, then more', () => {
    const d = (t: Partial<GcTransaction>, type: 'CREDIT' | 'DEBIT' = 'DEBIT') =>
      transactionDescription(tx(t), type);
    expect(d({ remittanceInformationUnstructured: '  TESCO   STORES  ', creditorName: 'TESCO' })).toBe(
      'TESCO STORES',
    );
    expect(d({ remittanceInformationUnstructuredArray: ['SALARY NOV', 'ACME LTD'] })).toBe(
      'SALARY NOV ACME LTD',
    );
    expect(d({ remittanceInformationStructured: 'RF18539007547034' })).toBe('RF18539007547034');
    expect(d({ creditorName: 'SPOTIFY', debtorName: 'JANE DOE' }, 'DEBIT')).toBe('SPOTIFY');
    expect(d({ creditorName: 'JANE DOE', debtorName: 'ACME LTD' }, 'CREDIT')).toBe('ACME LTD');
    expect(d({ debtorName: 'ACME LTD' }, 'DEBIT')).toBe('ACME LTD');
    expect(d({ additionalInformation: 'CARD PAYMENT' })).toBe('CARD PAYMENT');
    expect(d({})).toBe('');
  });

  it('takes the category from proprietaryBankTransactionCode, else null', () => {
    expect(toProviderTransaction(tx({ proprietaryBankTransactionCode: 'POS' }), 'BOOKED').category).toBe(
      'POS',
    );
    expect(
      toProviderTransaction(tx({ bankTransactionCode: 'PMNT-CCRD-POSD' }), 'BOOKED').category,
    ).toBeNull();
  });
});

describe('balances', () => {
  it('takes the more recent booked balance for balance and interimAvailable for available', () => {
    const list = [
      balance('closingBooked', '1250.00', { referenceDate: '2026-11-25' }),
      balance('interimAvailable', '1682.51', { referenceDate: '2026-11-26' }),
      balance('interimBooked', '1187.51', { referenceDate: '2026-11-26' }),
      balance('expected', '1115.51', { referenceDate: '2026-11-26' }),
    ];
    expect(balancesInMinor(list, 'GBP')).toEqual({ balanceMinor: 118751, availableBalanceMinor: 168251 });
  });

  it('prefers closingBooked over interimBooked of the same date, and either over expected', () => {
    const same = [
      balance('expected', '3.00'),
      balance('interimBooked', '2.00', { referenceDate: '2026-11-26' }),
      balance('closingBooked', '1.00', { referenceDate: '2026-11-26' }),
    ];
    expect(balancesInMinor(same, 'GBP').balanceMinor).toBe(100);
    const undated = [balance('interimBooked', '2.00'), balance('closingBooked', '1.00')];
    expect(balancesInMinor(undated, 'GBP').balanceMinor).toBe(100);
  });

  it('takes an available balance for the balance of a bank that reports no other', () => {
    expect(balancesInMinor([balance('interimAvailable', '523.18')], 'GBP')).toEqual({
      balanceMinor: 52318,
      availableBalanceMinor: 52318,
    });
    expect(
      balancesInMinor([balance('forwardAvailable', '10.00'), balance('closingAvailable', '12.00')], 'GBP'),
    ).toMatchObject({ balanceMinor: 1200 });
  });

  it('never takes credit still to spend, nor a projected balance, for the balance', () => {
    const card = [balance('interimAvailable', '4589.66')];
    expect(balancesInMinor(card, 'GBP', 'CREDIT')).toEqual({
      balanceMinor: null,
      availableBalanceMinor: 458966,
    });
    const withLimit = [{ ...balance('interimAvailable', '4589.66'), creditLimitIncluded: true }];
    expect(balancesInMinor(withLimit, 'GBP')).toMatchObject({ balanceMinor: null });
    expect(balancesInMinor([balance('forwardAvailable', '10.00')], 'GBP')).toEqual({
      balanceMinor: null,
      availableBalanceMinor: 1000,
    });
  });

  it('falls back: balance to expected then openingBooked; available to expected then other available', () => {
    expect(
      balancesInMinor([balance('expected', '5200.00'), balance('interimAvailable', '5100.00')], 'GBP'),
    ).toEqual({
      balanceMinor: 520000,
      availableBalanceMinor: 510000,
    });
    expect(
      balancesInMinor([balance('openingBooked', '7.00'), balance('closingAvailable', '8.00')], 'GBP'),
    ).toEqual({
      balanceMinor: 700,
      availableBalanceMinor: 800,
    });
    expect(balancesInMinor([balance('closingBooked', '-25.10')], 'GBP')).toEqual({
      balanceMinor: -2510,
      availableBalanceMinor: null,
    });
    expect(balancesInMinor([balance('nonInvoiced', '9.00')], 'GBP')).toEqual({
      balanceMinor: null,
      availableBalanceMinor: null,
    });
    expect(balancesInMinor(null, 'GBP')).toEqual({ balanceMinor: null, availableBalanceMinor: null });
  });

  it('ignores balances in another currency than the account', () => {
    const list = [
      { balanceAmount: { amount: '99.00', currency: 'EUR' }, balanceType: 'closingBooked' },
      balance('interimBooked', '12.00'),
    ];
    expect(balancesInMinor(list, 'GBP').balanceMinor).toBe(1200);
  });
});

describe('accounts', () => {
  it('gives a UK account its 8-digit number and 6-digit sort code from the bban', () => {
    expect(
      accountIdentifiers({ iban: 'GB33BUKB20201555555555', bban: '20201555555555', currency: 'GBP' }),
    ).toEqual({
      accountNumber: '55555555',
      sortCode: '202015',
    });
    expect(accountIdentifiers({ bban: 'BUKB 2020 1555 5555 55', currency: 'GBP' })).toEqual({
      accountNumber: '55555555',
      sortCode: '202015',
    });
  });

  it('reads a UK scan, split or as one string', () => {
    expect(accountIdentifiers({ scan: { sortCode: '60-16-13', accountNumber: '31926819' } })).toEqual({
      accountNumber: '31926819',
      sortCode: '601613',
    });
    expect(accountIdentifiers({ scan: '601613 31926819', iban: 'GB29NWBK60161331926819' })).toEqual({
      accountNumber: '31926819',
      sortCode: '601613',
    });
  });

  it('derives the sort code and number from a GB IBAN when there is nothing else', () => {
    expect(accountIdentifiers({ iban: 'GB09 BUKB 2020 1573 8491 20' })).toEqual({
      accountNumber: '73849120',
      sortCode: '202015',
    });
  });

  it('gives other accounts the bban, else the IBAN in electronic form, and no sort code', () => {
    expect(accountIdentifiers({ iban: 'DE89 3704 0044 0532 0130 00', currency: 'EUR' })).toEqual({
      accountNumber: 'DE89370400440532013000',
      sortCode: null,
    });
    expect(accountIdentifiers({ iban: 'de89370400440532013000', bban: '370400440532013000' })).toEqual({
      accountNumber: '370400440532013000',
      sortCode: null,
    });
    expect(accountIdentifiers({ maskedPan: '4111 11XX XXXX 1111' })).toEqual({
      accountNumber: '411111XXXXXX1111',
      sortCode: null,
    });
    expect(accountIdentifiers({})).toEqual({ accountNumber: null, sortCode: null });
  });

  it('maps the cash account type', () => {
    expect(accountType('CACC')).toBe('CHECKING');
    expect(accountType('TRAN')).toBe('CHECKING');
    expect(accountType('svgs')).toBe('SAVINGS');
    expect(accountType('LLSV')).toBe('SAVINGS');
    expect(accountType('CARD')).toBe('CREDIT');
    expect(accountType('LOAN')).toBe('CREDIT');
    expect(accountType('MOMA')).toBe('INVESTMENT');
    expect(accountType('WHAT')).toBe('CHECKING');
    expect(accountType(undefined)).toBe('CHECKING');
  });

  it('names the account by its name, else the product, else the owner', () => {
    expect(accountName({ name: 'Main', product: 'Current', ownerName: 'Jane' })).toBe('Main');
    expect(accountName({ product: 'Everyday Saver', ownerName: 'Jane' })).toBe('Everyday Saver');
    expect(accountName({ ownerName: 'Jane Doe' })).toBe('Jane Doe');
    expect(accountName(null, { id: 'x', owner_name: 'Jo' })).toBe('Jo');
    expect(accountName({})).toBe('Bank account');
  });

  it('builds the account: currency upper case, balances in minor units', () => {
    expect(
      toProviderAccount({
        id: 'acc-1',
        details: {
          iban: 'DE89370400440532013000',
          currency: 'eur',
          product: 'Girokonto',
          cashAccountType: 'CACC',
        },
        balances: [
          { balanceAmount: { amount: '100.10', currency: 'EUR' }, balanceType: 'interimBooked' },
          { balanceAmount: { amount: '90.00', currency: 'EUR' }, balanceType: 'interimAvailable' },
        ],
      }),
    ).toEqual({
      providerAccountId: 'acc-1',
      name: 'Girokonto',
      type: 'CHECKING',
      currency: 'EUR',
      accountNumber: 'DE89370400440532013000',
      sortCode: null,
      balanceMinor: 10010,
      availableBalanceMinor: 9000,
    });
  });

  it('without details, takes the currency from the balances and the IBAN from the metadata', () => {
    const account = toProviderAccount({
      id: 'acc-2',
      details: null,
      metadata: { id: 'acc-2', iban: 'GB29NWBK60161331926819', owner_name: 'Jane Doe' },
      balances: [{ balanceAmount: { amount: '5.00', currency: 'gbp' }, balanceType: 'expected' }],
    });
    expect(account).toMatchObject({
      currency: 'GBP',
      name: 'Jane Doe',
      accountNumber: '31926819',
      sortCode: '601613',
      balanceMinor: 500,
    });
    expect(toProviderAccount({ id: 'acc-3', details: null, balances: null }).currency).toBe('XXX');
  });
});

describe('scopes, agreements and requisitions', () => {
  it('maps scopes both ways: details is accounts', () => {
    expect(toAccessScope(['transactions', 'accounts'])).toEqual(['details', 'transactions']);
    expect(toAccessScope(['balances'])).toEqual(['balances']);
    expect(fromAccessScope(['transactions', 'details', 'balances'])).toEqual([
      'accounts',
      'balances',
      'transactions',
    ]);
    expect(fromAccessScope(['balances', 'unknown'])).toEqual(['balances']);
  });

  it('grants the agreement scopes until acceptance plus access_valid_for_days', () => {
    expect(agreementTerms(agreement({ access_scope: ['details', 'balances'] }), requisition())).toEqual({
      scopes: ['accounts', 'balances'],
      expiresAt: new Date(Date.parse('2026-11-02T12:00:00Z') + 90 * DAY),
      maxHistoricalDays: 540,
    });
  });

  it('counts an unaccepted agreement from its creation, and no agreement as the 90-day default', () => {
    expect(agreementTerms(agreement({ accepted: null }), requisition()).expiresAt).toEqual(
      new Date(Date.parse('2026-11-01T09:00:00Z') + 90 * DAY),
    );
    expect(agreementTerms(null, requisition({ agreement: null, created: '2026-11-10T07:45:00Z' }))).toEqual({
      scopes: ['accounts', 'balances', 'transactions'],
      expiresAt: new Date(Date.parse('2026-11-10T07:45:00Z') + 90 * DAY),
      maxHistoricalDays: 90,
    });
  });

  it('maps each requisition status to the error it means', () => {
    expect(requisitionProblem('LN')).toBeNull();
    expect(requisitionProblem('EX')?.kind).toBe('expired');
    expect(requisitionProblem('RJ')).toMatchObject({
      kind: 'invalid',
      message: expect.stringMatching(/rejected/),
    });
    expect(requisitionProblem('SU')?.kind).toBe('revoked');
    for (const status of ['CR', 'GC', 'UA', 'SA', 'GA']) {
      expect(requisitionProblem(status)).toMatchObject({
        kind: 'invalid',
        message: expect.stringMatching(/not yet authorised/),
      });
    }
    expect(requisitionProblem('ZZ')?.kind).toBe('invalid');
  });

  it('builds an agreement request: days capped at the bank and 180, history of the bank', () => {
    const institution = { transaction_total_days: '730', max_access_valid_for_days: '180' };
    expect(
      agreementRequest({
        institutionId: 'MONZO_MONZGB2L',
        scopes: ['accounts', 'transactions'],
        days: 30,
        institution,
      }),
    ).toEqual({
      institution_id: 'MONZO_MONZGB2L',
      max_historical_days: 730,
      access_valid_for_days: 30,
      access_scope: ['details', 'transactions'],
    });
    expect(
      agreementRequest({ institutionId: 'X', scopes: ['balances'], days: 400, institution })
        .access_valid_for_days,
    ).toBe(180);
    expect(
      agreementRequest({ institutionId: 'X', scopes: ['balances'], days: null, institution })
        .access_valid_for_days,
    ).toBe(180);
    const strict = { transaction_total_days: '90', max_access_valid_for_days: '90' };
    expect(
      agreementRequest({ institutionId: 'X', scopes: ['balances'], days: null, institution: strict }),
    ).toMatchObject({
      access_valid_for_days: 90,
      max_historical_days: 90,
    });
    expect(
      agreementRequest({ institutionId: 'X', scopes: ['balances'], days: 120, institution: null }),
    ).toMatchObject({
      access_valid_for_days: 120,
      max_historical_days: 90,
    });
  });
});

describe('institutions', () => {
  it('maps id, name, countries, logo and history days', () => {
    expect(
      toInstitution({
        id: 'N26_NTSBDEB1',
        name: 'N26 Bank',
        bic: 'NTSBDEB1',
        transaction_total_days: '90',
        countries: ['de', 'AT'],
        logo: 'https://cdn-logos.gocardless.com/ais/N26_NTSBDEB1.png',
      }),
    ).toEqual({
      id: 'N26_NTSBDEB1',
      name: 'N26 Bank',
      countries: ['DE', 'AT'],
      logoUrl: 'https://cdn-logos.gocardless.com/ais/N26_NTSBDEB1.png',
      maxHistoryDays: 90,
    });
    expect(toInstitution({ id: 'X', name: 'X', transaction_total_days: 'n/a', logo: '' })).toMatchObject({
      countries: [],
      logoUrl: null,
      maxHistoryDays: null,
    });
  });

  it('filters by a text in the name, case-insensitively', () => {
    const list = [
      { id: 'MONZO_MONZGB2L', name: 'Monzo Bank', countries: ['GB'], logoUrl: null, maxHistoryDays: 730 },
      { id: 'REVOLUT_REVOGB21', name: 'Revolut', countries: ['GB'], logoUrl: null, maxHistoryDays: 730 },
    ];
    expect(filterInstitutions(list, 'monzo').map((i) => i.id)).toEqual(['MONZO_MONZGB2L']);
    expect(filterInstitutions(list, ' BANK ').map((i) => i.id)).toEqual(['MONZO_MONZGB2L']);
    expect(filterInstitutions(list, undefined)).toHaveLength(2);
    expect(filterInstitutions(list, 'nothing')).toEqual([]);
  });
});

describe('errors', () => {
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
    status,
    body,
    headers: new Headers(headers),
  });
  const kind = (status: number, body: unknown, call: Parameters<typeof toProviderError>[1] = 'account') =>
    toProviderError(answer(status, body), call, { now: NOW }).kind;

  describe('a 429 is rate_limited, waiting for the limit that was hit', () => {
    // GoCardless's documented 429 body, the same for its API's limit and a bank's daily one.
    const limited = (detail: string) => ({ summary: 'Rate limit exceeded', detail, status_code: 429 });
    const waitFor = (
      body: unknown,
      headers: Record<string, string>,
      call: 'account' | 'requisition' = 'account',
    ) => toProviderError(answer(429, body, headers), call, { now: NOW });
    // Every answer carries both limits' headers; here the API's window has a second left.
    const apiWindow = {
      HTTP_X_RATELIMIT_LIMIT: '100',
      HTTP_X_RATELIMIT_REMAINING: '97',
      HTTP_X_RATELIMIT_RESET: '1',
    };
    const accountDay = (remaining: number) => ({
      HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_LIMIT: '4',
      HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_REMAINING: String(remaining),
      HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_RESET: '49500',
    });

    it("waits as long as the detail says, not the API window's reset, after a bank's daily limit", () => {
      const error = waitFor(
        limited('The rate limit for this resource is 4/day. Please try again in 85092 seconds'),
        { ...apiWindow, ...accountDay(0) },
      );
      expect(error).toMatchObject({ kind: 'rate_limited', retryAfterSeconds: 85092 });
      expect(
        waitFor(limited('The rate limit for this resource is 100/minute. Please try again in 42 seconds'), {
          ...apiWindow,
          ...accountDay(3),
        }).retryAfterSeconds,
      ).toBe(42);
    });

    it('without a stated wait, waits for the reset of the limit with none left (the longest if both)', () => {
      const noWait = { summary: "Couldn't update transactions", type: 'RateLimitError' };
      expect(waitFor(noWait, { ...apiWindow, ...accountDay(0) }).retryAfterSeconds).toBe(49500);
      const apiSpent = { ...apiWindow, HTTP_X_RATELIMIT_REMAINING: '0', HTTP_X_RATELIMIT_RESET: '42' };
      expect(waitFor(noWait, { ...apiSpent, ...accountDay(3) }).retryAfterSeconds).toBe(42);
      expect(waitFor(noWait, { ...apiSpent, ...accountDay(0) }).retryAfterSeconds).toBe(49500);
      expect(
        rateLimitRetryAfter(
          new Headers({
            'x-ratelimit-account-success-remaining': '0',
            'x-ratelimit-account-success-reset': '300',
          }),
          '',
          'account',
          NOW,
        ),
      ).toBe(300);
    });

    it("with no count left said, takes the account limit's reset on the account endpoints, else the API's", () => {
      const resets = { HTTP_X_RATELIMIT_RESET: '42', HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_RESET: '49500' };
      expect(waitFor(null, resets, 'account').retryAfterSeconds).toBe(49500);
      expect(waitFor(null, resets, 'requisition').retryAfterSeconds).toBe(42);
      expect(waitFor(null, { 'Retry-After': '7' }, 'requisition').retryAfterSeconds).toBe(7);
      expect(waitFor(null, {}, 'requisition').retryAfterSeconds).toBeUndefined();
    });
  });

  it('maps an expired agreement to expired, whatever the status', () => {
    // As GoCardless documents it on the account endpoints: a 401.
    expect(
      kind(401, {
        summary: 'End User Agreement (EUA) 3fa85f64-5717-4562-b3fc-2c963f66afa6 has expired',
        detail:
          'EUA was valid for 90 days and it expired at 2026-11-20T10:00:00Z. The end user must reconnect.',
        status_code: 401,
      }),
    ).toBe('expired');
    expect(kind(409, { summary: 'End User Agreement (EUA) 123 has expired', status_code: 409 })).toBe(
      'expired',
    );
    expect(kind(400, { summary: 'EUA expired', detail: 'EUA was valid for 90 days and it expired.' })).toBe(
      'expired',
    );
    expect(kind(409, { summary: 'Conflict', status_code: 409 })).toBe('expired');
    expect(
      kind(409, { summary: 'Account suspended', detail: 'This account or its requisition was suspended' }),
    ).toBe('revoked');
  });

  it('maps 401 and 403 on an account to login_required or revoked; elsewhere to unavailable', () => {
    expect(
      kind(401, { summary: 'Access has expired or it has been revoked', type: 'AccessExpiredError' }),
    ).toBe('login_required');
    expect(
      kind(401, {
        summary: 'Account has been deactivated or it no longer exists',
        type: 'AccountInactiveError',
      }),
    ).toBe('revoked');
    expect(kind(403, { summary: 'Insufficient access scope', status_code: 403 })).toBe('login_required');
    expect(
      kind(401, { summary: 'Invalid token', detail: 'Token is invalid or expired' }, 'requisition'),
    ).toBe('unavailable');
    expect(kind(403, { summary: 'IP address access denied' }, 'institution')).toBe('unavailable');
    // Our deployment's address, not the user's consent: the same on an account.
    expect(
      kind(403, {
        summary: 'IP address access denied',
        detail: "Your IP 203.0.113.9 isn't whitelisted to perform this action",
        status_code: 403,
      }),
    ).toBe('unavailable');
  });

  it('maps 404 and other 4xx to invalid, and 5xx to unavailable', () => {
    expect(kind(404, { summary: 'Not found.', detail: 'Not found.', status_code: 404 }, 'requisition')).toBe(
      'invalid',
    );
    expect(kind(400, { institution_id: ['This field is required.'], status_code: 400 }, 'agreement')).toBe(
      'invalid',
    );
    expect(kind(503, { summary: 'Institution service unavailable', type: 'ServiceError' })).toBe(
      'unavailable',
    );
  });

  it('words the message from the summary and detail, or the fields, without account numbers or tokens', () => {
    expect(errorText({ summary: 'Not found.', detail: 'Not found.' })).toBe('Not found.');
    expect(
      errorText({
        max_historical_days: { summary: 'Incorrect max_historical_days', detail: 'must be > 0' },
        institution_id: ['This field is required.'],
        status_code: 400,
      }),
    ).toBe('max_historical_days: Incorrect max_historical_days; institution_id: This field is required.');
    expect(errorText({ summary: ['Institution access scope dependencies error'] })).toBe(
      'Institution access scope dependencies error',
    );
    const text = sanitize(
      'Account GB33BUKB20201555555555 (55555555, 4111 1111 1111 1111) token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln on 2026-11-26',
    );
    expect(text).not.toMatch(/GB33|55555555|4111|eyJ/);
    expect(text).toContain('2026-11-26');
    const error = toProviderError(answer(400, { summary: 'Bad', detail: 'secret-xyz leaked' }), 'agreement', {
      now: NOW,
      redact: (t) => t.replaceAll('secret-xyz', '[redacted]'),
    });
    expect(error.message).not.toContain('secret-xyz');
  });

  it('parses dates and date-times as UTC', () => {
    expect(providerInstant('2026-11-26')?.toISOString()).toBe('2026-11-26T00:00:00.000Z');
    expect(providerInstant('2026-11-26T10:00:00.123456Z')?.toISOString()).toBe('2026-11-26T10:00:00.123Z');
    expect(providerInstant('26/11/2026')).toBeNull();
    expect(providerInstant(undefined)).toBeNull();
  });

  it('reads a date of the first century in its own year, and gives no instant the database cannot store', () => {
    expect(providerInstant('0050-06-15')?.toISOString()).toBe('0050-06-15T00:00:00.000Z');
    expect(providerInstant('0000-01-01')).toBeNull();
    expect(providerInstant('0000-12-31T23:59:59Z')).toBeNull();
    expect(providerInstant('2026-02-30')).toBeNull();
  });
});
