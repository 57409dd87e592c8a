/**
 * The `plaid` provider. A connection is a Plaid Item: the `consentId` the app connects with is
 * the `public_token` Plaid Link hands back when the user finishes (or the `link_token` of a Hosted
 * Link session, whose public token is then read with /link/token/get). It is exchanged once for
 * an access token, kept in the connection's (encrypted) state with the item id and one
 * /transactions/sync cursor per account.
 */
import { invalidInput } from '../../errors.js';
import type { RetryPolicy } from '../http.js';
import {
  type BankProvider,
  type Clock,
  type ConsentContext,
  type ConsentGrant,
  type ConsentLink,
  type GrantedConsent,
  type Institution,
  type LinkRequest,
  type ProviderAccount,
  ProviderError,
  type ProviderTransaction,
  type TransactionPage,
  type TransactionQuery,
} from '../provider.js';
import {
  createPlaidClient,
  PLAID_BASE_URLS,
  PlaidApiError,
  type PlaidClient,
  type PlaidEnv,
} from './client.js';
import { SyncPaginations } from './pagination.js';
import {
  accountReferences,
  decodePageCursor,
  encodePageCursor,
  itemExpiry,
  itemHasExpiry,
  itemScopes,
  type PageCursor,
  PLAID_COUNTRIES,
  readState,
  redact,
  toInstitution,
  toProviderAccount,
  toProviderError,
  toProviderTransaction,
} from './transform.js';
import type {
  AccountsGetResponse,
  InstitutionGetByIdResponse,
  InstitutionsResponse,
  ItemGetResponse,
  LinkTokenCreateResponse,
  LinkTokenGetResponse,
  PlaidInstitution,
  PlaidItem,
  PlaidState,
  PlaidTransaction,
  PublicTokenExchangeResponse,
  TransactionsSyncResponse,
} from './types.js';

/** Transaction updates per /transactions/sync call (Plaid's maximum). */
export const SYNC_PAGE_SIZE = 500;
/** How often one pagination restarts on TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION before giving up. */
export const MAX_SYNC_RESTARTS = 3;
/** How long institution answers are kept in memory. */
export const INSTITUTION_CACHE_MS = 60 * 60 * 1000;
/**
 * How long an exchanged public token's access token is remembered for a connect retried after
 * it failed (e.g. /item/get did not answer); forgotten as soon as a connect has been granted.
 */
export const EXCHANGE_MEMORY_MS = 30 * 60 * 1000;
/** How long a Hosted Link URL (and its link token) stays usable. */
export const LINK_LIFETIME_SECONDS = 60 * 60;
/** Days of history Plaid is asked to fetch when the item is created (its maximum). */
export const HISTORY_DAYS_REQUESTED = 730;
/** Most institutions /institutions/get lists for a search without text (its maximum). */
export const INSTITUTION_LIST_SIZE = 500;
/** The oldest balance accepted where Plaid has no real-time one (see `oldestAcceptableBalance`). */
export const BALANCE_MAX_AGE_DAYS = 30;

const DAY_MS = 86_400_000;

const INSTITUTION_ID = /^ins_[A-Za-z0-9_]+$/;
const CACHE_LIMIT = 500;

export interface PlaidProviderOptions {
  clientId: string;
  secret: string;
  env: PlaidEnv;
  /** Overrides the environment's host, e.g. to point at a test double. */
  baseUrl?: string;
  /** Per call; 15 s by default. */
  timeoutMs?: number;
  clock: Clock;
  /** Retries on network errors and 5xx; the shared default otherwise. */
  retry?: RetryPolicy;
  /** Transaction updates per page (1 to 500); 500 by default. */
  pageSize?: number;
  /** The application name Plaid Link shows (at most 30 characters). */
  clientName?: string;
  /** The language of Plaid Link; `en` by default. */
  language?: string;
  /**
   * An OAuth `redirect_uri` registered in the Plaid dashboard, for apps that run Plaid Link
   * themselves; Hosted Link handles OAuth redirects without one.
   */
  oauthRedirectUri?: string;
  fetch?: typeof fetch;
  /**
   * Where to report data the adapter leaves out (an account or transaction in a currency
   * without an ISO 4217 code); a process warning by default, so it is never silent.
   */
  warn?: (message: string) => void;
}

interface CacheEntry<T> {
  at: number;
  value: T;
}

