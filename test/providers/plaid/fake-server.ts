/**
 * A local fake of the Plaid API (version 2020-09-14) on 127.0.0.1, for tests: every endpoint is a
 * POST of JSON with `client_id` and `secret` in the body, answered with the documented response
 * shapes and, on failure, the documented error object `{error_type, error_code, error_message,
 * display_message, request_id}`. Failures can be injected per endpoint.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { serveWireFault, type WireFault } from '../wire-faults.js';
import {
  CAPITAL_ONE_ID,
  fixtureAccounts,
  INSTITUTION_ID,
  INSTITUTIONS,
  initialEvents,
  type Json,
  type SyncEvent,
} from './fixtures.js';

export const FAKE_CLIENT_ID = 'fake-client-0123456789';
export const FAKE_SECRET = 'fake-secret-9f8e7d6c5b4a';

export interface FakeFailure {
  /** HTTP status of the failure; absent with `delayMs` alone: a slow but good answer. */
  status?: number;
  /** A Plaid error code; its type and messages are filled in from ERRORS. */
  code?: string;
  /** Extra fields of the error object (e.g. `error_code_reason`). */
  error?: Json;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Runs when the failure is served (e.g. to change the data, as a real mutation would). */
  onServe?: () => void;
  /** A 2xx answer with this JSON body instead of the real one (e.g. of the wrong shape). */
  body?: unknown;
  /** A fault below HTTP: a body that is not JSON, a reset connection, a body that never ends. */
  wire?: WireFault;
}

export interface FakeItem {
  itemId: string;
  accessToken: string;
  institutionId: string;
  products: string[];
  consentExpirationTime: string | null;
  error: Json | null;
  accounts: Json[];
  /** The item's transaction updates, in order; a cursor is a position in this log. */
  log: SyncEvent[];
  /**
   * Transactions added and deleted again since some reader's cursor (`retract`): no stream
   * reports them, as Plaid reports only the net change since a cursor.
   */
  retracted: Set<string>;
  /**
   * Changes made with `mutate` so far: a cursor handed out mid-pagination (`has_more` true)
   * before the latest one is refused.
   */
  mutations: number;
  removed: boolean;
}

export interface RecordedRequest {
  path: string;
  body: Json;
  headers: IncomingMessage['headers'];
  /** What the fake answered, once it has (e.g. to follow the `next_cursor` it handed out). */
  response?: { status: number; body: Json };
}

