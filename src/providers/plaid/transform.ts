/**
 * Pure functions from Plaid's shapes to the provider interface's: no I/O, no clock of their own.
 */
import { providerInstant } from '../../http/dates.js';
import { isCurrencyCode, toMinorUnits } from '../../money.js';
import {
  type AccountType,
  type Institution,
  type ProviderAccount,
  ProviderError,
  type ProviderErrorKind,
  type ProviderTransaction,
  type Scope,
} from '../provider.js';
import type {
  PlaidAccount,
  PlaidErrorBody,
  PlaidInstitution,
  PlaidItem,
  PlaidState,
  PlaidTransaction,
} from './types.js';

const DAY_MS = 86_400_000;

/**
 * Plaid gives no expiry for most items (only EU/UK and a few US institutions expire consent:
 * `consent_expiration_time` is null otherwise). We then record one of 365 days, the period after
 * which Plaid asks the user to re-authorise an item under its data-transparency rules; a later
 * consent update may move it (see `PlaidProvider.updateConsent`).
 */
export const NO_EXPIRY_FALLBACK_DAYS = 365;

/** The countries Plaid serves (its `CountryCode` enum). */
export const PLAID_COUNTRIES = [
  'US',
  'CA',
  'GB',
  'IE',
  'FR',
  'ES',
  'NL',
  'DE',
  'IT',
  'PL',
  'DK',
  'NO',
  'SE',
  'EE',
  'LT',
  'LV',
  'PT',
  'BE',
  'AT',
  'FI',
] as const;

// ---------------------------------------------------------------------------------------------
// Accounts

/** Depository subtypes that hold savings rather than day-to-day money. */
const SAVINGS_SUBTYPES = new Set(['savings', 'money market', 'cd', 'cash isa', 'isa', 'hsa', 'ebt']);

/**
 * Plaid's type and subtype onto ours: depository savings-like subtypes are SAVINGS and other
 * depository accounts CHECKING; credit and loan accounts are CREDIT (money owed); investment (and
 * the legacy `brokerage`) INVESTMENT; `other` CHECKING, the most general.
 */
export function accountType(type: string, subtype: string | null): AccountType {
  switch (type) {
    case 'depository':
      return subtype !== null && SAVINGS_SUBTYPES.has(subtype.toLowerCase()) ? 'SAVINGS' : 'CHECKING';
    case 'credit':
    case 'loan':
      return 'CREDIT';
    case 'investment':
    case 'brokerage':
      return 'INVESTMENT';
    default:
      return 'CHECKING';
  }
}

/** Plaid's decimal JSON number to exact integer minor units, without a float kept anywhere. */
export function amountToMinor(amount: number, currency: string): number {
  if (!Number.isFinite(amount)) throw new RangeError(`Amount ${amount} is not finite`);
  const minor = toMinorUnits(amount, currency);
  return minor === 0 ? 0 : minor;
}

/** The ISO 4217 code of a Plaid figure, or null for an unofficial or unknown currency. */
export function isoCurrency(code: string | null | undefined): string | null {
  if (typeof code !== 'string') return null;
  const upper = code.trim().toUpperCase();
  return isCurrencyCode(upper) ? upper : null;
}

/**
 * A Plaid account with its balances. Null for an account without an ISO currency (Plaid's
 * `unofficial_currency_code`, e.g. crypto), which the service cannot represent.
 * Plaid gives no account number here (that takes the Auth product): `accountNumber` is null, and
 * the `mask` (2 to 4 trailing characters) is not used as one. A credit or loan `current` balance
 * is the amount owed, so it is negated; `available` stays as Plaid gives it (credit still to spend).
 * The stable reference is Plaid's `persistent_account_id` where it gives one, else
 * `fallbackReference` (see `accountReferences`).
 */
export function toProviderAccount(
  account: PlaidAccount,
  fallbackReference: string | null = null,
): ProviderAccount | null {
  const currency = isoCurrency(account.balances.iso_currency_code);
  if (!currency) return null;
  const type = accountType(account.type, account.subtype);
  const owed = account.type === 'credit' || account.type === 'loan';
  const current = account.balances.current;
  const available = account.balances.available;
  const balanceMinor = current === null ? null : amountToMinor(owed ? -current : current, currency);
  return {
    providerAccountId: account.account_id,
    name: account.name || account.official_name || 'Account',
    type,
    currency,
    accountNumber: null,
    stableReference: persistentId(account) ?? fallbackReference,
    sortCode: null,
    balanceMinor: balanceMinor === 0 ? 0 : balanceMinor,
    availableBalanceMinor: available === null ? null : amountToMinor(available, currency),
  };
}

