/**
 * The shapes of the Plaid API (version 2020-09-14) that this provider reads and writes, as the
 * public API reference documents them. Only the fields used here are listed; Plaid adds fields
 * freely (`additionalProperties: true`), and the adapter checks what it relies on at run time.
 */

/** Every request body carries the credentials (Plaid also accepts them as headers). */
export interface PlaidAuth {
  client_id: string;
  secret: string;
}

/** The error object of every non-2xx answer, and of `item.error` in /item/get. */
export interface PlaidErrorBody {
  /** A broad category: ITEM_ERROR, INVALID_INPUT, INSTITUTION_ERROR, RATE_LIMIT_EXCEEDED, API_ERROR... */
  error_type: string;
  /** The particular code, e.g. ITEM_LOGIN_REQUIRED. */
  error_code: string;
  /** OAuth item errors only: OAUTH_INVALID_TOKEN, OAUTH_CONSENT_EXPIRED, OAUTH_USER_REVOKED. */
  error_code_reason?: string | null;
  /** For developers; may change; not for programmatic use. */
  error_message: string;
  /** For end users; null where no user action is involved. */
  display_message: string | null;
  request_id?: string;
}

/** POST /item/public_token/exchange */
export interface PublicTokenExchangeResponse {
  access_token: string;
  item_id: string;
  request_id: string;
}

/** The `item` of /item/get (and of /accounts/balance/get). */
export interface PlaidItem {
  item_id: string;
  institution_id?: string | null;
  institution_name?: string | null;
  webhook: string | null;
  error: PlaidErrorBody | null;
  available_products: string[];
  billed_products: string[];
  products?: string[];
  consented_products?: string[];
  /** ISO 8601; null where the item's consent does not expire (most US institutions). */
  consent_expiration_time: string | null;
  update_type: 'background' | 'user_present_required' | (string & {});
}

/** POST /item/get */
export interface ItemGetResponse {
  item: PlaidItem;
  request_id: string;
}

export type PlaidAccountType = 'depository' | 'credit' | 'loan' | 'investment' | 'brokerage' | 'other';

/** An account's balances; every figure may be null where the institution gives none. */
export interface PlaidBalances {
  /** Funds available to withdraw (depository), or credit still available (credit). */
  available: number | null;
  /** Funds in the account (depository), or the amount owed (credit, loan; positive = owed). */
  current: number | null;
  limit: number | null;
  /** Null when `unofficial_currency_code` is set (e.g. a crypto currency). */
  iso_currency_code: string | null;
  unofficial_currency_code: string | null;
}

/** An account of /accounts/get and /accounts/balance/get (AccountBase). */
export interface PlaidAccount {
  account_id: string;
  balances: PlaidBalances;
  /** The last 2 to 4 alphanumeric characters of the account number; not unique, not a number. */
  mask: string | null;
  name: string;
  official_name: string | null;
  type: PlaidAccountType | (string & {});
  subtype: string | null;
  /** Stable across Items for a few institutions using tokenized account numbers. */
  persistent_account_id?: string;
}

/** POST /accounts/balance/get */
export interface AccountsGetResponse {
  accounts: PlaidAccount[];
  item: PlaidItem;
  request_id: string;
}

export interface PersonalFinanceCategory {
  /** e.g. FOOD_AND_DRINK */
  primary: string;
  /** e.g. FOOD_AND_DRINK_COFFEE */
  detailed: string;
  confidence_level?: string | null;
}

/** A transaction of /transactions/sync (`added` and `modified`). */
export interface PlaidTransaction {
  transaction_id: string;
  account_id: string;
  /** Positive when money moves out of the account, negative when it moves in. */
  amount: number;
  iso_currency_code: string | null;
  unofficial_currency_code: string | null;
  /** YYYY-MM-DD: when it occurred (pending) or posted (posted). */
  date: string;
  /** YYYY-MM-DD: when it was authorised; null where unknown. */
  authorized_date: string | null;
  authorized_datetime: string | null;
  /** Posted date and time, for select institutions; null otherwise. */
  datetime: string | null;
  pending: boolean;
  /** On a posted transaction: the id of the pending one it replaces. */
  pending_transaction_id: string | null;
  merchant_name?: string | null;
  /** Merchant name or description (a legacy field, always present from /transactions/sync). */
  name: string;
  personal_finance_category?: PersonalFinanceCategory | null;
}

export interface RemovedTransaction {
  transaction_id: string;
  account_id: string;
}

/** POST /transactions/sync */
export interface TransactionsSyncResponse {
  added: PlaidTransaction[];
  modified: PlaidTransaction[];
  removed: RemovedTransaction[];
  /** The cursor for the next call; an empty string while transactions are not yet available. */
  next_cursor: string;
  has_more: boolean;
  transactions_update_status?: string;
  request_id: string;
}

/** An institution of /institutions/search, /institutions/get and /institutions/get_by_id. */
export interface PlaidInstitution {
  institution_id: string;
  name: string;
  products: string[];
  country_codes: string[];
  url?: string | null;
  primary_color?: string | null;
  /** Base64 of a 152x152 PNG, with `include_optional_metadata`; null where Plaid has none. */
  logo?: string | null;
  routing_numbers: string[];
  oauth: boolean;
}

/** POST /institutions/search and /institutions/get */
export interface InstitutionsResponse {
  institutions: PlaidInstitution[];
  total?: number;
  request_id: string;
}

/** POST /institutions/get_by_id */
export interface InstitutionGetByIdResponse {
  institution: PlaidInstitution;
  request_id: string;
}

/** POST /link/token/create */
export interface LinkTokenCreateResponse {
  link_token: string;
  /** ISO 8601 */
  expiration: string;
  /** Present when the request asked for Hosted Link (`hosted_link`). */
  hosted_link_url?: string;
  request_id: string;
}

/** POST /link/token/get */
export interface LinkTokenGetResponse {
  link_token: string;
  expiration: string | null;
  link_sessions?: {
    link_session_id: string;
    finished_at?: string | null;
    results?: { item_add_results?: { public_token: string }[] } | null;
    /** Legacy integrations only. */
    on_success?: { public_token: string } | null;
  }[];
  request_id: string;
}

/** What the provider keeps per connection (encrypted by the service). */
export interface PlaidState {
  accessToken: string;
  itemId: string;
  /** Plaid's /transactions/sync cursor per account id, saved once a pagination completed. */
  cursors: Record<string, string>;
  [key: string]: unknown;
}
