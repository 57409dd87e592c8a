/**
 * Pure functions from GoCardless Bank Account Data shapes to ours, and back where we send them.
 * Nothing here talks to the network or reads a clock: `now` is passed in.
 */
import { providerInstant } from '../../http/dates.js';
import { AmountOutOfRange, toMinorUnits } from '../../money.js';
import { retryAfterSeconds } from '../http.js';
import {
  type AccountType,
  type Institution,
  type ProviderAccount,
  ProviderError,
  type ProviderTransaction,
  SCOPES,
  type Scope,
  type TransactionStatus,
} from '../provider.js';
import type {
  AccessScope,
  GcAccountDetails,
  GcAccountMetadata,
  GcAgreement,
  GcBalance,
  GcErrorBody,
  GcInstitution,
  GcRequisition,
  GcTransaction,
  GcTransactions,
} from './types.js';

export const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Scopes and agreements

const ACCESS_OF_SCOPE: Record<Scope, AccessScope> = {
  accounts: 'details',
  balances: 'balances',
  transactions: 'transactions',
};

/** Our scopes as an agreement's `access_scope`. */
export function toAccessScope(scopes: readonly Scope[]): AccessScope[] {
  return SCOPES.filter((scope) => scopes.includes(scope)).map((scope) => ACCESS_OF_SCOPE[scope]);
}

/** An agreement's `access_scope` as our scopes, in our order; unknown entries are ignored. */
export function fromAccessScope(access: readonly string[]): Scope[] {
  return SCOPES.filter((scope) => access.includes(ACCESS_OF_SCOPE[scope]));
}

/**
 * The terms GoCardless applies to a requisition made without an agreement: 90 days of access,
 * 90 days of history, all three scopes (GoCardless help centre, "What is a requisition").
 */
export const DEFAULT_TERMS = { accessValidForDays: 90, maxHistoricalDays: 90 } as const;
/** GoCardless accepts `access_valid_for_days` up to 180 (its validation message: "> 0 and <= 180"). */
export const MAX_ACCESS_DAYS = 180;

export interface AgreementTerms {
  scopes: Scope[];
  expiresAt: Date;
  maxHistoricalDays: number;
}

/**
 * What a linked requisition's agreement grants: its scopes, and access until `accepted` plus
 * `access_valid_for_days`. Without an agreement the default terms apply from the requisition's
 * creation (the earliest the user can have consented, so the expiry is never overstated); an
 * agreement not marked accepted is counted from its creation for the same reason.
 */
export function agreementTerms(agreement: GcAgreement | null, requisition: GcRequisition): AgreementTerms {
  if (!agreement) {
    const start = providerInstant(requisition.created);
    if (!start) throw malformed('a requisition without a creation date');
    return {
      scopes: [...SCOPES],
      expiresAt: new Date(start.getTime() + DEFAULT_TERMS.accessValidForDays * DAY_MS),
      maxHistoricalDays: DEFAULT_TERMS.maxHistoricalDays,
    };
  }
  const start = providerInstant(agreement.accepted) ?? providerInstant(agreement.created);
  const days = positiveInteger(agreement.access_valid_for_days);
  if (!start || days === null) throw malformed('an agreement without a start or a duration');
  return {
    scopes: fromAccessScope(Array.isArray(agreement.access_scope) ? agreement.access_scope : []),
    expiresAt: new Date(start.getTime() + days * DAY_MS),
    maxHistoricalDays: positiveInteger(agreement.max_historical_days) ?? DEFAULT_TERMS.maxHistoricalDays,
  };
}

/** The body of POST /api/v2/agreements/enduser/ for a link. */
export function agreementRequest(input: {
  institutionId: string;
  scopes: readonly Scope[];
  /** Days asked for; null for the bank's maximum. */
  days: number | null;
  institution: Pick<GcInstitution, 'transaction_total_days' | 'max_access_valid_for_days'> | null;
}) {
  const bankMaxDays = Math.min(
    positiveInteger(input.institution?.max_access_valid_for_days) ?? MAX_ACCESS_DAYS,
    MAX_ACCESS_DAYS,
  );
  const wanted =
    input.days === null || !Number.isFinite(input.days) ? bankMaxDays : Math.max(1, Math.floor(input.days));
  return {
    institution_id: input.institutionId,
    max_historical_days:
      positiveInteger(input.institution?.transaction_total_days) ?? DEFAULT_TERMS.maxHistoricalDays,
    access_valid_for_days: Math.min(wanted, bankMaxDays),
    access_scope: toAccessScope(input.scopes),
  };
}