/** Error types and messages of the codes the fake serves (as in Plaid's error reference). */
const ERRORS: Record<string, { type: string; status: number; message: string; display: string | null }> = {
  ITEM_LOGIN_REQUIRED: {
    type: 'ITEM_ERROR',
    status: 400,
    message:
      'the login details of this item have changed and a user login is required to update this information',
    display: 'The login details of this item have changed. Please log in again.',
  },
  ITEM_NOT_FOUND: {
    type: 'ITEM_ERROR',
    status: 400,
    message: 'the Item you requested cannot be found. This Item does not exist or has been removed',
    display: null,
  },
  INVALID_ACCESS_TOKEN: {
    type: 'INVALID_INPUT',
    status: 400,
    message: 'could not find matching access token',
    display: null,
  },
  INVALID_PUBLIC_TOKEN: {
    type: 'INVALID_INPUT',
    status: 400,
    message: 'could not find matching public token',
    display: null,
  },
  INVALID_LINK_TOKEN: {
    type: 'INVALID_INPUT',
    status: 400,
    message: 'invalid link_token provided',
    display: null,
  },
  INVALID_API_KEYS: {
    type: 'INVALID_INPUT',
    status: 400,
    message: 'invalid client_id or secret provided',
    display: null,
  },
  INVALID_ACCOUNT_ID: {
    type: 'INVALID_INPUT',
    status: 400,
    message: 'one or more of the account IDs is invalid',
    display: null,
  },
  MISSING_FIELDS: {
    type: 'INVALID_REQUEST',
    status: 400,
    message: 'the following required fields are missing',
    display: null,
  },
  INVALID_FIELD: { type: 'INVALID_REQUEST', status: 400, message: 'a field is invalid', display: null },
  INVALID_BODY: {
    type: 'INVALID_REQUEST',
    status: 400,
    message: 'body could not be parsed as JSON',
    display: null,
  },
  NOT_FOUND: { type: 'INVALID_REQUEST', status: 404, message: 'not found', display: null },
  INSTITUTION_NOT_FOUND: {
    type: 'INSTITUTION_ERROR',
    status: 400,
    message: 'this institution was not found. Please check the ID supplied',
    display: null,
  },
  INSTITUTION_DOWN: {
    type: 'INSTITUTION_ERROR',
    status: 400,
    message: 'this institution is not currently responding to this request. please try again soon',
    display: 'This financial institution is not currently responding to requests.',
  },
  INSTITUTION_NOT_RESPONDING: {
    type: 'INSTITUTION_ERROR',
    status: 400,
    message: 'this institution is not currently responding to this request. please try again soon',
    display: 'This financial institution is not currently responding to requests.',
  },
  RATE_LIMIT_EXCEEDED: {
    type: 'RATE_LIMIT_EXCEEDED',
    status: 429,
    message: 'rate limit exceeded for attempts to access this item. please try again later',
    display: null,
  },
  TRANSACTIONS_SYNC_LIMIT: {
    type: 'RATE_LIMIT_EXCEEDED',
    status: 429,
    message: 'rate limit exceeded for attempts to access this item. please try again later',
    display: null,
  },
  PRODUCT_NOT_READY: {
    type: 'ITEM_ERROR',
    status: 400,
    message:
      'the requested product is not yet ready. please provide a webhook or try the request again later',
    display: null,
  },
  TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION: {
    type: 'TRANSACTIONS_ERROR',
    status: 400,
    message:
      'Underlying transaction data changed since last page was fetched. Please restart pagination from last update.',
    display: null,
  },
  LAST_UPDATED_DATETIME_OUT_OF_RANGE: {
    type: 'INVALID_RESULT',
    status: 400,
    message: 'requested data is not available within the specified date-time range',
    display: null,
  },
  INTERNAL_SERVER_ERROR: {
    type: 'API_ERROR',
    status: 500,
    message: 'an unexpected error occurred',
    display: 'Internal error occurred.',
  },
};

class FakeError extends Error {
  constructor(
    readonly code: string,
    readonly extra: Json = {},
  ) {
    super(code);
  }
}

const requestId = () => randomBytes(8).toString('base64url');
const token = (kind: 'public' | 'access' | 'link') => `${kind}-sandbox-${randomUUID()}`;

function errorBody(code: string, extra: Json = {}): { status: number; body: Json } {
  const known = ERRORS[code] ?? { type: 'API_ERROR', status: 500, message: code, display: null };
  return {
    status: known.status,
    body: {
      error_type: known.type,
      error_code: code,
      error_code_reason: null,
      error_message: known.message,
      display_message: known.display,
      request_id: requestId(),
      causes: [],
      status: null,
      documentation_url: `https://plaid.com/docs/?ref-error-code=${code}`,
      suggested_action: null,
      ...extra,
    },
  };
}

/**
 * Opaque sync cursors: the stream (one account or the whole item), a position in the log and,
 * for one handed out mid-pagination, the item's mutation count then (see `FakePlaid.mutate`).
 */
interface FakeCursor {
  scope: string;
  position: number;
  midway: number | null;
}

function encodeCursor(cursor: FakeCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string): FakeCursor | null {
  try {
    const { scope, position, midway } = JSON.parse(Buffer.from(text, 'base64url').toString()) as FakeCursor;
    if (typeof scope !== 'string' || !Number.isInteger(position) || position < 0) return null;
    return { scope, position, midway: Number.isInteger(midway) ? midway : null };
  } catch {
    return null;
  }
}

export interface ItemOptions {
  /** The item's institution; the fixture's bank by default (`CAPITAL_ONE_ID` for its balance rule). */
  institutionId?: string;
  products?: string[];
  consentExpirationTime?: string | null;
  events?: SyncEvent[];
  /**
   * The item's accounts (AccountBase); the fixture's checking account and card by default. As at
   * most institutions, they have no `persistent_account_id` unless one is given here.
   */
  accounts?: Json[];
}