function persistentId(account: PlaidAccount): string | null {
  const id = account.persistent_account_id;
  return typeof id === 'string' && id.trim() !== '' ? id : null;
}

/** Marks a reference made from an account's description, never a Plaid id. */
const DESCRIBED_REFERENCE_PREFIX = 'plaid-described:';

/**
 * A reference for each account of an Item that has no `persistent_account_id` (Plaid gives one
 * only at a few institutions with tokenised account numbers, Chase among them), so that a new
 * Item of the same user (re-consent: new `account_id`s) is matched to the accounts we hold
 * instead of duplicating them with their history. It is the institution, type, subtype, `mask`
 * (the last 2 to 4 characters of the account number) and name, and only where that
 * description is unique among the Item's accounts: two accounts alike in all of it get none,
 * so they can never be taken for one another. Without a `mask` there is none either: the
 * type and name alone say too little. The account's name changing between Items (the user
 * renamed it at the bank) loses the match, as before; the service's matcher also refuses a
 * reference two of the accounts it holds share.
 */
export function accountReferences(
  accounts: PlaidAccount[],
  institutionId: string,
): Map<string, string | null> {
  const described = new Map<string, string | null>();
  for (const account of accounts) {
    const mask = typeof account.mask === 'string' ? account.mask.trim() : '';
    const name = typeof account.name === 'string' ? account.name.trim() : '';
    described.set(
      account.account_id,
      mask === '' || name === ''
        ? null
        : DESCRIBED_REFERENCE_PREFIX +
            JSON.stringify([institutionId, account.type, account.subtype ?? null, mask, name]),
    );
  }
  const counts = new Map<string, number>();
  for (const reference of described.values()) {
    if (reference !== null) counts.set(reference, (counts.get(reference) ?? 0) + 1);
  }
  const references = new Map<string, string | null>();
  for (const [accountId, reference] of described) {
    references.set(accountId, reference !== null && counts.get(reference) === 1 ? reference : null);
  }
  return references;
}

// ---------------------------------------------------------------------------------------------
// Transactions

/**
 * When the transaction happened. Plaid's reference recommends the authorisation date over the
 * posting date where it is known ("it will generally represent the date the user actually made
 * the transaction"), so a pending transaction and the posted one that replaces it keep the same
 * date: authorized_datetime, authorized_date, then the posted datetime, then date.
 */
export function transactionDate(transaction: PlaidTransaction): Date {
  const date =
    providerInstant(transaction.authorized_datetime) ??
    providerInstant(transaction.authorized_date) ??
    providerInstant(transaction.datetime) ??
    providerInstant(transaction.date);
  if (!date) throw new RangeError(`Transaction has no valid date (${transaction.date})`);
  return date;
}

/** `personal_finance_category.primary` lower-cased (`FOOD_AND_DRINK` -> `food_and_drink`). */
export function transactionCategory(transaction: PlaidTransaction): string | null {
  const primary = transaction.personal_finance_category?.primary;
  return typeof primary === 'string' && primary.trim() !== '' ? primary.trim().toLowerCase() : null;
}

/**
 * A Plaid transaction: a positive amount is money out (DEBIT), a negative one money in (CREDIT);
 * the magnitude goes to exact minor units. Null for a transaction without an ISO currency.
 */
export function toProviderTransaction(transaction: PlaidTransaction): ProviderTransaction | null {
  const currency = isoCurrency(transaction.iso_currency_code);
  if (!currency) return null;
  const signed = amountToMinor(transaction.amount, currency);
  const merchant = transaction.merchant_name?.trim();
  return {
    providerTransactionId: transaction.transaction_id,
    pendingTransactionId: transaction.pending_transaction_id ?? null,
    amountMinor: Math.abs(signed),
    // By Plaid's sign, not the rounded one: money out that rounds to 0 is still money out.
    type: transaction.amount > 0 ? 'DEBIT' : 'CREDIT',
    currency,
    description: merchant || transaction.name?.trim() || '',
    transactionDate: transactionDate(transaction),
    status: transaction.pending ? 'PENDING' : 'BOOKED',
    category: transactionCategory(transaction),
  };
}

// ---------------------------------------------------------------------------------------------
// Items and consent

/** What an item grants: accounts and balances always; transactions when the item has the product. */
export function itemScopes(item: PlaidItem): Scope[] {
  const products = new Set([
    ...(item.products ?? []),
    ...(item.billed_products ?? []),
    ...(item.consented_products ?? []),
  ]);
  return products.has('transactions') ? ['accounts', 'balances', 'transactions'] : ['accounts', 'balances'];
}