/**
 * Why a requisition in this status cannot be used, or null when it is linked (LN).
 * Statuses per GoCardless "Statuses and Error Messages".
 */
export function requisitionProblem(status: string): ProviderError | null {
  switch (status) {
    case 'LN':
      return null;
    case 'EX':
      return new ProviderError('expired', 'the requisition has expired (its end user agreement ran out)');
    case 'RJ':
      return new ProviderError(
        'invalid',
        'the requisition was rejected: the user did not complete the authorisation at the bank',
      );
    case 'SU':
      return new ProviderError(
        'revoked',
        'GoCardless suspended the requisition after repeated errors; the user must connect again',
      );
    case 'CR':
    case 'GC':
    case 'UA':
    case 'SA':
    case 'GA':
      return new ProviderError('invalid', `the requisition is not yet authorised (status ${status})`);
    default:
      return new ProviderError('invalid', `the requisition is not authorised (status ${safeToken(status)})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Accounts and balances

const ACCOUNT_TYPES: Record<string, AccountType> = {
  CACC: 'CHECKING',
  CASH: 'CHECKING',
  TRAN: 'CHECKING',
  SLRY: 'CHECKING',
  NREX: 'CHECKING',
  NFCA: 'CHECKING',
  CISH: 'CHECKING',
  COMM: 'CHECKING',
  CHAR: 'CHECKING',
  TAXE: 'CHECKING',
  CPAC: 'CHECKING',
  VACC: 'CHECKING',
  OTHR: 'CHECKING',
  SVGS: 'SAVINGS',
  LLSV: 'SAVINGS',
  ONDP: 'SAVINGS',
  CARD: 'CREDIT',
  LOAN: 'CREDIT',
  ODFT: 'CREDIT',
  MGLD: 'CREDIT',
  MOMA: 'INVESTMENT',
  TRAS: 'INVESTMENT',
};

/** ISO 20022 cash account type to ours; unknown or absent is CHECKING (a current account). */
export function accountType(cashAccountType: string | undefined): AccountType {
  return ACCOUNT_TYPES[(cashAccountType ?? '').trim().toUpperCase()] ?? 'CHECKING';
}

/** The name the bank gives the account, else its product, else the owner's name. */
export function accountName(
  details: GcAccountDetails | null,
  metadata: GcAccountMetadata | null = null,
): string {
  return (
    firstText(
      details?.name,
      details?.displayName,
      details?.product,
      details?.ownerName,
      metadata?.name,
      metadata?.owner_name,
    ) ?? 'Bank account'
  );
}

export interface AccountIdentifiers {
  accountNumber: string | null;
  sortCode: string | null;
}

/**
 * The account number and sort code. UK accounts (a GB IBAN, a `scan`, or a GBP `bban` of a sort
 * code and an account number) give the 8-digit account number and the 6-digit sort code, from
 * `scan`, else the `bban`, else the GB IBAN (whose last 14 digits are exactly those two). Other
 * accounts give the `bban` (the domestic number), else the IBAN in electronic form, else a
 * card's masked PAN; no sort code.
 */
export function accountIdentifiers(details: Partial<GcAccountDetails>): AccountIdentifiers {
  const iban = compact(details.iban);
  const bban = compact(details.bban);
  const scan = parseScan(details.scan);
  if (scan) return scan;
  const looksUk =
    iban?.startsWith('GB') === true ||
    (details.currency?.toUpperCase() === 'GBP' && bban !== null && ukFromBban(bban) !== null);
  if (looksUk) {
    const uk = (bban ? ukFromBban(bban) : null) ?? (iban ? ukFromIban(iban) : null);
    if (uk) return uk;
  }
  if (bban) return { accountNumber: bban, sortCode: null };
  if (iban) return { accountNumber: iban, sortCode: null };
  const pan = compact(details.maskedPan);
  return { accountNumber: pan, sortCode: null };
}

function parseScan(scan: GcAccountDetails['scan']): AccountIdentifiers | null {
  if (typeof scan === 'string') {
    const digits = scan.replace(/\D/g, '');
    return digits.length === 14 ? { sortCode: digits.slice(0, 6), accountNumber: digits.slice(6) } : null;
  }
  if (scan && typeof scan === 'object') {
    const sortCode = (scan.sortCode ?? '').replace(/\D/g, '');
    const accountNumber = (scan.accountNumber ?? '').replace(/\D/g, '');
    if (sortCode.length === 6 && /^\d{6,10}$/.test(accountNumber)) return { sortCode, accountNumber };
  }
  return null;
}

/** A UK BBAN: 6-digit sort code + 8-digit account number, optionally after the 4-letter bank code. */
function ukFromBban(bban: string): AccountIdentifiers | null {
  const match = /^(?:[A-Z]{4})?(\d{6})(\d{8})$/.exec(bban);
  return match?.[1] && match[2] ? { sortCode: match[1], accountNumber: match[2] } : null;
}

/** GB IBAN: GBkk BBBB SSSSSS AAAAAAAA. */
function ukFromIban(iban: string): AccountIdentifiers | null {
  const match = /^GB\d{2}[A-Z]{4}(\d{6})(\d{8})$/.exec(iban);
  return match?.[1] && match[2] ? { sortCode: match[1], accountNumber: match[2] } : null;
}

/**
 * Which balance types stand for `balance` and `availableBalance`, best first. Types within one
 * tier compete on recency (the later `referenceDate` / `lastChangeDateTime` wins, then the order
 * here); a later tier is used only when no balance of an earlier tier is given.
 * - balance: the booked balance (closingBooked or interimBooked, whichever is more recent), else
 *   `expected` (booked plus pending), else an opening booked balance, else
 *   `AVAILABLE_AS_BALANCE`.
 * - available: interimAvailable, else `expected`, else the other available balances.
 * Balance type meanings: Berlin Group / GoCardless balance types.
 */
export const BALANCE_TIERS: readonly (readonly string[])[] = [
  ['closingBooked', 'interimBooked'],
  ['expected'],
  ['openingBooked', 'previouslyClosedBooked'],
];
export const AVAILABLE_TIERS: readonly (readonly string[])[] = [
  ['interimAvailable'],
  ['expected'],
  ['closingAvailable', 'forwardAvailable', 'openingAvailable'],
];
/**
 * For a bank that gives only an available balance (GoCardless passes on what each bank reports):
 * that one, closer to the account's balance than the 0 or the stale value it would otherwise
 * keep; but not a projected one (`forwardAvailable`), nor one that includes a credit limit, nor a
 * card's, which are credit still to spend rather than money held or owed.
 */
const AVAILABLE_AS_BALANCE: readonly (readonly string[])[] = [
  ['interimAvailable'],
  ['closingAvailable', 'openingAvailable'],
];

export function pickBalance(balances: readonly GcBalance[], currency: string, tiers = BALANCE_TIERS) {
  const usable = balances.filter(
    (balance) => balance?.balanceAmount?.currency?.toUpperCase() === currency.toUpperCase(),
  );
  for (const tier of tiers) {
    const candidates = usable
      .map((balance, index) => ({ balance, index, rank: tier.indexOf(balance.balanceType) }))
      .filter((candidate) => candidate.rank >= 0)
      .sort(
        (a, b) => balanceTime(b.balance) - balanceTime(a.balance) || a.rank - b.rank || a.index - b.index,
      );
    if (candidates[0]) return candidates[0].balance;
  }
  return null;
}

function balanceTime(balance: GcBalance): number {
  const at = providerInstant(balance.lastChangeDateTime) ?? providerInstant(balance.referenceDate);
  return at ? at.getTime() : Number.NEGATIVE_INFINITY;
}

/** `balanceMinor` and `availableBalanceMinor` of an account in `currency`; null where none fits. */
export function balancesInMinor(
  balances: readonly GcBalance[] | null,
  currency: string,
  type: AccountType = 'CHECKING',
) {
  const list = balances ?? [];
  const balance =
    pickBalance(list, currency, BALANCE_TIERS) ??
    (type === 'CREDIT'
      ? null
      : pickBalance(
          list.filter((candidate) => candidate.creditLimitIncluded !== true),
          currency,
          AVAILABLE_AS_BALANCE,
        ));
  const available = pickBalance(list, currency, AVAILABLE_TIERS);
  return {
    balanceMinor: balance ? amountInMinor(balance.balanceAmount.amount, currency) : null,
    availableBalanceMinor: available ? amountInMinor(available.balanceAmount.amount, currency) : null,
  };
}

/** ISO 4217 "no currency", for an account whose currency neither details nor balances give. */
export const NO_CURRENCY = 'XXX';

export function toProviderAccount(input: {
  id: string;
  details: GcAccountDetails | null;
  metadata?: GcAccountMetadata | null;
  balances: readonly GcBalance[] | null;
}): ProviderAccount {
  const { id, details } = input;
  const metadata = input.metadata ?? null;
  const currency = (
    firstText(details?.currency, input.balances?.[0]?.balanceAmount?.currency) ?? NO_CURRENCY
  ).toUpperCase();
  const identifiers = accountIdentifiers({ ...metadataAsDetails(metadata), ...(details ?? {}), currency });
  const type = accountType(details?.cashAccountType);
  return {
    providerAccountId: id,
    name: accountName(details, metadata),
    type,
    currency,
    accountNumber: identifiers.accountNumber,
    sortCode: identifiers.sortCode,
    ...balancesInMinor(input.balances, currency, type),
  };
}

function metadataAsDetails(metadata: GcAccountMetadata | null): Partial<GcAccountDetails> {
  if (!metadata) return {};
  return {
    ...(metadata.iban ? { iban: metadata.iban } : {}),
    ...(metadata.bban ? { bban: metadata.bban } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Transactions

/**
 * One GoCardless transaction as ours. The id is the bank's `transactionId`, else GoCardless's
 * `internalTransactionId`, else null (the service then fingerprints it). The signed amount gives
 * the direction: negative is money out (DEBIT). The date is the booking date, else the booking
 * date-time, else the value date (pending items often have only that), else the value date-time.
 */
export function toProviderTransaction(item: GcTransaction, status: TransactionStatus): ProviderTransaction {
  const currency = item.transactionAmount?.currency?.trim().toUpperCase();
  if (!currency) throw malformed('a transaction without a currency');
  const signed = amountInMinor(item.transactionAmount.amount, currency);
  // By the bank's sign, not the rounded one: "-0.004" GBP is money out, of 0.00.
  const type = signed < 0 || /^\s*-/.test(String(item.transactionAmount.amount)) ? 'DEBIT' : 'CREDIT';
  const date =
    providerInstant(item.bookingDate) ??
    providerInstant(item.bookingDateTime) ??
    providerInstant(item.valueDate) ??
    providerInstant(item.valueDateTime);
  if (!date) throw malformed('a transaction without a date');
  return {
    providerTransactionId: firstText(item.transactionId, item.internalTransactionId) ?? null,
    amountMinor: Math.abs(signed),
    type,
    currency,
    description: transactionDescription(item, type),
    transactionDate: date,
    status,
    category: firstText(item.proprietaryBankTransactionCode) ?? null,
  };
}

/**
 * The remittance information (unstructured, else structured), else the counterparty (the
 * creditor of money out, the debtor of money in, then the other), else additional information.
 */
export function transactionDescription(item: GcTransaction, type: 'CREDIT' | 'DEBIT'): string {
  const counterparty =
    type === 'DEBIT'
      ? [item.creditorName, item.ultimateCreditor, item.debtorName]
      : [item.debtorName, item.ultimateDebtor, item.creditorName];
  return (
    firstText(
      item.remittanceInformationUnstructured,
      joined(item.remittanceInformationUnstructuredArray),
      item.remittanceInformationStructured,
      joined(item.remittanceInformationStructuredArray),
      ...counterparty,
      item.additionalInformation,
    ) ?? ''
  );
}

/** Booked then pending, in GoCardless's order within each. */
export function toTransactions(body: GcTransactions): ProviderTransaction[] {
  const booked = body?.transactions?.booked ?? [];
  const pending = body?.transactions?.pending ?? [];
  if (!Array.isArray(booked) || !Array.isArray(pending)) throw malformed('transactions that are not lists');
  return [
    ...booked.map((item) => toProviderTransaction(item, 'BOOKED')),
    ...pending.map((item) => toProviderTransaction(item, 'PENDING')),
  ];
}

// ---------------------------------------------------------------------------------------------
// Institutions

export function toInstitution(institution: GcInstitution): Institution {
  return {
    id: institution.id,
    name: institution.name,
    countries: (institution.countries ?? []).map((country) => country.toUpperCase()),
    logoUrl: firstText(institution.logo ?? undefined) ?? null,
    maxHistoryDays: positiveInteger(institution.transaction_total_days),
  };
}

/** Institutions whose name (or id) contains `q`, case-insensitively; all without `q`. */
export function filterInstitutions(institutions: readonly Institution[], q: string | undefined) {
  const text = q?.trim().toLowerCase();
  if (!text) return [...institutions];
  return institutions.filter(
    (institution) =>
      institution.name.toLowerCase().includes(text) || institution.id.toLowerCase().includes(text),
  );
}

// ---------------------------------------------------------------------------------------------
// Errors

/** Which kind of call failed: the same HTTP status means different things on different calls. */
export type CallKind = 'token' | 'institution' | 'agreement' | 'requisition' | 'account';

export interface ErrorAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/**
 * A GoCardless error answer as a `ProviderError`:
 * - 429: rate_limited, with `retryAfterSeconds` for the limit that was hit (`rateLimitRetryAfter`);
 * - an expired end user agreement (409, or any answer saying the EUA expired): expired;
 * - 409 on an account: suspended is revoked, still processing is unavailable, else expired;
 * - 401/403 on an account: AccountInactiveError (deactivated, gone) or suspended is revoked;
 *   AccessExpiredError and other refusals mean the user must reconnect: login_required;
 * - 401/403 elsewhere, or refusing our IP address anywhere: GoCardless refused our own
 *   credentials or deployment, which no consent of the user's changes: unavailable;
 * - 404 and other 4xx: invalid.
 * The message names the call and GoCardless's summary, with anything like an account number or
 * a token removed; `redact` removes known secrets.
 */
export function toProviderError(
  answer: ErrorAnswer,
  call: CallKind,
  options: { now: number; redact?: (text: string) => string },
): ProviderError {
  const body = (answer.body && typeof answer.body === 'object' ? answer.body : {}) as GcErrorBody;
  const text = errorText(body);
  // Known secrets first, while they are whole; then anything that looks like a number or token.
  const clean = sanitize((options.redact ?? ((t: string) => t))(text));
  const said = clean ? `: ${clean}` : '';
  const what = CALL_NAMES[call];
  const type = typeof body.type === 'string' ? body.type : '';
  const { status } = answer;

  if (status === 429) {
    return new ProviderError(
      'rate_limited',
      `GoCardless rate limit reached on ${what}${said}`,
      rateLimitRetryAfter(answer.headers, firstOf(body.detail) ?? '', call, options.now),
    );
  }
  if (status >= 500)
    return new ProviderError('unavailable', `GoCardless failed on ${what} (${status})${said}`);
  if (
    /\b(EUA|end ?user ?agreement)\b[^.]*\bexpired\b|\bexpired\b[^.]*\b(EUA|end ?user ?agreement)\b/i.test(
      text,
    )
  ) {
    return new ProviderError('expired', `the end user agreement has expired${said}`);
  }
  if (status === 409) {
    if (/suspend/i.test(text)) return new ProviderError('revoked', `GoCardless suspended ${what}${said}`);
    if (/process/i.test(text))
      return new ProviderError('unavailable', `${what} is still being processed${said}`);
    return new ProviderError('expired', `GoCardless reports ${what} expired${said}`);
  }
  if (status === 401 || status === 403) {
    if (call === 'account' && !/\bIP address\b|whitelist/i.test(text)) {
      if (type === 'AccountInactiveError' || /suspend|inactive|deactivat|no longer exist/i.test(text)) {
        return new ProviderError('revoked', `the bank no longer gives access to the account${said}`);
      }
      return new ProviderError('login_required', `the user must reconnect the account at the bank${said}`);
    }
    return new ProviderError(
      'unavailable',
      `GoCardless refused our credentials on ${what} (${status})${said}`,
    );
  }
  if (status === 404) return new ProviderError('invalid', `GoCardless does not know ${what}${said}`);
  return new ProviderError('invalid', `GoCardless refused ${what} (${status})${said}`);
}

const CALL_NAMES: Record<CallKind, string> = {
  token: 'the access token',
  institution: 'the institution',
  agreement: 'the end user agreement',
  requisition: 'the requisition',
  account: 'the account',
};

/**
 * Seconds to wait after a 429. GoCardless answers every limit with the same summary ("Rate limit
 * exceeded"), the API's own per-minute one and a bank's few calls a day per account alike, and
 * sends both limits' headers with every answer, so neither the summary nor a reset header alone
 * says which was hit: waiting out the API's reset (seconds) after the bank's limit was hit would
 * spend the account's other daily calls on retries. In order: the wait the detail states ("Please
 * try again in 85092 seconds"); the reset of each limit whose remaining count is 0 (the longest);
 * then, on the account endpoints, the account limit's reset before the API's, elsewhere the
 * reverse; then `Retry-After`.
 */
export function rateLimitRetryAfter(
  headers: Headers,
  detail: string,
  call: CallKind,
  now: number,
): number | undefined {
  const stated = /\btry again in (\d{1,9}) seconds?\b/i.exec(detail);
  if (stated) return Number(stated[1]);
  const account = {
    reset: header(headers, 'http_x_ratelimit_account_success_reset', 'x-ratelimit-account-success-reset'),
    remaining: header(
      headers,
      'http_x_ratelimit_account_success_remaining',
      'x-ratelimit-account-success-remaining',
    ),
  };
  const general = {
    reset: header(headers, 'http_x_ratelimit_reset', 'x-ratelimit-reset'),
    remaining: header(headers, 'http_x_ratelimit_remaining', 'x-ratelimit-remaining'),
  };
  const spent = [account, general]
    .filter((limit) => limit.remaining?.trim() === '0')
    .map((limit) => retryAfterSeconds(limit.reset, now))
    .filter((seconds) => seconds !== undefined);
  if (spent.length > 0) return Math.max(...spent);
  const ordered = call === 'account' ? [account, general] : [general, account];
  for (const value of [...ordered.map((limit) => limit.reset), headers.get('retry-after')]) {
    const seconds = retryAfterSeconds(value, now);
    if (seconds !== undefined) return seconds;
  }
  return undefined;
}

function header(headers: Headers, ...names: string[]): string | null {
  for (const name of names) {
    const value = headers.get(name);
    if (value) return value;
  }
  return null;
}

/** The words of an error body: summary and detail, or each field's summary for validation errors. */
export function errorText(body: GcErrorBody): string {
  const summary = firstOf(body.summary);
  const detail = firstOf(body.detail);
  if (summary || detail)
    return [summary, detail && detail !== summary ? detail : undefined].filter(Boolean).join(' - ');
  const fields: string[] = [];
  for (const [field, value] of Object.entries(body)) {
    if (field === 'status_code' || field === 'type') continue;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const inner = value as { summary?: unknown; detail?: unknown };
      const said = firstOf(inner.summary) ?? firstOf(inner.detail);
      if (said) fields.push(`${field}: ${said}`);
    } else {
      const said = firstOf(value);
      if (said) fields.push(`${field}: ${said}`);
    }
  }
  return fields.join('; ');
}

/** Removes what could be an account number, IBAN, card number or token; bounds the length. */
export function sanitize(text: string): string {
  return text
    .replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, '[token]')
    .replace(/\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]){10,30}\b/g, '[account]')
    .replace(/\d(?: ?\d){5,}/g, '[number]')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** `YYYY-MM-DD` of the UTC day of `date`. */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** A positive integer from a number or a numeric string ("90"); null otherwise. */
export function positiveInteger(value: unknown): number | null {
  const number = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) && number > 0 ? number : null;
}

function amountInMinor(amount: string | number, currency: string): number {
  try {
    return toMinorUnits(amount, currency);
  } catch (error) {
    throw malformed(
      error instanceof AmountOutOfRange
        ? `an amount of ${safeToken(currency)} too large to serve exactly`
        : `an amount that is not a decimal number of ${safeToken(currency)}`,
    );
  }
}

function malformed(what: string): ProviderError {
  return new ProviderError('unavailable', `GoCardless sent ${what}`);
}

function compact(value: string | undefined | null): string | null {
  const text = typeof value === 'string' ? value.replace(/[\s-]/g, '').toUpperCase() : '';
  return text || null;
}

function firstText(...values: (string | undefined | null)[]): string | undefined {
  for (const value of values) {
    if (typeof value !== 'string') continue;
    const text = value.replace(/\s+/g, ' ').trim();
    if (text) return text;
  }
  return undefined;
}

function firstOf(value: unknown): string | undefined {
  if (typeof value === 'string') return firstText(value);
  if (Array.isArray(value))
    return firstText(value.filter((v): v is string => typeof v === 'string').join(' '));
  return undefined;
}

function joined(values: string[] | undefined): string | undefined {
  return Array.isArray(values) ? values.filter((v) => typeof v === 'string').join(' ') : undefined;
}

function safeToken(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 20);
}
