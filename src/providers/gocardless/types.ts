/**
 * The shapes of the GoCardless Bank Account Data API v2 (formerly Nordigen) that this provider
 * reads and writes, as its public reference documents them. Every field the bank may leave out is
 * optional: account and transaction data follow the Berlin Group PSD2 format, in which almost
 * everything is conditional on the bank.
 */

/** POST /api/v2/token/new/ */
export interface TokenPair {
  access: string;
  /** Seconds the access token lives (24 hours by default). */
  access_expires: number;
  refresh: string;
  /** Seconds the refresh token lives (30 days by default). */
  refresh_expires: number;
}

/** POST /api/v2/token/refresh/ */
export interface RefreshedToken {
  access: string;
  access_expires: number;
}

/** GET /api/v2/institutions/?country= and /api/v2/institutions/{id}/ */
export interface GcInstitution {
  id: string;
  name: string;
  bic?: string;
  /** Days of transaction history the bank gives, as a string ("90", "730"). */
  transaction_total_days?: string | number;
  /** The longest `access_valid_for_days` the bank accepts, as a string ("180"). */
  max_access_valid_for_days?: string | number;
  countries?: string[];
  logo?: string | null;
}

export type AccessScope = 'balances' | 'details' | 'transactions';

/** POST /api/v2/agreements/enduser/ and GET /api/v2/agreements/enduser/{id}/ */
export interface GcAgreement {
  id: string;
  created: string;
  institution_id: string;
  max_historical_days: number;
  access_valid_for_days: number;
  access_scope: AccessScope[];
  /** When the user accepted it at the bank; null until then. */
  accepted: string | null;
  reconfirmation?: boolean;
}

/**
 * CR created, GC giving consent, UA undergoing authentication, RJ rejected, SA selecting accounts,
 * GA granting access, LN linked, EX expired, SU suspended (older API versions also had ID and ER).
 */
export type RequisitionStatus = 'CR' | 'GC' | 'UA' | 'RJ' | 'SA' | 'GA' | 'LN' | 'EX' | 'SU' | (string & {});

/** POST /api/v2/requisitions/ and GET /api/v2/requisitions/{id}/ */
export interface GcRequisition {
  id: string;
  created?: string;
  redirect?: string;
  status: RequisitionStatus;
  institution_id: string;
  /** The end user agreement; null when the default terms (90 days, all scopes) apply. */
  agreement?: string | null;
  reference?: string;
  accounts: string[];
  user_language?: string;
  /** Where the user goes to consent. */
  link?: string;
  account_selection?: boolean;
  redirect_immediate?: boolean;
}

/** GET /api/v2/accounts/{id}/ (metadata; not subject to the bank's daily limits). */
export interface GcAccountMetadata {
  id: string;
  created?: string;
  last_accessed?: string;
  iban?: string;
  bban?: string;
  institution_id?: string;
  status?: string;
  owner_name?: string;
  name?: string;
}

/** A UK account's sort code and account number, where the bank gives them apart. */
export interface GcSortCodeAccountNumber {
  sortCode?: string;
  accountNumber?: string;
}

/** `account` of GET /api/v2/accounts/{id}/details/ */
export interface GcAccountDetails {
  resourceId?: string;
  iban?: string;
  bban?: string;
  /** UK banks: the sort code and account number (a 14-digit string, or split). */
  scan?: string | GcSortCodeAccountNumber;
  msisdn?: string;
  maskedPan?: string;
  currency?: string;
  ownerName?: string;
  name?: string;
  displayName?: string;
  product?: string;
  /** ISO 20022 ExternalCashAccountType1Code: CACC, CARD, SVGS, LOAN... */
  cashAccountType?: string;
  status?: string;
  bic?: string;
  usage?: string;
  details?: string;
}

export interface GcAmount {
  amount: string;
  currency: string;
}

export type BalanceType =
  | 'closingBooked'
  | 'expected'
  | 'interimAvailable'
  | 'interimBooked'
  | 'forwardAvailable'
  | 'openingBooked'
  | 'closingAvailable'
  | 'openingAvailable'
  | 'previouslyClosedBooked'
  | 'nonInvoiced'
  | 'information'
  | (string & {});

/** An item of `balances` of GET /api/v2/accounts/{id}/balances/ */
export interface GcBalance {
  balanceAmount: GcAmount;
  balanceType: BalanceType;
  creditLimitIncluded?: boolean;
  lastChangeDateTime?: string;
  referenceDate?: string;
  lastCommittedTransaction?: string;
}

/** An item of `transactions.booked` or `transactions.pending` of GET /accounts/{id}/transactions/ */
export interface GcTransaction {
  transactionId?: string;
  internalTransactionId?: string;
  entryReference?: string;
  endToEndId?: string;
  bookingDate?: string;
  bookingDateTime?: string;
  valueDate?: string;
  valueDateTime?: string;
  transactionAmount: GcAmount;
  creditorName?: string;
  debtorName?: string;
  ultimateCreditor?: string;
  ultimateDebtor?: string;
  remittanceInformationUnstructured?: string;
  remittanceInformationUnstructuredArray?: string[];
  remittanceInformationStructured?: string;
  remittanceInformationStructuredArray?: string[];
  additionalInformation?: string;
  bankTransactionCode?: string;
  proprietaryBankTransactionCode?: string;
  merchantCategoryCode?: string;
}

export interface GcTransactions {
  transactions: { booked?: GcTransaction[]; pending?: GcTransaction[] };
  last_updated?: string;
}

/**
 * An error body. Most are `{summary, detail, status_code}`; the accounts endpoints add `type`
 * (AccessExpiredError, AccountInactiveError, RateLimitError...); validation errors are keyed by
 * field: `{institution_id: {summary, detail}, status_code: 400}`, sometimes with arrays.
 */
export interface GcErrorBody {
  summary?: string | string[];
  detail?: string | string[];
  type?: string;
  status_code?: number;
  [field: string]: unknown;
}
