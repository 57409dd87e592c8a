import { type Static, type TEnum, type TSchema, Type } from 'typebox';
import { ERROR_STATUS } from '../errors.js';

/** Shared pieces of route schemas. Routes compose these; nothing here is described twice. */

export const TeamId = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'The team the API key belongs to.',
});
export const ResourceId = Type.String({ minLength: 1, maxLength: 128 });

/**
 * `schema` or null, written `type: [<type>, "null"]` (and null among an `enum`'s values): the
 * compiled serializer writes such a value directly, where a `Type.Union` (an `anyOf`) runs a
 * validator on every value to choose a branch. For schemas with a single `type`.
 */
export function Nullable<T extends TSchema & { type: string }>(schema: T, options: object = {}) {
  const values: unknown = (schema as { enum?: unknown }).enum;
  return Type.Unsafe<Static<T> | null>({
    ...schema,
    ...options,
    type: [schema.type, 'null'],
    ...(Array.isArray(values) ? { enum: [...values, null] } : {}),
  });
}

/**
 * One of `values`, written with `type: "string"` beside the `enum`: the compiled serializer then
 * writes the value as a string (without a type it calls `JSON.stringify` on every value), and
 * OpenAPI clients generate a string enum.
 */
export function StringEnum<const Values extends string[]>(
  values: readonly [...Values],
  options: object = {},
) {
  return Type.Enum(values, { ...options, type: 'string' }) as TEnum<Values> & { type: 'string' };
}

/** An instant on the way out: ISO 8601 UTC (`2026-11-26T10:15:00.000Z`). */
export const Timestamp = Type.String({ format: 'date-time', examples: ['2026-11-26T10:15:00.000Z'] });

/** An instant on the way in: a date (`2026-11-01`) or a date-time (`2026-11-01T08:30:00Z`). */
export const DATE_HELP =
  'ISO 8601 date (`2026-11-01`) or date-time (`2026-11-01T08:30:00Z`); UTC when no offset is given.';
/**
 * The pattern is the shape; the `date-or-date-time` format (src/http/validation.ts), that the
 * date exists (not 2026-02-30) and lies within the years 0001 to 9999 once its offset is applied.
 */
export const DateOrDateTime = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}([Tt ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?([Zz]|[+-]\\d{2}:?\\d{2})?)?$',
  format: 'date-or-date-time',
  description: DATE_HELP,
  examples: ['2026-11-01', '2026-11-01T08:30:00Z'],
});

export const Money = Type.Number({
  description: 'Major units, exact to the currency minor units (ISO 4217).',
  examples: [1234.56],
});

export const FieldErrorSchema = Type.Object({
  path: Type.String({ description: 'JSON pointer into the request part that failed, e.g. `/scopes/0`.' }),
  message: Type.String(),
  in: StringEnum(['body', 'query', 'path', 'headers'], {
    description: 'The part of the request `path` is into.',
  }),
});

export const Problem = Type.Object(
  {
    type: Type.String({ description: 'A URI naming the problem type.' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: StringEnum(Object.keys(ERROR_STATUS), { description: 'Stable machine-readable code.' }),
    errors: Type.Optional(Type.Array(FieldErrorSchema)),
    requestId: Type.Optional(Type.String()),
  },
  { $id: 'Problem', title: 'Problem (RFC 9457)' },
);

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: Type.Ref('Problem') } },
});

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed or invalid input',
  401: 'Missing or invalid credentials',
  403: 'The credential does not belong to this team',
  404: 'Not found in this team',
  408: 'The request was not received in time',
  409: 'State conflict, or a request with the same Idempotency-Key is still running',
  413: 'Body larger than 1 MiB',
  414: 'A path parameter is too long',
  415: 'Body is not JSON in UTF-8',
  422: 'The provider refused, or the Idempotency-Key was used with a different request',
  429: 'Too many requests for this API key; see Retry-After',
  431: 'The request line and headers are larger than 16 KiB together',
  500: 'Unexpected error',
  502: 'The provider failed',
  503:
    'The database or the provider is unavailable, or the provider rate limited: Retry-After says when to ' +
    'try again. Without Retry-After the deployment lacks what this needs (`PROVIDER_NOT_CONFIGURED`, or ' +
    '`SERVICE_UNAVAILABLE` for webhooks without ENCRYPTION_KEY), and trying again will not help until it changes',
  504: 'The provider timed out',
};

/** Response schemas for the error statuses a route can answer, all problem+json. */
export function problemResponses(...statuses: number[]): Record<number, unknown> {
  return Object.fromEntries(
    [...new Set([...statuses, 500])].map((status) => [
      status,
      problemResponse(PROBLEM_DESCRIPTIONS[status] ?? 'Error'),
    ]),
  );
}

/**
 * The statuses any route may answer besides its own: 400 (a path the router cannot decode, a NUL
 * or lone surrogate anywhere, a schema's refusal), 431 (Node's parser refuses a request line and
 * headers over 16 KiB, a long query string included, before any route), 503 (the database cannot
 * be reached), 414 with path parameters (over 2,048 characters), and 413 and 415 for methods that
 * may carry a body.
 * Added to every documented route's responses, so the OpenAPI document lists them as well.
 */
export function frameworkProblemResponses(method: string | string[], url: string): Record<number, unknown> {
  const mayHaveBody = [method].flat().some((name) => !['GET', 'HEAD', 'OPTIONS'].includes(name));
  return problemResponses(
    400,
    431,
    503,
    ...(url.includes(':') ? [414] : []),
    ...(mayHaveBody ? [413, 415] : []),
  );
}

/**
 * Documents `headers` on the responses of `route` whose status `applies` to, for headers that a
 * hook rather than the route's handler sets (the OpenAPI document shows them with the response).
 */
export function documentResponseHeaders(
  route: { schema?: { response?: unknown; hide?: boolean } },
  headers: Record<string, TSchema>,
  applies: (status: string) => boolean,
): void {
  const responses = route.schema?.response as Record<string, { headers?: object }> | undefined;
  if (!responses || route.schema?.hide) return;
  for (const [status, response] of Object.entries(responses)) {
    if (applies(status)) responses[status] = { ...response, headers: { ...response.headers, ...headers } };
  }
}

/** Statuses every authenticated banking route may answer. */
export const BANKING_ERRORS = [400, 401, 403, 429] as const;

export type { TSchema };
