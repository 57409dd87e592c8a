import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
  components?: { headers?: Record<string, HeaderObject> };
}
interface ResponseObject {
  content?: Record<string, { schema: object }>;
  headers?: Record<string, HeaderObject>;
}
interface HeaderObject {
  $ref?: string;
  schema?: { type?: string };
}

/** The headers the API itself sets (not HTTP's own, nor the browser policy's): each must be documented. */
const API_HEADERS = [
  'link',
  'x-request-id',
  'retry-after',
  'idempotent-replayed',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
];

/**
 * Checks a response against the app's own OpenAPI document: the status must be documented for
 * that route, so must each of the API's own headers it carries (and its value the header's
 * documented schema), and the body must match the documented schema of its content type. Every
 * call the tests make through `TestApp.as()` goes through this, so the document cannot drift from
 * what the endpoints really return.
 */
export async function createOpenApiChecker(app: FastifyInstance) {
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as OpenApiDocument;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ ...document, $id: 'openapi' });
  const routes = Object.keys(document.paths).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  }));
  // Headers described once are referenced from the responses (`#/components/headers/<name>`).
  const headerObject = (header: HeaderObject | undefined) =>
    header?.$ref ? document.components?.headers?.[header.$ref.split('/').at(-1) ?? ''] : header;
  const pointer = (...parts: string[]) =>
    parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

  return function check(method: string, url: string, response: LightMyRequestResponse) {
    const path = url.split('?')[0] ?? url;
    const route = routes.find((candidate) => candidate.pattern.test(path));
    if (!route) throw new Error(`${method} ${path} is not in the OpenAPI document`);
    const operation = document.paths[route.template]?.[method.toLowerCase()];
    const status = String(response.statusCode);
    const documented = operation?.responses[status];
    if (!documented) {
      throw new Error(
        `${method} ${route.template} answered ${status}, which the OpenAPI document does not list`,
      );
    }
    for (const header of API_HEADERS) {
      const value = response.headers[header];
      if (value === undefined) continue;
      const described = headerObject(documented.headers?.[header]);
      if (!described) {
        throw new Error(
          `${method} ${route.template} ${status} sent the header ${header}, which the OpenAPI document does not list`,
        );
      }
      if (described.schema && !ajv.validate(described.schema, headerValue(String(value), described.schema))) {
        throw new Error(
          `${method} ${route.template} ${status} sent ${header}: ${String(value)}, not as documented: ${ajv.errorsText()}`,
        );
      }
    }
    if (!documented.content || response.statusCode === 204) return;
    const contentType = String(response.headers['content-type'] ?? '').split(';')[0] ?? '';
    if (!documented.content[contentType]) {
      throw new Error(
        `${method} ${route.template} ${status} sent ${contentType}, documented: ${Object.keys(documented.content)}`,
      );
    }
    const ref = `openapi#/${pointer('paths', route.template, method.toLowerCase(), 'responses', status, 'content', contentType, 'schema')}`;
    const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
    if (!validate(response.json())) {
      throw new Error(
        `${method} ${route.template} ${status} body does not match the OpenAPI document: ${ajv.errorsText(validate.errors)}`,
      );
    }
  };
}

/** A header's text as its schema's type: integers are sent as digits. */
function headerValue(text: string, schema: { type?: string }): unknown {
  return schema.type === 'integer' && /^-?\d+$/.test(text) ? Number(text) : text;
}
