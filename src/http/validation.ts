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
  return ajv;
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
 * A query key that writes one of the route's own parameters as a list or an object, in the style
 * of `qs` (`accountId[]=...`, `type[0]=...`). It is not that parameter, so like any unknown key it
 * would be ignored, and a client that meant to filter would be served every row instead: refused.
 * Keys of no parameter of the route (`utm[source]`) are ignored like other unknown ones.
 */
export function findBracketedParameter(query: unknown, querySchema: unknown): Omit<FieldError, 'in'> | null {
  const parameters = (querySchema as { properties?: object } | undefined)?.properties;
  if (!parameters || typeof query !== 'object' || query === null) return null;
  for (const key of Object.keys(query)) {
    const bracket = key.indexOf('[');
    const name = key.slice(0, bracket);
    if (bracket > 0 && Object.hasOwn(parameters, name)) {
      return {
        path: `/${pointerSegment(key)}`,
        message: `is not supported: give \`${name}\` once, as \`${name}=<value>\``,
      };
    }
  }
  return null;
}