export class FakePlaid {
  readonly requests: RecordedRequest[] = [];
  readonly items = new Map<string, FakeItem>();
  private readonly publicTokens = new Map<string, { item: FakeItem; exchanged: boolean }>();
  private readonly linkTokens = new Map<string, { body: Json; publicTokens: string[] }>();
  private readonly failures = new Map<string, FakeFailure[]>();
  private server: Server | null = null;
  url = '';

  /** The service's environment variables that point its Plaid provider at this fake. */
  serviceEnv(): Record<string, string> {
    return { PLAID_CLIENT_ID: FAKE_CLIENT_ID, PLAID_SECRET: FAKE_SECRET, PLAID_BASE_URL: this.url };
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        response.statusCode = 500;
        response.end(JSON.stringify({ fake: String(error) }));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // -- controls ---------------------------------------------------------------------------------

  /** A new item, as Plaid Link creates one, and the public token Link would hand the app. */
  createItem(options: ItemOptions = {}): { publicToken: string; item: FakeItem } {
    const item: FakeItem = {
      itemId: `item-${randomUUID()}`,
      accessToken: token('access'),
      institutionId: options.institutionId ?? INSTITUTION_ID,
      products: options.products ?? ['transactions'],
      consentExpirationTime: options.consentExpirationTime ?? null,
      error: null,
      accounts: options.accounts ?? fixtureAccounts(),
      log: options.events ?? initialEvents(),
      retracted: new Set(),
      mutations: 0,
      removed: false,
    };
    this.items.set(item.accessToken, item);
    const publicToken = token('public');
    this.publicTokens.set(publicToken, { item, exchanged: false });
    return { publicToken, item };
  }

  /** The user finishes Link (Hosted Link) for a link token: its session now holds a public token. */
  completeLink(linkToken: string, options: ItemOptions = {}): FakeItem {
    const link = this.linkTokens.get(linkToken);
    if (!link) throw new Error('unknown link token');
    const { publicToken, item } = this.createItem(options);
    link.publicTokens.push(publicToken);
    return item;
  }

  linkRequest(linkToken: string): Json | undefined {
    return this.linkTokens.get(linkToken)?.body;
  }

  /** Fails (or delays) the next `times` calls of `path`. */
  failNext(path: string, failure: FakeFailure, times = 1): void {
    const queue = this.failures.get(path) ?? [];
    for (let i = 0; i < times; i++) queue.push(failure);
    this.failures.set(path, queue);
  }

  /**
   * Fails the `n`-th call of `path` from now on (1 for the next), and the `times - 1` after it;
   * the calls before it are answered normally. For a fault that outlasts the client's retries,
   * `times` must exceed them.
   */
  failAt(path: string, n: number, failure: FakeFailure, times = 1): void {
    this.failNext(path, {}, n - 1);
    this.failNext(path, failure, times);
  }

  /** Forgets every failure not yet served. */
  clearFailures(): void {
    this.failures.clear();
  }

  /** New updates on an item (what a day at the bank brings). */
  publish(item: FakeItem, events: SyncEvent[]): void {
    item.log.push(...events);
  }

  /**
   * Changes the item's data while a reader may be mid-pagination, as Plaid's own updates do:
   * every pagination under way is then refused on its next page with
   * TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION, and must restart from its first cursor.
   */
  mutate(item: FakeItem, change: () => void): void {
    change();
    item.mutations++;
  }

  /**
   * A transaction deleted again at the bank before any reader finished a pagination that
   * delivered it: from then on no stream mentions it, neither as added nor as removed (Plaid
   * reports the net change since a cursor). A reader that kept it from an abandoned pagination
   * is never told it is gone.
   */
  retract(item: FakeItem, transactionId: string): void {
    this.mutate(item, () => item.retracted.add(transactionId));
  }

  calls(path: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  /** Every public, access and link token this fake has issued (to search logs and storage for). */
  issuedTokens(): { public: string[]; access: string[]; link: string[] } {
    return {
      public: [...this.publicTokens.keys()],
      access: [...this.items.keys()],
      link: [...this.linkTokens.keys()],
    };
  }

  // -- server -----------------------------------------------------------------------------------

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    let recorded: RecordedRequest | undefined;
    const send = async (status: number, body: Json, headers: Record<string, string> = {}) => {
      if (recorded) recorded.response = { status, body };
      if (response.destroyed) return;
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    };
    const fail = (code: string, extra: Json = {}) => {
      const { status, body } = errorBody(code, extra);
      return send(status, body);
    };

    if (request.method !== 'POST') return fail('NOT_FOUND');
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return fail('INVALID_BODY');
    }
    let body: Json;
    try {
      const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('INVALID_BODY');
      body = parsed as Json;
    } catch {
      return fail('INVALID_BODY');
    }
    recorded = { path, body, headers: request.headers };
    this.requests.push(recorded);

    if (typeof body.client_id !== 'string' || typeof body.secret !== 'string') {
      return fail('MISSING_FIELDS', {
        error_message: 'the following required fields are missing: client_id, secret',
      });
    }
    if (body.client_id !== FAKE_CLIENT_ID || body.secret !== FAKE_SECRET) return fail('INVALID_API_KEYS');

    const failure = this.failures.get(path)?.shift();
    if (failure) {
      if (failure.delayMs) await sleep(failure.delayMs);
      failure.onServe?.();
      if (failure.wire) {
        if (response.destroyed) return;
        recorded.response = { status: serveWireFault(response, failure.wire), body: {} };
        return;
      }
      if (failure.body !== undefined)
        return send(failure.status ?? 200, failure.body as Json, failure.headers);
      if (failure.status !== undefined || failure.code !== undefined) {
        const { status, body: error } = errorBody(failure.code ?? 'INTERNAL_SERVER_ERROR', failure.error);
        return send(failure.status ?? status, error, failure.headers);
      }
    }

    try {
      const answer = this.route(path, body);
      return send(200, { ...answer, request_id: requestId() });
    } catch (error) {
      if (error instanceof FakeError) return fail(error.code, error.extra);
      throw error;
    }
  }