export class PlaidProvider implements BankProvider {
  readonly name = 'plaid';
  private readonly client: PlaidClient;
  private readonly clock: Clock;
  private readonly secret: string;
  private readonly pageSize: number;
  private readonly clientName: string;
  private readonly language: string;
  private readonly oauthRedirectUri: string | undefined;
  private readonly searches = new Map<string, CacheEntry<Institution[]>>();
  private readonly institutions = new Map<string, CacheEntry<PlaidInstitution>>();
  /**
   * consentId -> the item it was exchanged for, so that a connect retried after a failure does
   * not exchange again (Plaid would refuse: a public token is good for one exchange). Only until
   * the consent is granted: kept longer, it would hand the item to anyone presenting the same
   * token again (another team), which Plaid's one-time exchange exists to prevent.
   */
  private readonly exchanged = new Map<string, CacheEntry<{ accessToken: string; itemId: string }>>();
  /** What each /transactions/sync pagination under way has delivered, to undo after a restart. */
  private readonly paginations: SyncPaginations;
  private readonly warn: (message: string) => void;

  constructor(options: PlaidProviderOptions) {
    this.clock = options.clock;
    this.secret = options.secret;
    this.pageSize = Math.min(SYNC_PAGE_SIZE, Math.max(1, Math.floor(options.pageSize ?? SYNC_PAGE_SIZE)));
    this.clientName = (options.clientName ?? 'Open Banking').slice(0, 30);
    this.language = options.language ?? 'en';
    this.oauthRedirectUri = options.oauthRedirectUri;
    this.paginations = new SyncPaginations(() => this.clock().getTime());
    this.warn = options.warn ?? ((message) => process.emitWarning(message, { code: 'PLAID_DATA_LEFT_OUT' }));
    this.client = createPlaidClient({
      clientId: options.clientId,
      secret: options.secret,
      baseUrl: options.baseUrl ?? PLAID_BASE_URLS[options.env],
      timeoutMs: options.timeoutMs ?? 15_000,
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  /** A Plaid institution id (`ins_...`); Plaid needs no connect metadata. */
  validateConnect(input: { providerId: string; metadata: Record<string, unknown> }): void {
    if (!INSTITUTION_ID.test(input.providerId)) {
      throw invalidInput([
        { path: '/providerId', in: 'body', message: 'must be a Plaid institution id such as "ins_109508"' },
      ]);
    }
  }

  /**
   * At connect (`state` null) the public token is exchanged, once, for an access token; on a
   * later check the stored access token is used. /item/get then gives the products (our scopes)
   * and the consent expiry. An item in error (login required, revoked) or past its expiry fails.
   */
  async checkConsent(consent: ConsentContext): Promise<ConsentGrant> {
    const stored = readState(consent.state);
    const state = stored ?? (await this.exchange(consent.consentId));
    const item = await this.usableItem(state.accessToken);
    // Granted: the token has served its one connection, and a later connect with it goes to
    // Plaid, which refuses a second exchange.
    if (!stored) this.exchanged.delete(consent.consentId.trim());
    const now = this.clock();
    return { scopes: itemScopes(item), expiresAt: itemExpiry(item, now), state };
  }

  /**
   * Plaid cannot change an item's consent: the update is granted when it asks for no more than
   * the item has (scopes within the item's, expiry not past the item's own where it has one),
   * and refused ('invalid') otherwise: the user must go through Plaid Link again.
   */
  async updateConsent(consent: ConsentContext, requested: GrantedConsent): Promise<ConsentGrant> {
    const state = this.requireState(consent);
    const item = await this.usableItem(state.accessToken);
    const granted = itemScopes(item);
    const missing = requested.scopes.filter((scope) => !granted.includes(scope));
    if (requested.scopes.length === 0 || missing.length > 0) {
      throw new ProviderError(
        'invalid',
        `the Plaid item does not grant ${missing.join(', ') || 'an empty scope list'}; link the bank again`,
      );
    }
    if (itemHasExpiry(item) && requested.expiresAt.getTime() > itemExpiry(item, this.clock()).getTime()) {
      throw new ProviderError(
        'invalid',
        `the Plaid item's consent ends ${itemExpiry(item, this.clock()).toISOString()}; it cannot be extended without linking again`,
      );
    }
    return { scopes: [...requested.scopes], expiresAt: new Date(requested.expiresAt.getTime()), state };
  }

  /** Removes the item at Plaid; an item Plaid no longer knows is already gone. */
  async revokeConsent(consent: ConsentContext): Promise<void> {
    const state = readState(consent.state);
    if (!state) return;
    for (const [key, entry] of this.exchanged) {
      if (entry.value.accessToken === state.accessToken) this.exchanged.delete(key);
    }
    try {
      await this.client.post('/item/remove', { access_token: state.accessToken });
    } catch (error) {
      const gone =
        error instanceof PlaidApiError &&
        (error.code === 'ITEM_NOT_FOUND' || error.code === 'INVALID_ACCESS_TOKEN');
      if (gone) return;
      throw this.mapError(error, state.accessToken);
    }
  }

  /**
   * Accounts with real-time balances (/accounts/balance/get), each with the reference that
   * recognises it in a later Item of the same user (`accountReferences`).
   */
  async listAccounts(consent: ConsentContext): Promise<ProviderAccount[]> {
    const state = this.requireState(consent);
    const answer = await this.call<AccountsGetResponse>(
      '/accounts/balance/get',
      {
        access_token: state.accessToken,
        options: { min_last_updated_datetime: plaidDateTime(this.oldestAcceptableBalance()) },
      },
      state.accessToken,
    );
    if (!Array.isArray(answer.accounts)) throw unexpected('/accounts/balance/get');
    const institution =
      typeof answer.item?.institution_id === 'string' ? answer.item.institution_id : consent.providerId;
    const references = readable(() => accountReferences(answer.accounts, institution), 'an account');
    const accounts: ProviderAccount[] = [];
    for (const account of answer.accounts) {
      const mapped = readable(
        () => toProviderAccount(account, references.get(account.account_id) ?? null),
        'an account',
      );
      if (mapped) {
        accounts.push(mapped);
        continue;
      }
      this.warn(
        `Plaid account ${account.account_id} has no ISO 4217 currency (unofficial_currency_code ${account.balances?.unofficial_currency_code}); it is left out`,
      );
    }
    return accounts;
  }

  /**
   * The oldest balance /accounts/balance/get may answer with (`min_last_updated_datetime`).
   * Plaid ignores it everywhere but at Capital One (ins_128026) for non-depository accounts
   * (cards, loans), where Capital One has no real-time balance and the call is refused
   * (INVALID_FIELD) without it; so it is always sent. There Plaid answers the balance of its
   * last update of the Item, normally under a day old (it updates Items one to four times a
   * day). BALANCE_MAX_AGE_DAYS lets a card keep syncing through days of failed updates at the
   * bank, yet refuses a figure older than a statement cycle as the account's balance: Plaid
   * then answers LAST_UPDATED_DATETIME_OUT_OF_RANGE, a provider failure (502), not a refusal of
   * the consent, which a new consent would not cure.
   */
  private oldestAcceptableBalance(): Date {
    return new Date(this.clock().getTime() - BALANCE_MAX_AGE_DAYS * DAY_MS);
  }

  /**
   * One page of /transactions/sync for one account (`options.account_id`: a cursor per account).
   * The first page starts from the account's stored cursor; later pages carry Plaid's cursor and
   * the starting one in our opaque `nextCursor`. `added` and `modified` are the page's
   * transactions, `removed` the ids Plaid deleted. Only the last page (`has_more` false) returns
   * the new state with the account's cursor moved on: a half-read pagination is never saved.
   * On TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION the pagination restarts from where it began,
   * as Plaid asks (at most MAX_SYNC_RESTARTS times in one pagination). Plaid also asks to
   * discard the pages of the abandoned loop, which the service has already written:
   * re-delivered transactions are upserted again (nothing is doubled), and those the abandoned
   * loop added that the restarted one no longer mentions are reported `removed` on the last
   * page (`SyncPaginations`). `from`/`to` are not used: the cursor alone says what is new.
   */
  async listTransactions(consent: ConsentContext, query: TransactionQuery): Promise<TransactionPage> {
    const state = this.requireState(consent);
    const accountId = query.providerAccountId;
    if (!accountId) throw new ProviderError('invalid', 'no Plaid account id given');
    let cursor: PageCursor;
    if (query.cursor) {
      const page = decodePageCursor(query.cursor);
      if (!page) throw new ProviderError('invalid', 'malformed Plaid page cursor');
      cursor = page;
    } else {
      const start = state.cursors[accountId] || null;
      cursor = { start, next: start ?? '', pagination: null, restarts: 0 };
    }

    const answer = await this.syncPage(state.accessToken, accountId, cursor);
    const transactions = this.readTransactions(accountId, [...answer.added, ...answer.modified]);
    const removed = answer.removed
      .map((entry) => entry?.transaction_id)
      .filter((id): id is string => typeof id === 'string');

    const pagination = cursor.pagination ?? (answer.has_more ? this.paginations.open() : null);
    if (pagination) {
      this.paginations.record(pagination, transactionIds(answer.added), transactionIds(answer.modified));
    }
    if (answer.has_more) {
      const next = { ...cursor, next: answer.next_cursor, pagination };
      return { transactions, removed, nextCursor: encodePageCursor(next) };
    }
    const vanished = pagination ? this.paginations.close(pagination) : [];
    const cursors = { ...state.cursors, [accountId]: answer.next_cursor };
    return {
      transactions,
      removed: [...new Set([...removed, ...vanished])],
      nextCursor: null,
      state: { ...state, cursors },
    };
  }

  /**
   * Plaid's answer for the page `cursor` points at, restarting the pagination from its first
   * cursor on TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION (`cursor` is moved back in place).
   * A pagination whose earlier pages cannot be taken back (its record was dropped) is not
   * restarted: the sync fails as a whole instead, so the service writes none of its pages.
   */
  private async syncPage(
    accessToken: string,
    accountId: string,
    cursor: PageCursor,
  ): Promise<TransactionsSyncResponse> {
    for (;;) {
      try {
        const answer = await this.client.post<TransactionsSyncResponse>('/transactions/sync', {
          access_token: accessToken,
          ...(cursor.next ? { cursor: cursor.next } : {}),
          count: this.pageSize,
          options: { account_id: accountId },
        });
        if (
          !Array.isArray(answer.added) ||
          !Array.isArray(answer.modified) ||
          !Array.isArray(answer.removed) ||
          typeof answer.next_cursor !== 'string' ||
          typeof answer.has_more !== 'boolean'
        ) {
          throw unexpected('/transactions/sync');
        }
        return answer;
      } catch (error) {
        const mutated =
          error instanceof PlaidApiError && error.code === 'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION';
        if (!mutated || cursor.restarts >= MAX_SYNC_RESTARTS) throw this.mapError(error, accessToken);
        if (cursor.pagination && !this.paginations.restart(cursor.pagination)) {
          throw new ProviderError(
            'unavailable',
            'Plaid changed the transactions during a pagination this service can no longer take back; sync again',
          );
        }
        cursor.restarts++;
        cursor.next = cursor.start ?? '';
      }
    }
  }

  /** Plaid's transactions as ours; those without an ISO currency are left out, with a warning. */
  private readTransactions(accountId: string, listed: unknown[]): ProviderTransaction[] {
    const transactions: ProviderTransaction[] = [];
    const unofficial = new Set<string>();
    for (const transaction of listed) {
      const mapped = readable(() => toProviderTransaction(transaction as PlaidTransaction), 'a transaction');
      if (mapped) transactions.push(mapped);
      else unofficial.add(String((transaction as PlaidTransaction).unofficial_currency_code));
    }
    if (unofficial.size > 0) {
      this.warn(
        `Plaid sent ${listed.length - transactions.length} transaction(s) of account ${accountId} without an ISO 4217 currency (unofficial_currency_code ${[...unofficial].join(', ')}); they are left out`,
      );
    }
    return transactions;
  }

  /**
   * Institutions supporting transactions, by name (/institutions/search) or, without a text, the
   * first page of /institutions/get; with logos (as data URLs). Cached in memory for an hour.
   */
  async searchInstitutions(query: {
    country?: string | undefined;
    q?: string | undefined;
  }): Promise<Institution[]> {
    const country = query.country?.trim().toUpperCase() || null;
    if (country && !(PLAID_COUNTRIES as readonly string[]).includes(country)) return [];
    const text = query.q?.trim() ?? '';
    const key = `${country ?? '*'}|${text.toLowerCase()}`;
    const cached = this.fresh(this.searches, key);
    if (cached)
      return cached.map((institution) => ({ ...institution, countries: [...institution.countries] }));

    const common = {
      country_codes: country ? [country] : [...PLAID_COUNTRIES],
      options: { include_optional_metadata: true },
    };
    const answer = text
      ? await this.call<InstitutionsResponse>('/institutions/search', {
          ...common,
          query: text,
          products: ['transactions'],
        })
      : await this.call<InstitutionsResponse>('/institutions/get', {
          ...common,
          count: INSTITUTION_LIST_SIZE,
          offset: 0,
          options: { ...common.options, products: ['transactions'] },
        });
    if (!Array.isArray(answer.institutions)) throw unexpected('/institutions/search');
    const institutions = answer.institutions.map((institution) => {
      this.remember(this.institutions, institution.institution_id, institution);
      return toInstitution(institution);
    });
    this.remember(this.searches, key, institutions);
    return institutions.map((institution) => ({ ...institution, countries: [...institution.countries] }));
  }

  /**
   * Creates a Plaid Link token for a Hosted Link session and returns its URL. The user completes
   * Link there (choosing the bank: Plaid's reference documents no way to preselect one for this
   * flow, `institution_id` being for legacy uses only) and is sent back to `redirectUrl`.
   * The app then calls connect with either the returned `consentId` (the link token: the public
   * token is then read from the finished session) or the `public_token` that Plaid Link's
   * `onSuccess` gives an app running Link itself. The institution's countries (from
   * /institutions/get_by_id, which also checks it exists) restrict Link's institution list.
   * Plaid needs at least one product and has none for balances alone: items are always created
   * with `transactions`. `days` is not used: Plaid has no consent duration to ask for.
   */
  async createLink(request: LinkRequest): Promise<ConsentLink> {
    this.validateConnect({ providerId: request.providerId, metadata: {} });
    const institution = await this.institution(request.providerId);
    const countries = institution.country_codes.filter((code) =>
      (PLAID_COUNTRIES as readonly string[]).includes(code),
    );
    if (countries.length === 0) {
      throw invalidInput([
        { path: '/providerId', in: 'body', message: 'this Plaid institution serves no supported country' },
      ]);
    }
    const answer = await this.call<LinkTokenCreateResponse>('/link/token/create', {
      client_name: this.clientName,
      language: this.language,
      country_codes: countries,
      user: { client_user_id: request.reference },
      products: ['transactions'],
      transactions: { days_requested: HISTORY_DAYS_REQUESTED },
      hosted_link: {
        completion_redirect_uri: request.redirectUrl,
        url_lifetime_seconds: LINK_LIFETIME_SECONDS,
      },
      ...(this.oauthRedirectUri ? { redirect_uri: this.oauthRedirectUri } : {}),
    });
    const expiresAt = new Date(answer.expiration);
    if (typeof answer.link_token !== 'string' || Number.isNaN(expiresAt.getTime())) {
      throw unexpected('/link/token/create');
    }
    if (typeof answer.hosted_link_url !== 'string' || answer.hosted_link_url === '') {
      throw new ProviderError(
        'unavailable',
        'Plaid returned no Hosted Link URL; Hosted Link must be enabled for this Plaid client',
      );
    }
    return { consentId: answer.link_token, url: answer.hosted_link_url, expiresAt };
  }

  // -------------------------------------------------------------------------------------------

  /** Exchanges the consent's public token (or that of a finished Link session) for an item. */
  private async exchange(consentId: string): Promise<PlaidState> {
    const id = consentId.trim();
    if (id === '') throw new ProviderError('invalid', 'no Plaid public token given');
    const known = this.fresh(this.exchanged, id, EXCHANGE_MEMORY_MS);
    if (known) return { accessToken: known.accessToken, itemId: known.itemId, cursors: {} };

    const publicToken = id.startsWith('link-') ? await this.publicTokenOfLink(id) : id;
    const answer = await this.call<PublicTokenExchangeResponse>('/item/public_token/exchange', {
      public_token: publicToken,
    });
    if (typeof answer.access_token !== 'string' || typeof answer.item_id !== 'string') {
      throw unexpected('/item/public_token/exchange');
    }
    const item = { accessToken: answer.access_token, itemId: answer.item_id };
    this.remember(this.exchanged, id, item);
    return { ...item, cursors: {} };
  }

  /** The public token of a Link session that added an item, from /link/token/get. */
  private async publicTokenOfLink(linkToken: string): Promise<string> {
    const answer = await this.call<LinkTokenGetResponse>('/link/token/get', { link_token: linkToken });
    const sessions = Array.isArray(answer.link_sessions) ? answer.link_sessions : [];
    for (const session of [...sessions].reverse()) {
      const token = session.results?.item_add_results?.[0]?.public_token ?? session.on_success?.public_token;
      if (typeof token === 'string' && token !== '') return token;
    }
    throw new ProviderError('invalid', 'the user has not completed Plaid Link for this link token yet');
  }

  /** /item/get, failing where the item is in error or its consent has passed. */
  private async usableItem(accessToken: string): Promise<PlaidItem> {
    const answer = await this.call<ItemGetResponse>('/item/get', { access_token: accessToken }, accessToken);
    const item = answer.item;
    if (typeof item !== 'object' || item === null || typeof item.item_id !== 'string') {
      throw unexpected('/item/get');
    }
    if (item.error) {
      const failure = toProviderError(400, item.error, { secrets: [this.secret, accessToken] });
      // Transient item errors (an institution briefly down) do not stop a consent check.
      if (failure.kind !== 'unavailable' && failure.kind !== 'rate_limited') throw failure;
    }
    if (itemHasExpiry(item) && itemExpiry(item, this.clock()).getTime() <= this.clock().getTime()) {
      throw new ProviderError('expired', `the Plaid item's consent expired ${item.consent_expiration_time}`);
    }
    return item;
  }

  private async institution(institutionId: string): Promise<PlaidInstitution> {
    const cached = this.fresh(this.institutions, institutionId);
    if (cached) return cached;
    let answer: InstitutionGetByIdResponse;
    try {
      answer = await this.client.post<InstitutionGetByIdResponse>('/institutions/get_by_id', {
        institution_id: institutionId,
        country_codes: [...PLAID_COUNTRIES],
        options: { include_optional_metadata: true },
      });
    } catch (error) {
      const code = error instanceof PlaidApiError ? error.code : null;
      if (code === 'INSTITUTION_NOT_FOUND' || code === 'INVALID_INSTITUTION') {
        throw invalidInput([
          { path: '/providerId', in: 'body', message: `unknown Plaid institution "${institutionId}"` },
        ]);
      }
      throw this.mapError(error);
    }
    const institution = answer.institution;
    if (
      typeof institution !== 'object' ||
      institution === null ||
      !Array.isArray(institution.country_codes)
    ) {
      throw unexpected('/institutions/get_by_id');
    }
    this.remember(this.institutions, institutionId, institution);
    return institution;
  }

  private requireState(consent: ConsentContext): PlaidState {
    const state = readState(consent.state);
    if (!state) throw new ProviderError('invalid', 'this Plaid connection holds no access token');
    return state;
  }

  private async call<T>(path: string, body: Record<string, unknown>, accessToken?: string): Promise<T> {
    try {
      return await this.client.post<T>(path, body);
    } catch (error) {
      throw this.mapError(error, accessToken);
    }
  }

  /** Any failure of a call as a `ProviderError` whose message holds no token or secret. */
  private mapError(error: unknown, accessToken?: string): Error {
    const secrets = [this.secret, accessToken];
    if (error instanceof PlaidApiError) {
      return toProviderError(error.status, error.error, {
        secrets,
        ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
      });
    }
    if (error instanceof ProviderError) {
      return new ProviderError(error.kind, redact(error.message, secrets), error.retryAfterSeconds);
    }
    return new ProviderError(
      'unavailable',
      redact(`Plaid call failed: ${(error as Error)?.message}`, secrets),
    );
  }

  private fresh<T>(
    cache: Map<string, CacheEntry<T>>,
    key: string,
    ttlMs = INSTITUTION_CACHE_MS,
  ): T | undefined {
    const entry = cache.get(key);
    if (!entry) return undefined;
    if (this.clock().getTime() - entry.at >= ttlMs) {
      cache.delete(key);
      return undefined;
    }
    return entry.value;
  }

  private remember<T>(cache: Map<string, CacheEntry<T>>, key: string, value: T): void {
    cache.delete(key);
    cache.set(key, { at: this.clock().getTime(), value });
    while (cache.size > CACHE_LIMIT) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
  }
}

/** Plaid's date-time format (`YYYY-MM-DDTHH:mm:ssZ`, no fractions of a second). */
function plaidDateTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The ids of Plaid transactions, skipping any entry without one. */
function transactionIds(transactions: unknown[]): string[] {
  return transactions
    .map((transaction) => (transaction as Partial<PlaidTransaction> | null)?.transaction_id)
    .filter((id): id is string => typeof id === 'string');
}

function unexpected(path: string): ProviderError {
  return new ProviderError('unavailable', `Plaid answered ${path} with an unexpected body`);
}

/** Runs a transform; a shape it cannot read becomes 'unavailable' rather than a crash. */
function readable<T>(transform: () => T, what: string): T {
  try {
    return transform();
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) {
      throw new ProviderError('unavailable', `Plaid sent ${what} the service cannot read (${error.message})`);
    }
    throw error;
  }
}
