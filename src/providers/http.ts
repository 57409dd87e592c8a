import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderError } from './provider.js';

/**
 * Calls out to providers: a timeout on every call, bounded retries with exponential backoff and
 * full jitter on network errors and 5xx answers, none on 4xx, and none at all for a request that
 * must not be sent twice once it may have reached the provider. What the answer means is the
 * adapter's business; this only gets it.
 */

export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  /** Backoff base; attempt n waits a random time in [0, baseDelayMs * 2^n). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 2, baseDelayMs: 200, maxDelayMs: 2_000 };

/** Runs `call` again while `retryable` says so and attempts remain, waiting with jitter between. */
export async function withRetries<T>(
  call: (attempt: number) => Promise<T>,
  retryable: (error: unknown) => boolean,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      if (attempt >= policy.retries || !retryable(error)) throw error;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
      await sleep(Math.random() * ceiling);
    }
  }
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path and query, appended to the client's base URL. */
  path: string;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /**
   * Whether sending it twice does what sending it once does. By default GET, PUT and DELETE are
   * (RFC 9110's idempotent methods) and POST is not: a POST that may have reached the provider is
   * not sent again, since a lost answer to a one-time exchange or a creation would turn a success
   * into a refusal or a duplicate. An adapter says `true` of a POST that only reads.
   */
  repeatable?: boolean;
  /** Attempts after the first for this request, in place of the client's policy (0: none). */
  retries?: number;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or null for an empty or non-JSON body. */
  body: unknown;
}

export interface HttpClientOptions {
  baseUrl: string;
  timeoutMs?: number;
  /** The largest answer read, in bytes (`MAX_ANSWER_BYTES` when absent). */
  maxAnswerBytes?: number;
  retry?: RetryPolicy;
  /** For tests; the global fetch otherwise. */
  fetch?: typeof fetch;
}

/**
 * The largest provider answer read. GoCardless gives an account's whole history in one answer
 * (its banks allow a few calls a day, so it cannot be asked in parts): about 700 bytes a
 * transaction, so this takes some 180,000 of them. Past it the answer is refused (502) as it
 * comes in, instead of being read whole: a 250 MB answer had taken the process to 1.1 GB.
 */
export const MAX_ANSWER_BYTES = 128 * 1024 * 1024;

class ServerErrorStatus extends Error {
  constructor(readonly response: HttpResponse) {
    super(`HTTP ${response.status}`);
  }
}

/**
 * A JSON client for one provider's base URL. 2xx and 4xx answers are returned; 5xx answers and
 * network errors are retried, then thrown as `ProviderError('unavailable')`; a call that exceeds
 * the timeout is `ProviderError('timeout')` (not retried: the bank may still be working on it).
 */
export function createHttpClient(options: HttpClientOptions) {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maxAnswerBytes = options.maxAnswerBytes ?? MAX_ANSWER_BYTES;
  const doFetch = options.fetch ?? fetch;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');

  async function once(request: HttpRequest): Promise<HttpResponse> {
    let response: Response;
    let text: string;
    try {
      response = await doFetch(`${baseUrl}${request.path}`, {
        method: request.method,
        headers: {
          accept: 'application/json',
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...request.headers,
        },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      // The timeout covers the body too: a body that stops coming is a timeout, not retried.
      text = await readAtMost(response, maxAnswerBytes);
    } catch (error) {
      if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
        throw new ProviderError('timeout', `no answer within ${timeoutMs} ms`);
      }
      throw error;
    }
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    const answer = { status: response.status, headers: response.headers, body };
    if (response.status >= 500) throw new ServerErrorStatus(answer);
    return answer;
  }

  return {
    async request(request: HttpRequest): Promise<HttpResponse> {
      const repeatable = request.repeatable ?? request.method !== 'POST';
      const policy = options.retry ?? DEFAULT_RETRY;
      try {
        return await withRetries(
          () => once(request),
          (error) => !(error instanceof ProviderError) && (repeatable || neverSent(error)),
          request.retries === undefined ? policy : { ...policy, retries: request.retries },
        );
      } catch (error) {
        if (error instanceof ProviderError) throw error;
        if (error instanceof ServerErrorStatus) {
          throw new ProviderError('unavailable', `the provider answered ${error.response.status}`);
        }
        throw new ProviderError(
          'unavailable',
          `the provider could not be reached (${(error as Error).message})`,
        );
      }
    },
  };
}

export type HttpClient = ReturnType<typeof createHttpClient>;

/** The body as text, refused (and its download stopped) once it passes `maxBytes`. */
async function readAtMost(response: Response, maxBytes: number): Promise<string> {
  const tooLarge = () =>
    new ProviderError(
      'unavailable',
      `the provider answered more than ${Math.floor(maxBytes / 1024 / 1024)} MiB`,
    );
  if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let received = 0;
  for await (const chunk of response.body) {
    received += chunk.byteLength;
    if (received > maxBytes) {
      // Leaving the loop early cancels the stream, which closes the connection.
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  // As `response.text()` decodes: UTF-8, a byte-order mark dropped.
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** Errors that mean the connection was never made, so the provider cannot have seen the request. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

function neverSent(error: unknown): boolean {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === 'string' && NOT_CONNECTED.has(cause.code);
}

/** Seconds in a `Retry-After` or reset header (seconds or an HTTP date); undefined if absent. */
export function retryAfterSeconds(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}
