/**
 * The HTTP side of GoCardless Bank Account Data: every call goes through `createHttpClient`
 * (timeouts, retries with jitter on network errors and 5xx, none on 4xx, none for a POST that
 * creates an agreement or a requisition) with a bearer access token that this client obtains and
 * keeps in memory only.
 *
 * Tokens (POST /api/v2/token/new/ with the user secrets; POST /api/v2/token/refresh/ with the
 * refresh token): the access token is renewed shortly before it expires, by refresh while the
 * refresh token lives, else by a new pair (also when a refresh is refused). A call answered 401
 * for a token reason renews the token once and is sent again. Concurrent callers share one
 * renewal. Neither the secrets nor the tokens ever appear in an error message.
 */
import { createHttpClient, type HttpClient, type HttpResponse, type RetryPolicy } from '../http.js';
import { type Clock, ProviderError } from '../provider.js';
import { type CallKind, toProviderError } from './transform.js';
import type { RefreshedToken, TokenPair } from './types.js';

export const DEFAULT_BASE_URL = 'https://bankaccountdata.gocardless.com';

export interface GoCardlessClientOptions {
  secretId: string;
  secretKey: string;
  baseUrl?: string;
  timeoutMs?: number;
  clock: Clock;
  retry?: RetryPolicy;
  /** For tests; the global fetch otherwise. */
  fetch?: typeof fetch;
}

export interface GcRequest {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** Attempts after the first, in place of the client's policy (see `HttpRequest.retries`). */
  retries?: number;
}

interface Tokens {
  access: string;
  /** When to stop using the access token (a margin before it expires), epoch ms. */
  accessUntil: number;
  refresh: string;
  refreshUntil: number;
}

/** Renew this long before GoCardless says a token expires (or a tenth of a short lifetime). */
const RENEW_MARGIN_MS = 60_000;

export class GoCardlessClient {
  private readonly http: HttpClient;
  private readonly clock: Clock;
  private readonly secretId: string;
  private readonly secretKey: string;
  private tokens: Tokens | null = null;
  private renewal: Promise<Tokens> | null = null;
  /** Every token value issued to this client, so that none can leak into a message. */
  private readonly issued = new Set<string>();