  private route(path: string, body: Json): Json {
    switch (path) {
      case '/item/public_token/exchange':
        return this.exchange(body);
      case '/item/get':
        // An item in error still answers /item/get, with the error in `item.error`.
        return {
          item: this.itemJson(this.item(body, false)),
          status: { transactions: null, last_webhook: null },
        };
      case '/item/remove': {
        const item = this.item(body, false);
        item.removed = true;
        return {};
      }
      case '/accounts/get': {
        const item = this.item(body);
        return { accounts: item.accounts, item: this.itemJson(item) };
      }
      case '/accounts/balance/get':
        return this.balances(body);
      case '/transactions/sync':
        return this.sync(body);
      case '/institutions/search':
        return this.searchInstitutions(body);
      case '/institutions/get':
        return this.listInstitutions(body);
      case '/institutions/get_by_id':
        return this.institutionById(body);
      case '/link/token/create':
        return this.createLinkToken(body);
      case '/link/token/get':
        return this.getLinkToken(body);
      default:
        throw new FakeError('NOT_FOUND');
    }
  }

  private exchange(body: Json): Json {
    if (typeof body.public_token !== 'string') throw new FakeError('MISSING_FIELDS');
    const entry = this.publicTokens.get(body.public_token);
    // A public token is good for one exchange.
    if (!entry || entry.exchanged) throw new FakeError('INVALID_PUBLIC_TOKEN');
    entry.exchanged = true;
    return { access_token: entry.item.accessToken, item_id: entry.item.itemId };
  }

  /** The item of the request's access token; with `healthy`, failing with the item's error. */
  private item(body: Json, healthy = true): FakeItem {
    if (typeof body.access_token !== 'string') throw new FakeError('MISSING_FIELDS');
    const item = this.items.get(body.access_token);
    if (!item || item.removed) throw new FakeError('INVALID_ACCESS_TOKEN');
    if (healthy && item.error && typeof item.error.error_code === 'string') {
      throw new FakeError(item.error.error_code, item.error);
    }
    return item;
  }

  private itemJson(item: FakeItem): Json {
    return {
      item_id: item.itemId,
      institution_id: item.institutionId,
      institution_name: 'Harbour Federal Bank',
      webhook: null,
      auth_method: null,
      error: item.error ? errorBody(String(item.error.error_code), item.error).body : null,
      available_products: ['assets', 'auth', 'identity'].filter(
        (product) => !item.products.includes(product),
      ),
      billed_products: [...item.products],
      products: [...item.products],
      consented_products: [...item.products],
      consent_expiration_time: item.consentExpirationTime,
      update_type: 'background',
      created_at: '2026-05-01T09:00:00Z',
    };
  }

