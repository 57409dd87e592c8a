import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { type FieldError, pointerSegment } from '../errors.js';

/**
 * Two validators: query strings and path params arrive as text and are coerced to the schema's
 * types; JSON bodies are never coerced, so `{"teamId": 1}` is a 400, not the string "1".
 * All errors are collected so a validation problem lists every bad field.
 */
function makeAjv(options: Options) {
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    removeAdditional: true,
    strict: false,
    ...options,
  });
  addFormats.default(ajv);
  ajv.addFormat('http-url', { type: 'string', validate: isHttpUrl });
  return ajv;
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
  return ({ schema, httpPart }) =>
    httpPart === 'body' ? strict.compile(schema as object) : coercing.compile(schema as object);
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