  constructor(options: GoCardlessClientOptions) {
    this.secretId = options.secretId;
    this.secretKey = options.secretKey;
    this.clock = options.clock;
    this.http = createHttpClient({
      baseUrl: options.baseUrl ?? DEFAULT_BASE_URL,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
  }

  /**
   * Sends an authenticated request; answers its 2xx or 4xx response. A 401 that is about our
   * token (not an account's access) renews the token once and resends.
   */
  async send(request: GcRequest): Promise<HttpResponse> {
    const used = (await this.currentTokens()).access;
    const first = await this.sendWith(request, used);
    if (first.status !== 401 || !isTokenRefusal(first.body)) return first;
    // Another call may have renewed the token meanwhile; else renew it now.
    const current = this.tokens;
    const fresh =
      current && current.access !== used && this.clock().getTime() < current.accessUntil
        ? current
        : await this.renew(true);
    return this.sendWith(request, fresh.access);
  }

  /**
   * Sends the request and answers the parsed body of a 2xx response; any other answer is thrown
   * as the `ProviderError` it stands for (`call` says what was asked, for the mapping).
   */
  async json<T>(request: GcRequest, call: CallKind): Promise<T> {
    const response = await this.send(request);
    if (response.status >= 200 && response.status < 300) {
      // Every answer read here is a JSON object: an empty or unparsable body is a broken answer,
      // not an empty one (it would read as "no transactions" and delete pending ones).
      if (typeof response.body !== 'object' || response.body === null) {
        throw new ProviderError('unavailable', `GoCardless answered ${response.status} without a JSON body`);
      }
      return response.body as T;
    }
    throw this.error(response, call);
  }

  /** The `ProviderError` of a GoCardless error answer, with secrets and tokens removed. */
  error(response: HttpResponse, call: CallKind): ProviderError {
    return toProviderError(response, call, {
      now: this.clock().getTime(),
      redact: (text) => this.redact(text),
    });
  }

  /** Removes the secrets and any token this client holds from a text. */
  redact(text: string): string {
    let clean = text;
    for (const secret of [this.secretId, this.secretKey, ...this.issued]) {
      if (secret) clean = clean.split(secret).join('[redacted]');
    }
    return clean;
  }

  private async sendWith(request: GcRequest, access: string): Promise<HttpResponse> {
    return this.http.request({
      method: request.method,
      path: withQuery(request.path, request.query),
      headers: { authorization: `Bearer ${access}` },
      ...(request.body === undefined ? {} : { body: request.body }),
      ...(request.retries === undefined ? {} : { retries: request.retries }),
    });
  }

  private async currentTokens(): Promise<Tokens> {
    const now = this.clock().getTime();
    if (this.tokens && now < this.tokens.accessUntil) return this.tokens;
    return this.renew(false);
  }

  /**
   * Gets a fresh access token: one renewal at a time, shared by concurrent callers. `force`
   * renews even a token that looks valid (GoCardless refused it).
   */
  private renew(force: boolean): Promise<Tokens> {
    if (this.renewal) return this.renewal;
    const stale = this.tokens;
    this.renewal = (async () => {
      try {
        const now = this.clock().getTime();
        if (!force && stale && now < stale.accessUntil) return stale;
        const refreshed = stale && now < stale.refreshUntil ? await this.refresh(stale) : null;
        this.tokens = refreshed ?? (await this.newPair());
        return this.tokens;
      } finally {
        this.renewal = null;
      }
    })();
    return this.renewal;
  }

  /** POST /api/v2/token/refresh/; null when GoCardless refuses the refresh token (4xx). */
  private async refresh(stale: Tokens): Promise<Tokens | null> {
    const response = await this.http.request({
      method: 'POST',
      path: '/api/v2/token/refresh/',
      body: { refresh: stale.refresh },
      repeatable: true,
    });
    if (response.status === 429) throw this.error(response, 'token');
    if (response.status < 200 || response.status >= 300) return null;
    const body = response.body as Partial<RefreshedToken> | null;
    if (!body || typeof body.access !== 'string' || !isSeconds(body.access_expires)) {
      throw new ProviderError('unavailable', 'GoCardless answered a token refresh without a usable token');
    }
    this.issued.add(body.access);
    return { ...stale, access: body.access, accessUntil: this.until(body.access_expires) };
  }

  /** POST /api/v2/token/new/ with the user secrets. */
  private async newPair(): Promise<Tokens> {
    const response = await this.http.request({
      method: 'POST',
      path: '/api/v2/token/new/',
      body: { secret_id: this.secretId, secret_key: this.secretKey },
      // A second pair is as good as the first; the first is never used.
      repeatable: true,
    });
    if (response.status === 429) throw this.error(response, 'token');
    if (response.status === 401 || response.status === 403) {
      // Never GoCardless's words here: they could echo what we sent.
      throw new ProviderError(
        'unavailable',
        `GoCardless refused the configured secret id and key (${response.status}); check GOCARDLESS_SECRET_ID and GOCARDLESS_SECRET_KEY`,
      );
    }
    if (response.status < 200 || response.status >= 300) {
      throw new ProviderError('unavailable', `GoCardless did not issue an access token (${response.status})`);
    }
    const body = response.body as Partial<TokenPair> | null;
    if (
      !body ||
      typeof body.access !== 'string' ||
      typeof body.refresh !== 'string' ||
      !isSeconds(body.access_expires) ||
      !isSeconds(body.refresh_expires)
    ) {
      throw new ProviderError('unavailable', 'GoCardless answered a token request without usable tokens');
    }
    this.issued.add(body.access);
    this.issued.add(body.refresh);
    return {
      access: body.access,
      accessUntil: this.until(body.access_expires),
      refresh: body.refresh,
      refreshUntil: this.until(body.refresh_expires),
    };
  }

  private until(seconds: number): number {
    const lifetime = seconds * 1000;
    return this.clock().getTime() + lifetime - Math.min(RENEW_MARGIN_MS, lifetime / 10);
  }
}

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/**
 * Whether a 401 is about our access token rather than an account's access: the accounts
 * endpoints name their errors with a `type` (AccessExpiredError, AccountInactiveError...); a
 * token refusal has none and speaks of the token.
 */
export function isTokenRefusal(body: unknown): boolean {
  if (!body || typeof body !== 'object') return true;
  const { type, summary, detail } = body as { type?: unknown; summary?: unknown; detail?: unknown };
  if (typeof type === 'string' && type !== '') return /token/i.test(type);
  return (
    /token|authenticat|credentials/i.test(`${String(summary ?? '')} ${String(detail ?? '')}`) ||
    (summary === undefined && detail === undefined)
  );
}

function withQuery(path: string, query: Record<string, string | undefined> | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.set(key, value);
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}
