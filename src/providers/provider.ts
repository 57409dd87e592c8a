import { randomBytes } from 'node:crypto';

/**
 * The one small interface every bank provider implements. A provider knows its remote API and
 * how to turn its shapes into these; it knows nothing of our database or of HTTP statuses.
 */

export const SCOPES = ['accounts', 'balances', 'transactions'] as const;
export type Scope = (typeof SCOPES)[number];

export const ACCOUNT_TYPES = ['CHECKING', 'SAVINGS', 'CREDIT', 'INVESTMENT'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];

export type TransactionType = 'CREDIT' | 'DEBIT';
export type TransactionStatus = 'BOOKED' | 'PENDING';

/**
 * What a provider keeps per connection between calls: access tokens, sync cursors, its own
 * account ids. Opaque to the service, stored encrypted, handed back on every call.
 */
export type ProviderState = Record<string, unknown>;

/**
 * Our reference for a consent link (`LinkRequest.reference`): the team and a random part, so
 * that the provider's records say whose link it was, and `referencedTeam` can read it back.
 */
export function linkReference(teamId: string): string {
  return `${teamId}-${randomBytes(8).toString('hex')}`;
}

/** The team of a reference `linkReference` made, or null for one made otherwise. */
export function referencedTeam(reference: unknown): string | null {
  if (typeof reference !== 'string') return null;
  const match = /^(.+)-[0-9a-f]{16}$/.exec(reference);
  return match ? (match[1] as string) : null;
}

/** What a provider needs to talk to the bank about one connection. */
export interface ConsentContext {
  /**
   * The team the connection is (being) made for. A provider whose consents carry our link
   * reference refuses one made for another team, so that a consent id that reached the wrong
   * team does not import the other team's bank data.
   */
  teamId: string;
  /** The institution, e.g. `sandbox-gb`. */
  providerId: string;
  /** The provider-side consent (requisition, item, consent id...). */
  consentId: string;
  /** The `metadata` the connection was created with. */
  metadata: Record<string, unknown>;
  /** When the connection was first made; the sandbox's data are relative to it. */
  connectedAt: Date;
  /** The state the provider returned last (decrypted); null before any. */
  state: ProviderState | null;
}

export interface GrantedConsent {
  scopes: Scope[];
  expiresAt: Date;
}

/** What the bank granted, and the state to keep from now on (e.g. an exchanged access token). */
export interface ConsentGrant extends GrantedConsent {
  state?: ProviderState;
}

export interface ProviderAccount {
  /** The provider's stable id for the account. */
  providerAccountId: string;
  name: string;
  type: AccountType;
  /** ISO 4217, upper case. */
  currency: string;
  /** Domestic account number, or the IBAN (electronic form) where there is none. */
  accountNumber: string | null;
  sortCode: string | null;
  /**
   * An id the provider keeps for the same account across consents (Plaid's
   * `persistent_account_id`), where it has one; re-consent matches accounts by it first.
   */
  stableReference?: string | null;
  /** Integer minor units of `currency`; null where the bank gave none. */
  balanceMinor: number | null;
  availableBalanceMinor: number | null;
}

export interface ProviderTransaction {
  /** The provider's id; null where the provider gives none (a fingerprint stands in). */
  providerTransactionId: string | null;
  /** Where a booked transaction replaces a pending one under a new id: the pending one's id. */
  pendingTransactionId?: string | null;
  /** Magnitude in integer minor units, always >= 0; `type` gives the direction. */
  amountMinor: number;
  type: TransactionType;
  currency: string;
  description: string;
  transactionDate: Date;
  status: TransactionStatus;
  category: string | null;
}

export interface TransactionQuery {
  providerAccountId: string;
  /** Earliest date wanted; null for all the history the consent allows. */
  from: Date | null;
  to: Date;
  /** The `nextCursor` of the previous page; null or absent for the first page. */
  cursor?: string | null;
}

export interface TransactionPage {
  /** Transactions of this page, in the provider's order. */
  transactions: ProviderTransaction[];
  /**
   * Provider ids of transactions the bank has deleted (Plaid's `removed`). A provider that sets
   * it (even empty) sends changes since its stored cursor rather than the whole history, so
   * pending transactions it does not mention are kept.
   */
  removed?: string[];
  nextCursor: string | null;
  /**
   * The provider's whole new state (e.g. Plaid's next sync cursor): later calls of the same sync
   * see it in their context, and it is stored when the sync commits.
   */
  state?: ProviderState;
}

export interface Institution {
  /** The `providerId` to connect with. */
  id: string;
  name: string;
  /** ISO 3166-1 alpha-2 codes. */
  countries: string[];
  logoUrl: string | null;
  /** How far back the bank gives transactions, where the provider says. */
  maxHistoryDays: number | null;
}

export interface LinkRequest {
  providerId: string;
  /** Where the bank sends the user back after they consent. */
  redirectUrl: string;
  scopes: Scope[];
  /** How long the consent should last; null for the bank's maximum. */
  days: number | null;
  /** Our reference for this link (team and a random part), for the provider's records. */
  reference: string;
}

export interface ConsentLink {
  /** What the app passes to `connect` once the user has consented. */
  consentId: string;
  /** Where to send the user to consent at the bank. */
  url: string;
  /** When the link stops working. */
  expiresAt: Date;
}

export interface BankProvider {
  readonly name: string;
  /**
   * Checks the institution and the connect metadata before anything is written.
   * Throws `AppError('VALIDATION_FAILED')` (via `invalidInput`) naming the bad fields.
   */
  validateConnect(input: { providerId: string; metadata: Record<string, unknown> }): void;
  /**
   * Asks the bank whether the consent is authorised, and with which scopes and expiry. Called at
   * connect (with `state` null) and when a connection moves to a new consent.
   */
  checkConsent(consent: ConsentContext): Promise<ConsentGrant>;
  /** Asks the bank for a changed consent; answers what it granted, or throws `ProviderError`. */
  updateConsent(consent: ConsentContext, requested: GrantedConsent): Promise<ConsentGrant>;
  /** Revokes access at the bank. */
  revokeConsent(consent: ConsentContext): Promise<void>;
  /** Accounts with their current balances. */
  listAccounts(consent: ConsentContext): Promise<ProviderAccount[]>;
  /** One page of an account's transactions; call again with `nextCursor` until it is null. */
  listTransactions(consent: ConsentContext, query: TransactionQuery): Promise<TransactionPage>;
  /** The provider's institutions, filtered by country and by a text in their name. */
  searchInstitutions(query: { country?: string | undefined; q?: string | undefined }): Promise<Institution[]>;
  /** Creates the provider-side authorisation the user completes at the bank. */
  createLink(request: LinkRequest): Promise<ConsentLink>;
}

/** The small internal set every provider failure maps onto. */
export type ProviderErrorKind =
  | 'expired'
  | 'revoked'
  | 'login_required'
  | 'invalid'
  | 'rate_limited'
  | 'unavailable'
  | 'timeout';

export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

export type Clock = () => Date;
