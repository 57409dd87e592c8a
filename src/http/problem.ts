import { randomUUID } from 'node:crypto';
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DATABASE_UNAVAILABLE, isDatabaseUnavailable } from '../db/unavailable.js';
import {
  AppError,
  describeFieldErrors,
  ERROR_STATUS,
  type ErrorCode,
  type FieldError,
  invalidInput,
  pointerSegment,
} from '../errors.js';
import { frameworkProblemResponses } from './schemas.js';
import { findMisencodedParameter, findUnreadableParameter, formatProblem } from './validation.js';

/**
 * The one place errors become responses: every error, ours or the framework's, leaves as
 * `application/problem+json` (RFC 9457) with a stable `code`. A 500 never shows internals.
 */

type Location = FieldError['in'];

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: FieldError[];
  requestId?: string;
}

/** Words a title spells in capitals, as RFC 9110's reason phrases do ("URI Too Long"). */
const ACRONYMS: Record<string, string> = { uri: 'URI' };

const titleOf = (code: ErrorCode) => {
  const words = code
    .toLowerCase()
    .split('_')
    .map((word) => ACRONYMS[word] ?? word)
    .join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

export function problem(code: ErrorCode, detail: string, extra: Partial<ProblemBody> = {}): ProblemBody {
  return {
    type: `urn:problem-type:${code.toLowerCase().replaceAll('_', '-')}`,
    title: titleOf(code),
    status: ERROR_STATUS[code],
    detail,
    code,
    ...extra,
  };
}

const LOCATIONS: Record<string, Location> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'headers',
};

interface AjvError {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
  /** The value the error is about (the validators are `verbose`). */
  data?: unknown;
}

/**
 * One entry per bad field, with a JSON pointer to it: a field that breaks several rules (an empty
 * consent id is both too short and blank) is listed once, with the first of them. The errors of
 * a route's own checks (keyword `check`, src/http/validation.ts) come after the schema's.
 */
function fieldErrors(validation: AjvError[], context: string | undefined): FieldError[] {
  const location = LOCATIONS[context ?? 'body'] ?? 'body';
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  for (const error of validation) {
    const missing = error.keyword === 'required' ? `/${String(error.params.missingProperty)}` : '';
    const path = `${error.instancePath}${missing}` || '/';
    if (seen.has(path)) continue;
    seen.add(path);
    errors.push({ path, message: messageOf(error), in: location });
    if (errors.length === MAX_FIELD_ERRORS) break;
  }
  return errors;
}

