import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { Static, TObject } from 'typebox';
import { AppError, type FieldError, pointerSegment } from '../errors.js';
import { decodeCursor } from './cursor.js';
import { instantProblem } from './dates.js';

/**
 * Two validators: query strings and path params arrive as text and are coerced to the schema's
 * types; JSON bodies are never coerced, so `{"teamId": 1}` is a 400, not the string "1".
 * All errors are collected so a validation problem lists every bad field. Errors carry the value
 * they are about (`verbose`), for the messages of our own formats (`formatProblem`).
 */
function makeAjv(options: Options) {
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    removeAdditional: true,
    strict: false,
    verbose: true,
    ...options,
  });
  addFormats.default(ajv);
  ajv.addFormat('http-url', { type: 'string', validate: isHttpUrl });
  for (const [name, problemOf] of Object.entries(FORMAT_PROBLEMS)) {
    ajv.addFormat(name, { type: 'string', validate: (text: string) => problemOf(text) === null });
  }
  return ajv;
}

/**
 * Formats of one value that a pattern cannot tell, each as what is wrong with a string (null when
 * nothing is): a field error says that rather than `must match format "..."`.
 * - `date-or-date-time`: a `DateOrDateTime` that names a real instant PostgreSQL can read
 *   (not 2026-02-30, not year 10000 once its offset is applied);
 * - `cursor`: a keyset cursor of ours (`Link: rel="next"`).
 */
const FORMAT_PROBLEMS: Record<string, (text: string) => string | null> = {
  'date-or-date-time': instantProblem,
  cursor: (text) => (decodeCursor(text) ? null : 'is not a valid cursor'),
};

/** What is wrong with `value` by one of our own formats, or null when the format is not ours. */
export function formatProblem(format: unknown, value: unknown): string | null {
  const problemOf = typeof format === 'string' ? FORMAT_PROBLEMS[format] : undefined;
  return problemOf && typeof value === 'string' ? problemOf(value) : null;
}

/**
 * An absolute `http://` or `https://` URL that the WHATWG URL parser reads, as every HTTP client
 * here (and the banks' redirects) will read it. RFC 3986's `uri` format accepts strings that
 * parser refuses (`https://a.com:65536/`, `https://1.1.1.256/`, `https://`), which then failed
 * deep in a provider adapter instead of as a 400. Unlike a webhook endpoint (`webhookUrlProblem`),
 * such a URL is opened by the user's browser, not by this service, so a local or private address
 * is the app's own business (a developer's `http://localhost:5173/callback`).
 */
