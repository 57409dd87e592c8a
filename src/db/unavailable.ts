import { AppError } from '../errors.js';

/** A request the database could not serve because it cannot be reached: the client may retry it. */
export const DATABASE_UNAVAILABLE = new AppError(
  'SERVICE_UNAVAILABLE',
  'The database is busy or not reachable; retry shortly.',
  { retryAfterSeconds: 1 },
);

/**
 * Whether `error`, or an error it wraps (drizzle wraps the driver's in `cause`), says the database
 * cannot be reached or will not take work right now, rather than that the statement failed: the
 * request can be retried as it was sent, so it is a 503, not a 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const { code, message } of errorChain(error)) {
    if (
      typeof code === 'string' &&
      (NETWORK_ERRORS.has(code) ||
        UNAVAILABLE_STATES.has(code) ||
        code.startsWith('08') ||
        code.startsWith('53'))
    ) {
      return true;
    }
    if (typeof message === 'string' && DRIVER_MESSAGES.some((text) => message.includes(text))) return true;
  }
  return false;
}

/** `error` and the errors it wraps (`cause`), at most five deep. */
function* errorChain(error: unknown): Generator<{ code?: unknown; message?: unknown }> {
  let at = error;
  for (let depth = 0; at !== null && typeof at === 'object' && depth < 5; depth++) {
    yield at as { code?: unknown; message?: unknown };
    at = (at as { cause?: unknown }).cause;
  }
}

/** The socket could not reach the server, or lost it. */
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server shutting down or starting up (class 08, the connection exceptions, and
 * class 53, insufficient resources: a full disk, out of memory or of connection slots, are matched
 * by their prefixes). Nothing the client sent is wrong: it can retry once the operator has acted.
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03']);

/** What node-postgres and its pool throw, without a code, when a connection is lost or not given. */
const DRIVER_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
];

/**
 * Whether `error`, or an error it wraps, is PostgreSQL's `lock_not_available` (55P03): a row
 * asked for with `NOWAIT` is locked by another transaction.
 */
export function isLockNotAvailable(error: unknown): boolean {
  for (const { code } of errorChain(error)) if (code === '55P03') return true;
  return false;
}
