export {
  BALANCE_MAX_AGE_DAYS,
  EXCHANGE_MEMORY_MS,
  HISTORY_DAYS_REQUESTED,
  INSTITUTION_CACHE_MS,
  LINK_LIFETIME_SECONDS,
  MAX_SYNC_RESTARTS,
  PlaidProvider,
  type PlaidProviderOptions,
  SYNC_PAGE_SIZE,
} from './adapter.js';
export { PLAID_API_VERSION, PLAID_BASE_URLS, PlaidApiError, type PlaidEnv } from './client.js';
export { NO_EXPIRY_FALLBACK_DAYS, PLAID_COUNTRIES, RATE_LIMIT_RETRY_SECONDS } from './transform.js';
export type { PlaidState } from './types.js';