export function isHttpUrl(text: string): boolean {
  const url = URL.parse(text);
  return url !== null && (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
}

export function createValidatorCompiler(sharedSchemas: object[]): FastifySchemaCompiler<unknown> {
  const strict = makeAjv({ coerceTypes: false });
  const coercing = makeAjv({ coerceTypes: 'array' });
  for (const schema of sharedSchemas) {
    strict.addSchema(schema);
    coercing.addSchema(schema);
  }
  return ({ schema, httpPart }) => {
    const validate = (httpPart === 'body' ? strict : coercing).compile(schema as object);
    const check = (schema as { [INPUT_CHECK]?: InputCheck<object> })[INPUT_CHECK];
    return check ? withCheck(validate, check) : validate;
  };
}

/**
 * What a route checks of a request part beyond its schema, from the request alone: rules across
 * fields (`to` not before `from`), or that need the clock or the provider (an `expiresAt` in the
 * future, a known institution). Given the top-level fields that passed the schema (whatever the
 * others did), answers the bad fields (as of the part checked, whatever their `in`); it must not
 * throw, and must not touch the database.
 */
export type InputCheck<T> = (input: Partial<T>) => FieldError[];

const INPUT_CHECK = Symbol('inputCheck');

/**
 * The bad fields `run` throws as a validation problem (`invalidInput`), for an input check made
 * of checks that throw, such as a provider's `validateConnect`. Any other failure (a provider
 * not set up here, 503) is not about a field: it is left to the handler, which meets it again.
 */
export function fieldErrorsOf(run: () => void): FieldError[] {
  try {
    run();
    return [];
  } catch (error) {
    return error instanceof AppError && error.code === 'VALIDATION_FAILED' ? (error.extra.errors ?? []) : [];
  }
}

/**
 * `schema`, whose validator also runs `check`, whether the schema passes or not: a validation
 * problem then lists what both found, each field once, before any hook or handler runs. The
 * schema stays the one description of the shape; the check is kept beside it, out of the JSON
 * (and so of the OpenAPI document).
 */
export function withInputCheck<S extends TObject>(schema: S, check: InputCheck<Static<S>>): S {
  return Object.assign({ ...schema }, { [INPUT_CHECK]: check });
}

/**
 * The schema's validator, then the check on the fields it did not refuse; the check's errors
 * join the schema's as errors of keyword `check`, on fields the schema passed.
 */
function withCheck(validate: ValidateFunction, check: InputCheck<object>) {
  const checked = (data: unknown, context?: unknown) => {
    const valid = (validate as (data: unknown, context?: unknown) => boolean)(data, context);
    const schemaErrors = valid ? [] : (validate.errors ?? []);
    checked.errors = validate.errors;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return valid;
    const refused = new Set(schemaErrors.map(topLevelField));
    if (refused.has('')) return valid;
    const input = valid
      ? data
      : Object.fromEntries(Object.entries(data).filter(([key]) => !refused.has(key)));
    const found = check(input).filter((error) => !refused.has(topLevelField({ instancePath: error.path })));
    if (found.length === 0) return valid;
    checked.errors = [
      ...schemaErrors,
      ...found.map((error) => ({
        instancePath: error.path,
        keyword: 'check',
        message: error.message,
        params: {},
        schemaPath: '#',
      })),
    ];
    return false;
  };
  checked.errors = null as ErrorObject[] | null | undefined;
  // Fastify hands ajv's validators (those with a `schemaEnv`) the request as the root's parent.
  return Object.assign(checked, { schemaEnv: validate.schemaEnv });
}

/** The top-level field an error is about (`scopes` of `/scopes/0`); '' for the part as a whole. */
function topLevelField(error: Pick<ErrorObject, 'instancePath'> & Partial<ErrorObject>): string {
  const [, first = ''] = error.instancePath.split('/');
  if (first === '' && error.keyword === 'required') return String(error.params?.missingProperty);
  return first.replaceAll('~1', '/').replaceAll('~0', '~');
}

/**
 * What the query's schema, once values are coerced from text, would misread:
 * - a key that writes one of the route's own parameters as a list or an object, in the style of
 *   `qs` (`accountId[]=...`, `type[0]=...`). It is not that parameter, so like any unknown key it
 *   would be ignored, and a client that meant to filter would be served every row instead. Keys
 *   of no parameter of the route (`utm[source]`) are ignored like other unknown ones;
 * - an integer parameter not written in decimal digits (`limit=1e3`, `limit=0x10`, `limit= 5`),
 *   which coercion would read as a number all the same;
 * - a parameter given twice (`type=CREDIT&type=DEBIT`), which the schema would only call "not a
 *   string", leaving the client to guess why.
 */
export function findUnreadableParameter(query: unknown, querySchema: unknown): Omit<FieldError, 'in'> | null {
  const parameters = (querySchema as { properties?: Record<string, { type?: unknown }> } | undefined)
    ?.properties;
  if (!parameters || typeof query !== 'object' || query === null) return null;
  for (const [key, value] of Object.entries(query)) {
    const bracket = key.indexOf('[');
    const name = key.slice(0, bracket);
    if (bracket > 0 && Object.hasOwn(parameters, name)) {
      return {
        path: `/${pointerSegment(key)}`,
        message: `is not supported: give \`${name}\` once, as \`${name}=<value>\``,
      };
    }
    const known = Object.hasOwn(parameters, key);
    if (known && Array.isArray(value) && parameters[key]?.type !== 'array') {
      return { path: `/${pointerSegment(key)}`, message: `must be given once, not ${value.length} times` };
    }
    const integer = known && parameters[key]?.type === 'integer';
    if (integer && typeof value === 'string' && !/^-?\d+$/.test(value)) {
      return { path: `/${pointerSegment(key)}`, message: 'must be an integer written in decimal digits' };
    }
  }
  return null;
}

/**
 * A query parameter whose percent-encoding does not decode to UTF-8 (`%ff`, `%E0%A4%A`, a `%` not
 * followed by two hex digits), or null. The query parser keeps such text as it was sent, so
 * `category=%ff` filtered on the three characters `%ff`, where the same bytes in a path are a 400.
 */
export function findMisencodedParameter(url: string): Omit<FieldError, 'in'> | null {
  const start = url.indexOf('?');
  if (start < 0 || !url.includes('%', start)) return null;
  for (const pair of url.slice(start + 1).split('&')) {
    if (!pair.includes('%')) continue;
    const equals = pair.indexOf('=');
    const key = equals < 0 ? pair : pair.slice(0, equals);
    if (decodes(pair.replace(/\+/g, ' '))) continue;
    const name = decodes(key) ? decodeURIComponent(key) : key;
    return { path: `/${pointerSegment(name)}`, message: 'is not valid percent-encoded UTF-8' };
  }
  return null;
}

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}
