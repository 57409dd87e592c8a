import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/fixtures.js';

describe('the OpenAPI document', () => {
  const t = useTestApp();

  it('is a valid OpenAPI 3.1 document whose every reference resolves', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const validator = new Validator();
    const result = await validator.validate(response.json());
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  it('names every operation with a unique operationId, under tags it declares', async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const operations = Object.values(document.paths).flatMap((methods) =>
      Object.values(methods as Record<string, { operationId?: string; tags?: string[] }>),
    );
    const ids = operations.map((operation) => operation.operationId);
    expect(
      ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id)),
      ids.join(),
    ).toBe(true);
    expect(new Set(ids).size).toBe(operations.length);
    const declared = (document.tags as { name: string }[]).map((tag) => tag.name);
    for (const operation of operations)
      expect(declared).toEqual(expect.arrayContaining(operation.tags ?? []));
    expect(ids).toEqual(expect.arrayContaining(['connectBank', 'listTransactions', 'getAccountDetails']));
  });

  it("describes every operation's answers in words of its own, never @fastify/swagger's 'Default Response'", async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const defaults = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(
        methods as Record<string, { responses: Record<string, { description?: string }> }>,
      ).flatMap(([method, operation]) =>
        Object.entries(operation.responses)
          .filter(([, response]) => !response.description || response.description === 'Default Response')
          .map(([status]) => `${method} ${path} ${status}`),
      ),
    );
    expect(defaults).toEqual([]);
  });

  it('types the answers of connect, disconnect and a consent update as narrowly as the seed', async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const schemas = document.components.schemas;
    const answer = (path: string, status: string) =>
      document.paths[path].post.responses[status].content['application/json'].schema.$ref;
    expect(answer('/api/banking/connect', '201')).toBe('#/components/schemas/ConnectedConnection');
    // A literal is written as a one-value enum.
    expect(schemas.ConnectedConnection.properties.status.enum).toEqual(['ACTIVE']);
    expect(schemas.AuthorizedConsent.properties).toMatchObject({
      status: { enum: ['AUTHORIZED'] },
      revokedAt: { type: 'null' },
    });
    expect(answer('/api/banking/disconnect', '200')).toBe('#/components/schemas/DisconnectedConnection');
    expect(schemas.DisconnectedConnection.properties.status.enum).toEqual(['DISCONNECTED']);
    expect(schemas.RevokedConsent.properties.status.enum).toEqual(['REVOKED']);
    expect(schemas.RevokedConsent.properties.revokedAt).toMatchObject({
      type: 'string',
      format: 'date-time',
    });
    expect(answer('/api/banking/consent', '200')).toBe('#/components/schemas/AuthorizedConsent');
  });

  it('describes each header that hooks set once, and references it from the responses', async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(document.components.headers).sort()).toEqual([
      'idempotent-replayed',
      'ratelimit-limit',
      'ratelimit-remaining',
      'ratelimit-reset',
      'retry-after',
      'www-authenticate',
      'x-request-id',
    ]);
    const page = document.paths['/api/banking/transactions'].get.responses['200'].headers;
    expect(page['x-request-id']).toEqual({ $ref: '#/components/headers/x-request-id' });
    expect(page['ratelimit-remaining']).toEqual({ $ref: '#/components/headers/ratelimit-remaining' });
    // Described on this response only: it stays inline.
    expect(page.link.description).toMatch(/rel="next"/);
    const refused = document.paths['/api/banking/transactions'].get.responses['401'].headers;
    expect(refused['www-authenticate']).toEqual({ $ref: '#/components/headers/www-authenticate' });
  });

  it('lists on every operation the statuses that come before any route: 400, 431 and 503', async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods as Record<string, { responses: Record<string, unknown> }>).map(
        ([method, operation]) => ({
          operation: `${method} ${path}`,
          statuses: Object.keys(operation.responses),
        }),
      ),
    );
    expect(operations.length).toBeGreaterThan(20);
    for (const { operation, statuses } of operations) {
      expect({ operation, statuses }).toEqual({
        operation,
        statuses: expect.arrayContaining(['400', '431', '503']),
      });
    }
  });
});