/** The item's consent expiry, or `now` + NO_EXPIRY_FALLBACK_DAYS where Plaid schedules none. */
export function itemExpiry(item: PlaidItem, now: Date): Date {
  return (
    providerInstant(item.consent_expiration_time) ??
    new Date(now.getTime() + NO_EXPIRY_FALLBACK_DAYS * DAY_MS)
  );
}

/** Whether the item itself carries an expiry (then a consent update may not go past it). */
export function itemHasExpiry(item: PlaidItem): boolean {
  return providerInstant(item.consent_expiration_time) !== null;
}

// ---------------------------------------------------------------------------------------------
// Institutions

export function toInstitution(institution: PlaidInstitution): Institution {
  const logo = typeof institution.logo === 'string' && institution.logo !== '' ? institution.logo : null;
  return {
    id: institution.institution_id,
    name: institution.name,
    countries: [...(institution.country_codes ?? [])],
    logoUrl: logo ? `data:image/png;base64,${logo}` : null,
    maxHistoryDays: null,
  };
}

// ---------------------------------------------------------------------------------------------
// Errors

const LOGIN_REQUIRED_CODES = new Set([
  'ITEM_LOGIN_REQUIRED',
  'INVALID_CREDENTIALS',
  'INVALID_MFA',
  'INVALID_SEND_METHOD',
  'INSUFFICIENT_CREDENTIALS',
  'ITEM_LOCKED',
  'USER_SETUP_REQUIRED',
  'MFA_NOT_SUPPORTED',
  'PASSWORD_RESET_REQUIRED',
  'INVALID_UPDATED_USERNAME',
]);

const REVOKED_CODES = new Set([
  'INVALID_ACCESS_TOKEN',
  'ITEM_NOT_FOUND',
  'USER_PERMISSION_REVOKED',
  'ACCESS_NOT_GRANTED',
]);

/** Codes that say this deployment is misconfigured, not that the user's consent is bad. */
const CONFIGURATION_CODES = new Set([
  'INVALID_API_KEYS',
  'UNAUTHORIZED_ENVIRONMENT',
  'INVALID_PRODUCT',
  'INVALID_CONFIGURATION',
]);

const TRANSIENT_CODES = new Set([
  'PRODUCT_NOT_READY',
  'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION',
  'INTERNAL_SERVER_ERROR',
  'PLANNED_MAINTENANCE',
]);

/** A Plaid error object in an answer body, or null where the body is not one. */
export function parsePlaidError(body: unknown): PlaidErrorBody | null {
  if (typeof body !== 'object' || body === null) return null;
  const candidate = body as Record<string, unknown>;
  if (typeof candidate.error_code !== 'string' || typeof candidate.error_type !== 'string') return null;
  return {
    error_type: candidate.error_type,
    error_code: candidate.error_code,
    error_code_reason: typeof candidate.error_code_reason === 'string' ? candidate.error_code_reason : null,
    error_message: typeof candidate.error_message === 'string' ? candidate.error_message : '',
    display_message: typeof candidate.display_message === 'string' ? candidate.display_message : null,
    ...(typeof candidate.request_id === 'string' ? { request_id: candidate.request_id } : {}),
  };
}

/**
 * Plaid's error onto our small set. By code first (Plaid asks to use `error_code` and
 * `error_type` before HTTP statuses), then by type, then by status. Plaid has no error code of
 * its own for an expired consent: an expired OAuth consent is ITEM_LOGIN_REQUIRED with
 * `error_code_reason` OAUTH_CONSENT_EXPIRED (and /item/get shows a past `consent_expiration_time`).
 */
export function errorKind(status: number, error: PlaidErrorBody | null): ProviderErrorKind {
  const code = error?.error_code ?? '';
  const reason = error?.error_code_reason ?? '';
  if (reason === 'OAUTH_CONSENT_EXPIRED') return 'expired';
  if (reason === 'OAUTH_USER_REVOKED') return 'revoked';
  if (LOGIN_REQUIRED_CODES.has(code)) return 'login_required';
  if (REVOKED_CODES.has(code)) return 'revoked';
  if (code === 'INVALID_PUBLIC_TOKEN' || code === 'INVALID_LINK_TOKEN') return 'invalid';
  if (error?.error_type === 'RATE_LIMIT_EXCEEDED' || status === 429) return 'rate_limited';
  if (CONFIGURATION_CODES.has(code) || TRANSIENT_CODES.has(code)) return 'unavailable';
  // The bank has no balance as recent as we asked (Capital One cards): its data, not the consent.
  if (code === 'LAST_UPDATED_DATETIME_OUT_OF_RANGE') return 'unavailable';
  if (code === 'INSTITUTION_NOT_FOUND' || code === 'INSTITUTION_NO_LONGER_SUPPORTED') return 'invalid';
  if (code.startsWith('INSTITUTION_') || error?.error_type === 'INSTITUTION_ERROR') return 'unavailable';
  if (error?.error_type === 'API_ERROR' || status >= 500) return 'unavailable';
  if (status === 408) return 'timeout';
  // Plaid sends its error object with every refusal: a 4xx without one came from something in
  // between (a proxy, a wrong PLAID_BASE_URL), which says nothing about the user's consent.
  if (!error) return 'unavailable';
  return 'invalid';
}

