/**
 * The operations of the app as its own OpenAPI document lists them, for tests generated from the
 * route table: a route added to the app is in the document, so such tests cover it without
 * being edited (or fail, saying what they do not know about it).
 */
import type { FastifyInstance } from 'fastify';

export type JsonSchema = Record<string, unknown>;

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
}

export interface Operation {
  /** `GET /api/banking/accounts/{id}`, as in the document. */
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path template with `{name}` placeholders. */
  path: string;
  tags: string[];
  /** Names of the security schemes the operation accepts (`apiKey`, `adminToken`); empty: public. */
  security: string[];
  pathParams: Parameter[];
  queryParams: Parameter[];
  /** The JSON body's schema, when the operation takes one. */
  body?: { schema: JsonSchema; properties: Record<string, JsonSchema>; required: string[] };
  /** Documented response statuses. */
  statuses: string[];
  /** Whether the method may change state (anything but GET). */
  writes: boolean;
}

interface DocumentOperation {
  tags?: string[];
  security?: Record<string, unknown>[];
  parameters?: { name: string; in: string; required?: boolean; schema?: JsonSchema }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, unknown>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Every operation of the app's OpenAPI document (hidden routes such as `/openapi.json` excluded). */
export function listOperations(app: FastifyInstance): Operation[] {
  const document = app.swagger() as { paths?: Record<string, Record<string, DocumentOperation>> };
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const parameters = (operation.parameters ?? []).map((p) => ({
        name: p.name,
        in: p.in as Parameter['in'],
        required: p.required === true,
        schema: p.schema ?? {},
      }));
      const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
      operations.push({
        name: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase() as Operation['method'],
        path,
        tags: operation.tags ?? [],
        security: (operation.security ?? []).flatMap((requirement) => Object.keys(requirement)),
        pathParams: parameters.filter((p) => p.in === 'path'),
        queryParams: parameters.filter((p) => p.in === 'query'),
        ...(bodySchema
          ? {
              body: {
                schema: bodySchema,
                properties: (bodySchema.properties as Record<string, JsonSchema> | undefined) ?? {},
                required: (bodySchema.required as string[] | undefined) ?? [],
              },
            }
          : {}),
        statuses: Object.keys(operation.responses ?? {}),
        writes: method !== 'get',
      });
    }
  }
  return operations;
}

/** Whether the operation is the operator's (admin token), not a team's. */
export const isAdminOperation = (operation: Operation) =>
  operation.path.startsWith('/api/admin/') || operation.security.includes('adminToken');

/** Whether the operation needs a team's API key. */
export const isTeamOperation = (operation: Operation) =>
  operation.path.startsWith('/api/banking/') || operation.security.includes('apiKey');

/** The string with each lone surrogate replaced by U+FFFD, as a URL encoder would send it. */
export const wellFormed = (value: string) =>
  value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

/** The path with each `{name}` replaced by the percent-encoded value of `params[name]`. */
export function fillPath(operation: Operation, params: Record<string, string>): string {
  return operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${operation.name}: no value for path parameter ${name}`);
    return encodeURIComponent(wellFormed(value));
  });
}
