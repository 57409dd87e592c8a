/**
 * Plaid's transport: every endpoint is a POST of a JSON body that carries the API credentials
 * (`client_id`, `secret`), answered with JSON. Timeouts and bounded retries (network errors and
 * 5xx only) come from the shared HTTP client; a 4xx answer becomes a `PlaidApiError` with Plaid's
 * error object, for the adapter to handle or map.
 */
import { createHttpClient, type RetryPolicy, retryAfterSeconds } from '../http.js';
import { ProviderError } from '../provider.js';
import { parsePlaidError } from './transform.js';
import type { PlaidErrorBody } from './types.js';

export const PLAID_BASE_URLS = {
  sandbox: 'https://sandbox.plaid.com',
  production: 'https://production.plaid.com',
} as const;

export type PlaidEnv = keyof typeof PLAID_BASE_URLS;

/** The API version this provider is written against, sent as the `Plaid-Version` header. */
export const PLAID_API_VERSION = '2020-09-14';

/** A 4xx answer from Plaid. Its message names the code only: never a token or a secret. */
export class PlaidApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: PlaidErrorBody | null,
    readonly retryAfterSeconds?: number,
  ) {
    super(`Plaid answered ${status}${error ? ` ${error.error_code}` : ''}`);
    this.name = 'PlaidApiError';
  }

  get code(): string | null {
    return this.error?.error_code ?? null;
  }
}

export interface PlaidClientOptions {
  clientId: string;
  secret: string;
  baseUrl: string;
  timeoutMs: number;
  retry?: RetryPolicy;
  /** For tests; the global fetch otherwise. */
  fetch?: typeof fetch;
}

export interface PlaidClient {
  /**
   * POSTs `body` (plus the credentials) to `path`. Resolves with the 2xx body; rejects with a
   * `PlaidApiError` for a 4xx answer, or a `ProviderError` ('unavailable' after the retries, or
   * 'timeout').
   */
  post<T>(path: string, body: Record<string, unknown>): Promise<T>;
}

export function createPlaidClient(options: PlaidClientOptions): PlaidClient {
  const http = createHttpClient({
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return {
    async post<T>(path: string, body: Record<string, unknown>): Promise<T> {
      const response = await http.request({
        method: 'POST',
        path,
        headers: { 'Plaid-Version': PLAID_API_VERSION },
        body: { ...body, client_id: options.clientId, secret: options.secret },
        // Every Plaid endpoint is a POST, nearly all of them reads. The one-time public token
        // exchange is sent again too: if the first never reached Plaid the second succeeds, and
        // if it did, not sending it again fails the connect all the same (docs/DECISIONS.md).
        repeatable: true,
      });
      if (response.status >= 200 && response.status < 300) {
        if (typeof response.body !== 'object' || response.body === null) {
          throw new ProviderError('unavailable', `Plaid answered ${path} without a JSON body`);
        }
        return response.body as T;
      }
      throw new PlaidApiError(
        response.status,
        parsePlaidError(response.body),
        retryAfterSeconds(response.headers.get('retry-after')),
      );
    },
  };
}