function messageOf(error: AjvError): string {
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'enum':
      return `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'format':
      return formatProblem(error.params.format, error.data) ?? error.message ?? 'is invalid';
    default:
      return error.message ?? 'is invalid';
  }
}

/** Maps the framework's own client errors (bad JSON, wrong media type, too large...) to codes. */
function frameworkCode(status: number): ErrorCode {
  switch (status) {
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 406:
      return 'NOT_ACCEPTABLE';
    case 408:
      return 'REQUEST_TIMEOUT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 414:
      return 'URI_TOO_LONG';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    default:
      return 'MALFORMED_REQUEST';
  }
}

export function toProblem(error: FastifyError | AppError | Error, requestId: string): ProblemBody {
  if (error instanceof AppError) {
    return problem(error.code, error.message, {
      ...(error.extra.errors ? { errors: error.extra.errors } : {}),
      requestId,
    });
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const errors = fieldErrors(fastifyError.validation as AjvError[], fastifyError.validationContext);
    return problem('VALIDATION_FAILED', describeFieldErrors(errors) || 'The request is invalid', {
      errors,
      requestId,
    });
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    // The router's 414 message quotes the whole URL back: the detail says what was too long.
    const detail =
      status === 414 ? 'A path parameter is longer than 2,048 characters.' : fastifyError.message;
    return problem(frameworkCode(status), detail, { requestId });
  }
  return problem('INTERNAL_ERROR', 'An unexpected error occurred; quote the request id to support.', {
    requestId,
  });
}

export function sendProblem(reply: FastifyReply, body: ProblemBody, retryAfterSeconds?: number) {
  if (body.status === 401) reply.header('www-authenticate', 'Bearer');
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(Math.ceil(retryAfterSeconds)));
  return reply.code(body.status).type('application/problem+json').send(body);
}

/** For the router's own errors (bad percent-encoding, a path parameter too long), which come before any route. */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  return sendProblem(reply, toProblem(error, request.id));
}

/**
 * Errors Node's HTTP parser meets before there is a request (a request not received within
 * REQUEST_TIMEOUT_MS, headers over 16 KiB, bytes that are not HTTP): answered as problem+json
 * straight on the socket, which is then closed.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket) {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const body =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? problem('REQUEST_TIMEOUT', 'The whole request was not received in time.')
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? problem(
            'HEADERS_TOO_LARGE',
            'The request line and headers are larger than 16 KiB together; a URL that long is refused as well.',
          )
        : problem('MALFORMED_REQUEST', 'The request is not valid HTTP/1.1.');
  answerOnSocket(socket, body);
}

/**
 * `CONNECT` (a request to open a tunnel) is handed by Node to a `connect` listener rather than to
 * the routes, and without one the socket was closed with no answer at all: 405, as for any
 * method a path does not take.
 */
export function connectMethodHandler(_request: IncomingMessage, socket: Duplex) {
  answerOnSocket(socket, problem('METHOD_NOT_ALLOWED', 'CONNECT is not supported: this is not a proxy.'));
}

/**
 * A problem written straight on the socket, which is then closed. It has a request id like every
 * other answer, though no request was read to take one from.
 */
function answerOnSocket(socket: Duplex, problemBody: ProblemBody) {
  const body = { ...problemBody, requestId: randomUUID() };
  const json = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${body.status} ${STATUS_CODES[body.status]}\r\nContent-Type: application/problem+json\r\n` +
        `X-Request-Id: ${body.requestId}\r\nContent-Length: ${Buffer.byteLength(json)}\r\n` +
        `Connection: close\r\n\r\n${json}`,
    );
  }
  socket.destroy();
}

/** JSON deeper than this is refused: no API shape comes close, and PostgreSQL's jsonb has a stack limit. */
export const MAX_JSON_DEPTH = 32;
/** Longer arrays are refused before validation, which would otherwise report on every item. */
export const MAX_ARRAY_ITEMS = 1000;
/** A validation problem lists at most this many fields. */
const MAX_FIELD_ERRORS = 50;

/**
 * Finds what the database cannot store: in any string or key a NUL character (PostgreSQL text and
 * jsonb cannot hold U+0000) or an unpaired UTF-16 surrogate (JSON's `"\ud800"`: jsonb refuses it,
 * and a text column would silently store U+FFFD instead, so two different strings a client sent
 * would become one); a number out of a double's range; nesting deeper than MAX_JSON_DEPTH; or an
 * array longer than MAX_ARRAY_ITEMS.
 * Walks without recursion, so hostile nesting cannot overflow the stack. Answers the JSON pointer
 * and the problem.
 */
export function findUnstorableValue(value: unknown): Omit<FieldError, 'in'> | null {
  // Every request's query, path and body pass here: a value's JSON pointer is written out only
  // for the one that is refused, not for every key walked.
  const pending: Visit[] = [{ value, key: '', parent: null, depth: 0 }];
  for (let visit = pending.pop(); visit; visit = pending.pop()) {
    const current = visit.value;
    if (typeof current === 'string') {
      const message = unstorableText(current);
      if (message) return { path: pointerTo(visit), message };
      continue;
    }
    // JSON reads a number past a double's range (`1e400`) as Infinity, which it writes back as
    // null: stored, the client's value would silently become another.
    if (typeof current === 'number' && !Number.isFinite(current)) {
      return {
        path: pointerTo(visit),
        message: 'must be a number within the range of a double (about ±1.8e308)',
      };
    }
    if (current === null || typeof current !== 'object') continue;
    if (visit.depth >= MAX_JSON_DEPTH) {
      return { path: pointerTo(visit), message: `must not nest deeper than ${MAX_JSON_DEPTH} levels` };
    }
    if (Array.isArray(current) && current.length > MAX_ARRAY_ITEMS) {
      return { path: pointerTo(visit), message: `must not have more than ${MAX_ARRAY_ITEMS} items` };
    }
    for (const key of Object.keys(current)) {
      const child: Visit = {
        value: (current as Record<string, unknown>)[key],
        key,
        parent: visit,
        depth: visit.depth + 1,
      };
      const message = unstorableText(key);
      if (message) return { path: pointerTo(child), message };
      pending.push(child);
    }
  }
  return null;
}