  /**
   * /accounts/balance/get. Capital One (ins_128026) gives no real-time balance for its
   * non-depository accounts: there Plaid's reference requires `options.min_last_updated_datetime`
   * (INVALID_FIELD without it) and answers LAST_UPDATED_DATETIME_OUT_OF_RANGE when such an
   * account's `balances.last_updated_datetime` is older. Elsewhere the option is ignored.
   */
  private balances(body: Json): Json {
    const item = this.item(body);
    const options = (body.options ?? {}) as Json;
    const cached = item.accounts.filter((account) => account.type !== 'depository');
    if (item.institutionId === CAPITAL_ONE_ID && cached.length > 0) {
      const oldest = options.min_last_updated_datetime;
      const at = typeof oldest === 'string' ? Date.parse(oldest) : Number.NaN;
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(String(oldest)) || Number.isNaN(at)) {
        throw new FakeError('INVALID_FIELD', {
          error_message: 'options.min_last_updated_datetime must be provided for this institution',
        });
      }
      const stale = cached.some((account) => {
        const updated = (account.balances as Json).last_updated_datetime;
        return typeof updated === 'string' && Date.parse(updated) < at;
      });
      if (stale) throw new FakeError('LAST_UPDATED_DATETIME_OUT_OF_RANGE');
    }
    return { accounts: item.accounts, item: this.itemJson(item) };
  }

  private sync(body: Json): Json {
    const item = this.item(body);
    const options = (body.options ?? {}) as Json;
    const accountId = typeof options.account_id === 'string' ? options.account_id : null;
    if (accountId && !item.accounts.some((account) => account.account_id === accountId)) {
      throw new FakeError('INVALID_ACCOUNT_ID');
    }
    const count = body.count === undefined ? 100 : Number(body.count);
    if (!Number.isInteger(count) || count < 1 || count > 500) throw new FakeError('INVALID_FIELD');
    const scope = accountId ?? '*';
    let position = 0;
    if (typeof body.cursor === 'string' && body.cursor !== '') {
      const cursor = decodeCursor(body.cursor);
      if (!cursor || cursor.scope !== scope || cursor.position > item.log.length)
        throw new FakeError('INVALID_FIELD');
      if (cursor.midway !== null && cursor.midway < item.mutations) {
        throw new FakeError('TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION');
      }
      position = cursor.position;
    }
    const inScope = (event: SyncEvent) =>
      !item.retracted.has(
        event.kind === 'removed' ? event.transaction_id : (event.transaction.transaction_id as string),
      ) &&
      (scope === '*' ||
        (event.kind === 'removed' ? event.account_id : (event.transaction.account_id as string)) === scope);

    const page: SyncEvent[] = [];
    let next = position;
    while (next < item.log.length && page.length < count) {
      const event = item.log[next] as SyncEvent;
      if (inScope(event)) page.push(event);
      next++;
    }
    // Skip what follows outside the stream, so has_more means more of *this* stream.
    while (next < item.log.length && !inScope(item.log[next] as SyncEvent)) next++;
    const hasMore = next < item.log.length;
    const nextCursor = encodeCursor({ scope, position: next, midway: hasMore ? item.mutations : null });
    const accountIds = new Set(
      page.map((event) => (event.kind === 'removed' ? event.account_id : event.transaction.account_id)),
    );
    return {
      accounts: item.accounts.filter((account) => accountIds.has(account.account_id)),
      added: page.flatMap((event) => (event.kind === 'added' ? [event.transaction] : [])),
      modified: page.flatMap((event) => (event.kind === 'modified' ? [event.transaction] : [])),
      removed: page.flatMap((event) =>
        event.kind === 'removed'
          ? [{ transaction_id: event.transaction_id, account_id: event.account_id }]
          : [],
      ),
      next_cursor: nextCursor,
      has_more: hasMore,
      transactions_update_status: 'HISTORICAL_UPDATE_COMPLETE',
    };
  }

  private institutionJson(institution: Json, options: Json): Json {
    const withMetadata = options.include_optional_metadata === true;
    return {
      ...institution,
      url: withMetadata ? institution.url : null,
      primary_color: withMetadata ? institution.primary_color : null,
      logo: withMetadata ? institution.logo : null,
    };
  }

  private filterInstitutions(body: Json, products: unknown): Json[] {
    if (!Array.isArray(body.country_codes) || body.country_codes.length === 0)
      throw new FakeError('INVALID_FIELD');
    const countries = body.country_codes as string[];
    const wanted = Array.isArray(products) ? (products as string[]) : [];
    return INSTITUTIONS.filter(
      (institution) =>
        (institution.country_codes as string[]).some((code) => countries.includes(code)) &&
        wanted.every((product) => (institution.products as string[]).includes(product)),
    );
  }

  private searchInstitutions(body: Json): Json {
    if (typeof body.query !== 'string' || body.query === '') throw new FakeError('INVALID_FIELD');
    const text = body.query.toLowerCase();
    const options = (body.options ?? {}) as Json;
    return {
      institutions: this.filterInstitutions(body, body.products)
        .filter((institution) => String(institution.name).toLowerCase().includes(text))
        .map((institution) => this.institutionJson(institution, options)),
    };
  }

  private listInstitutions(body: Json): Json {
    const count = Number(body.count);
    const offset = Number(body.offset);
    if (!Number.isInteger(count) || count < 1 || count > 500 || !Number.isInteger(offset) || offset < 0) {
      throw new FakeError('INVALID_FIELD');
    }
    const options = (body.options ?? {}) as Json;
    const all = this.filterInstitutions(body, options.products);
    return {
      institutions: all
        .slice(offset, offset + count)
        .map((institution) => this.institutionJson(institution, options)),
      total: all.length,
    };
  }

  private institutionById(body: Json): Json {
    if (typeof body.institution_id !== 'string') throw new FakeError('MISSING_FIELDS');
    const institution = INSTITUTIONS.find((candidate) => candidate.institution_id === body.institution_id);
    if (!institution) throw new FakeError('INSTITUTION_NOT_FOUND');
    return { institution: this.institutionJson(institution, (body.options ?? {}) as Json) };
  }

  private createLinkToken(body: Json): Json {
    const user = (body.user ?? {}) as Json;
    if (
      typeof body.client_name !== 'string' ||
      typeof body.language !== 'string' ||
      !Array.isArray(body.country_codes) ||
      body.country_codes.length === 0 ||
      typeof user.client_user_id !== 'string' ||
      user.client_user_id === ''
    ) {
      throw new FakeError('MISSING_FIELDS');
    }
    if (!Array.isArray(body.products) || body.products.length === 0) throw new FakeError('INVALID_FIELD');
    const hosted = body.hosted_link as Json | undefined;
    const lifetime =
      typeof hosted?.url_lifetime_seconds === 'number' ? hosted.url_lifetime_seconds : 4 * 3600;
    const linkToken = token('link');
    this.linkTokens.set(linkToken, { body, publicTokens: [] });
    return {
      link_token: linkToken,
      expiration: new Date(Date.now() + lifetime * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ...(hosted ? { hosted_link_url: `https://hosted.plaid.com/link/${linkToken.slice(-12)}` } : {}),
    };
  }

  private getLinkToken(body: Json): Json {
    if (typeof body.link_token !== 'string') throw new FakeError('MISSING_FIELDS');
    const link = this.linkTokens.get(body.link_token);
    if (!link) throw new FakeError('INVALID_LINK_TOKEN');
    return {
      link_token: body.link_token,
      created_at: '2026-06-01T12:00:00Z',
      expiration: '2026-06-01T13:00:00Z',
      link_sessions: link.publicTokens.map((publicToken, index) => ({
        link_session_id: `session-${index}`,
        started_at: '2026-06-01T12:01:00Z',
        finished_at: '2026-06-01T12:03:00Z',
        results: {
          item_add_results: [
            { public_token: publicToken, accounts: [], institution: { institution_id: INSTITUTION_ID } },
          ],
        },
      })),
      metadata: { initial_products: ['transactions'] },
    };
  }
}
