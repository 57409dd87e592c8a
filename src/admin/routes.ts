import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { adminContext } from '../audit/record.js';
import { AuditPage, AuditQuery } from '../audit/schemas.js';
import type { AuditService } from '../audit/service.js';
import { bearerToken, hashSecret, secretMatches } from '../auth/keys.js';
import { AppError } from '../errors.js';
import { nextPageLink } from '../http/paging.js';
import { problemResponses } from '../http/schemas.js';
import type { AdminService } from './service.js';

const TeamIdParam = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$' });
const ApiKey = Type.String({ description: 'Shown once; only its hash is stored.' });

/**
 * Operator API, on only when ADMIN_TOKEN is set: teams, their API keys, and their audit log.
 */
export function adminRoutes(
  services: { admin: AdminService; audit: AuditService },
  adminToken: string,
  publicUrl: string | undefined,
): FastifyPluginAsyncTypebox {
  const { admin: service, audit } = services;
  const adminTokenHash = hashSecret(adminToken);
  return async (app) => {
    app.addHook('onRequest', async (request) => {
      const token = bearerToken(request.headers.authorization);
      if (!token || !secretMatches(token, adminTokenHash)) {
        throw new AppError('UNAUTHORIZED', 'Send the admin token as `Authorization: Bearer <token>`.');
      }
    });

    app.post(
      '/teams',
      {
        // The response holds a credential: kept for replay only when it can be sealed.
        config: { shownOnce: true },
        schema: {
          tags: ['admin'],
          operationId: 'createTeam',
          summary: 'Create a team and its first API key',
          security: [{ adminToken: [] }],
          body: Type.Object({
            name: Type.String({ minLength: 1, maxLength: 200 }),
            id: Type.Optional(TeamIdParam),
          }),
          response: {
            201: Type.Object(
              { teamId: Type.String(), apiKey: ApiKey, keyId: Type.String() },
              { description: 'The team and its first API key, shown this once.' },
            ),
            ...problemResponses(400, 401, 409, 413, 415),
          },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await service.createTeam(request.body, adminContext(request))),
    );

    app.post(
      '/teams/:teamId/keys',
      {
        // The response holds a credential: kept for replay only when it can be sealed.
        config: { shownOnce: true },
        schema: {
          tags: ['admin'],
          operationId: 'createApiKey',
          summary: 'Issue another API key for a team',
          security: [{ adminToken: [] }],
          params: Type.Object({ teamId: Type.String({ minLength: 1, maxLength: 64 }) }),
          response: {
            201: Type.Object(
              { apiKey: ApiKey, keyId: Type.String() },
              { description: 'The new API key, shown this once.' },
            ),
            ...problemResponses(401, 404),
          },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await service.createKey(request.params.teamId, adminContext(request))),
    );

    app.delete(
      '/teams/:teamId/keys/:keyId',
      {
        schema: {
          tags: ['admin'],
          operationId: 'revokeApiKey',
          summary: 'Revoke an API key',
          security: [{ adminToken: [] }],
          params: Type.Object({
            teamId: Type.String({ minLength: 1, maxLength: 64 }),
            keyId: Type.String({ minLength: 1, maxLength: 64 }),
          }),
          response: { 204: Type.Null({ description: 'Revoked' }), ...problemResponses(401, 404) },
        },
      },
      async (request, reply) => {
        await service.revokeKey(request.params.teamId, request.params.keyId, adminContext(request));
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/teams/:teamId/audit',
      {
        schema: {
          tags: ['admin'],
          operationId: 'listAuditLog',
          summary: "A team's audit log, newest first",
          description:
            'Every change to a connection, a consent, an API key or a webhook endpoint: who (the API key, the ' +
            'admin token or the system), when, what, and the request id. Pages by `limit` (1 to 500, default ' +
            '100) and `cursor`; when more events exist the response carries `nextCursor` and ' +
            '`Link: <url>; rel="next"`. `action` and `targetId` filter (AND).',
          security: [{ adminToken: [] }],
          params: Type.Object({ teamId: Type.String({ minLength: 1, maxLength: 64 }) }),
          querystring: AuditQuery,
          response: {
            200: {
              ...AuditPage,
              description: 'A page of events, newest first.',
              headers: {
                link: Type.String({ description: '`<url>; rel="next"`, present when more events exist.' }),
              },
            },
            ...problemResponses(400, 401, 404),
          },
        },
      },
      async (request, reply) => {
        const page = await audit.list(request.params.teamId, request.query);
        if (page.nextCursor) reply.header('link', nextPageLink(request, page.nextCursor, publicUrl));
        return page;
      },
    );
  };
}