function unstorableText(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain a NUL character';
  if (!text.isWellFormed()) return 'must be valid Unicode: it contains an unpaired UTF-16 surrogate';
  return null;
}

/** A value met by `findUnstorableValue`: its key in its parent, which leads back to the root. */
interface Visit {
  value: unknown;
  key: string;
  parent: Visit | null;
  depth: number;
}

/** The JSON pointer (RFC 6901) of a visited value; `/` for the root. */
function pointerTo(visit: Visit): string {
  const keys: string[] = [];
  for (let at: Visit | null = visit; at?.parent; at = at.parent) {
    keys.push(pointerSegment(at.key));
  }
  return keys.length === 0 ? '/' : `/${keys.reverse().join('/')}`;
}

export function registerProblemHandlers(app: FastifyInstance) {
  app.addHook('onRoute', (route) => {
    if (!route.schema || route.schema.hide) return;
    route.schema.response = {
      ...frameworkProblemResponses(route.method, route.url),
      ...(route.schema.response as object | undefined),
    };
  });
  // Hooks that do not wait on anything take `done`: an async hook costs a promise per request.
  app.addHook('preValidation', (request, _reply, done) => {
    const parts = { query: request.query, path: request.params, body: request.body } as const;
    for (const [location, value] of Object.entries(parts)) {
      const problem = findUnstorableValue(value);
      if (problem) return done(invalidInput([{ ...problem, in: location as Location }]));
    }
    const querySchema = request.routeOptions.schema?.querystring;
    const unreadable = querySchema
      ? (findMisencodedParameter(request.url) ?? findUnreadableParameter(request.query, querySchema))
      : null;
    if (unreadable) return done(invalidInput([{ ...unreadable, in: 'query' }]));
    done();
  });

  app.setErrorHandler((raised: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) => {
    // Errors of the request itself carry a status (a client that hangs up mid-body is an
    // ECONNRESET too); the database's never do.
    const unavailable = (raised as FastifyError).statusCode === undefined && isDatabaseUnavailable(raised);
    const error = unavailable ? DATABASE_UNAVAILABLE : raised;
    const body = toProblem(error, request.id);
    if (unavailable) {
      request.log.error({ err: raised }, 'the database is not reachable');
    } else if (body.code === 'INTERNAL_ERROR') {
      request.log.error({ err: error }, 'request failed');
    } else if (body.status >= 500) {
      // The bank, the database or the set-up failed, not this service's code: no stack trace.
      request.log.warn(
        { code: body.code, status: body.status, detail: body.detail },
        body.code.startsWith('PROVIDER_') ? 'provider failed' : 'service unavailable',
      );
    } else {
      request.log.info({ code: body.code, status: body.status }, 'request rejected');
    }
    const retryAfter = error instanceof AppError ? error.extra.retryAfterSeconds : undefined;
    return sendProblem(reply, body, retryAfter);
  });

  const routes = routeMethods(app);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = routes.allowed(path);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendProblem(
        reply,
        problem(
          'METHOD_NOT_ALLOWED',
          `${path} does not take ${request.method}; it takes ${allowed.join(', ')}`,
          {
            requestId: request.id,
          },
        ),
      );
    }
    return sendProblem(
      reply,
      problem('NOT_FOUND', `No route ${request.method} ${path}`, { requestId: request.id }),
    );
  });
}

/**
 * The methods each route's path takes, so that a known path asked with another method is a 405
 * naming them (`Allow`, RFC 9110) rather than a 404 saying there is no such route. Paths are
 * matched as the router reads them: `:name` one segment, `*` the rest, a trailing slash optional.
 */
function routeMethods(app: FastifyInstance) {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    const source = route.url
      .replace(/\/+$/, '')
      .split('/')
      .map((segment) =>
        segment === '*'
          ? '.*'
          : segment.startsWith(':')
            ? '[^/]+'
            : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('/');
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    routes.push({ pattern: new RegExp(`^${source}/?$`), methods });
  });
  return {
    allowed(path: string): string[] {
      const methods = routes.filter((route) => route.pattern.test(path)).flatMap((route) => route.methods);
      return [...new Set(methods)].sort();
    },
  };
}