const TOKEN_PATTERN = /\b(?:access|public|link)-(?:sandbox|development|production)-[A-Za-z0-9-]+/g;

/** Removes Plaid tokens and the given secrets from a text meant for a message or a log. */
export function redact(text: string, secrets: readonly (string | null | undefined)[] = []): string {
  let clean = text.replace(TOKEN_PATTERN, '[redacted]');
  for (const secret of secrets) {
    if (secret && secret.length >= 4) clean = clean.split(secret).join('[redacted]');
  }
  return clean;
}

/**
 * How long to wait after a Plaid rate limit that says nothing of it. Plaid's limits are counted
 * per minute (per Item and per client) and its 429 answers document no `Retry-After` header,
 * so a minute is when the window has surely moved on.
 */
export const RATE_LIMIT_RETRY_SECONDS = 60;

/**
 * The `ProviderError` for a Plaid error answer: its kind, and a message with Plaid's code,
 * request id and description, with any token or secret removed. A rate limit always carries a
 * wait (the answer's `Retry-After` where it has one), so that the API's 503 can say when to
 * come back.
 */
export function toProviderError(
  status: number,
  error: PlaidErrorBody | null,
  options: { secrets?: readonly (string | null | undefined)[]; retryAfterSeconds?: number } = {},
): ProviderError {
  const kind = errorKind(status, error);
  const described = error
    ? `Plaid ${error.error_code}${error.request_id ? ` (request ${error.request_id})` : ''}: ${
        error.display_message ?? error.error_message
      }`
    : `Plaid answered HTTP ${status}`;
  const retryAfterSeconds =
    options.retryAfterSeconds ?? (kind === 'rate_limited' ? RATE_LIMIT_RETRY_SECONDS : undefined);
  return new ProviderError(kind, redact(described, options.secrets), retryAfterSeconds);
}

// ---------------------------------------------------------------------------------------------
// State and cursors

/** The provider's state of a connection, or null where it holds no access token (not yet exchanged). */
export function readState(state: Record<string, unknown> | null | undefined): PlaidState | null {
  if (!state) return null;
  const { accessToken, itemId, cursors } = state;
  if (typeof accessToken !== 'string' || accessToken === '') return null;
  const clean: Record<string, string> = {};
  if (typeof cursors === 'object' && cursors !== null) {
    for (const [account, cursor] of Object.entries(cursors)) {
      if (typeof cursor === 'string') clean[account] = cursor;
    }
  }
  return { ...state, accessToken, itemId: typeof itemId === 'string' ? itemId : '', cursors: clean };
}

/**
 * The opaque `nextCursor` of a page: Plaid's cursor for the next page, the one the pagination
 * started from (to restart from on TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION), the id under
 * which the adapter records what the pagination delivered, and how often it has restarted.
 */
export interface PageCursor {
  /** Where this pagination started (null: from the beginning of the history). */
  start: string | null;
  /** Plaid's `next_cursor` to ask for next. */
  next: string;
  /** The pagination's record (`SyncPaginations`); null where none was kept. */
  pagination: string | null;
  /** Restarts so far in this pagination. */
  restarts: number;
}

const CURSOR_PREFIX = 'plaid1.';

export function encodePageCursor(cursor: PageCursor): string {
  const value = { s: cursor.start, n: cursor.next, p: cursor.pagination, r: cursor.restarts };
  return CURSOR_PREFIX + Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The page cursor, or null where the text is not one of ours. */
export function decodePageCursor(text: string): PageCursor | null {
  if (!text.startsWith(CURSOR_PREFIX)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(text.slice(CURSOR_PREFIX.length), 'base64url').toString());
    if (typeof value !== 'object' || value === null) return null;
    const { s, n, p, r } = value as Record<string, unknown>;
    if (typeof n !== 'string' || !(s === null || typeof s === 'string')) return null;
    return {
      start: s,
      next: n,
      pagination: typeof p === 'string' ? p : null,
      restarts: typeof r === 'number' && Number.isInteger(r) && r >= 0 ? r : 0,
    };
  } catch {
    return null;
  }
}
