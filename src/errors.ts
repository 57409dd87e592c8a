import type { Static } from 'typebox';
import type { FieldErrorSchema } from './http/schemas.js';

/**
 * The closed list of error codes the API can answer with, and the HTTP status of each.
 * Lower layers throw `AppError` with a code; only the HTTP edge (`http/problem.ts`) turns it
 * into an `application/problem+json` response.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  MALFORMED_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  REQUEST_TIMEOUT: 408,
  CONNECTION_DISCONNECTED: 409,
  CONSENT_ALREADY_CONNECTED: 409,
  CONSENT_EXPIRED: 409,
  TEAM_EXISTS: 409,
  IDEMPOTENCY_KEY_IN_USE: 409,
  IDEMPOTENCY_RESPONSE_NOT_KEPT: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  CLIENT_CLOSED_REQUEST: 499,
  PROVIDER_CONSENT_EXPIRED: 422,
  PROVIDER_CONSENT_REVOKED: 422,
  PROVIDER_CONSENT_INVALID: 422,
  PROVIDER_LOGIN_REQUIRED: 422,
  PROVIDER_REFUSED: 422,
  PROVIDER_UNAVAILABLE: 502,
  PROVIDER_RATE_LIMITED: 503,
  PROVIDER_TIMEOUT: 504,
  PROVIDER_NOT_CONFIGURED: 503,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** One bad field of a validation problem, as the Problem schema shows it. */
export type FieldError = Static<typeof FieldErrorSchema>;

/** A key written as one segment of a `FieldError` path (RFC 6901: `~` is `~0`, `/` is `~1`). */
export const pointerSegment = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: { errors?: FieldError[]; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_STATUS[code];
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);

/**
 * A validation problem's `detail`: each bad field as the part of the request, its pointer and what
 * is wrong (`query /from must be a date`), whether a schema or the service found it.
 */
export const describeFieldErrors = (errors: FieldError[]) =>
  errors.map((e) => `${e.in} ${e.path} ${e.message}`).join('; ');

export const invalidInput = (errors: FieldError[]) =>
  new AppError('VALIDATION_FAILED', describeFieldErrors(errors), { errors });
