import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { apiKeyContext } from '../../audit/record.js';
import { BANKING_ERRORS, problemResponses } from '../../http/schemas.js';
import { withInputCheck } from '../../http/validation.js';
import { ConnectBody, DisconnectBody, ListConnectionsQuery, UpdateConsentBody } from './schemas.js';
import type { ConnectionsService } from './service.js';

const tags = ['connections'];
const security = [{ apiKey: [] }];
const ConnectionRef = Type.Ref('Connection');

export function connectionRoutes(service: ConnectionsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/connections',
      {
        schema: {
          tags,
          security,
          operationId: 'listConnections',
          summary: "List the team's bank connections, oldest first",
          querystring: ListConnectionsQuery,
          response: {
            200: Type.Array(ConnectionRef, { description: "The team's connections, oldest first." }),
            ...problemResponses(...BANKING_ERRORS),
          },
        },
      },
      async (request) => service.list(request.teamId),
    );

    app.post(
      '/connect',
      {
        schema: {
          tags,
          security,
          operationId: 'connectBank',
          summary: 'Connect a bank with a consent the user gave at the bank',
          description:
            'Checks the consent with the provider and records an ACTIVE connection with one AUTHORIZED consent. ' +
            'Data are imported by `POST /api/banking/sync`.',
          body: withInputCheck(ConnectBody, service.connectProblems),
          response: {
            201: {
              ...Type.Ref('ConnectedConnection'),
              description: 'The connection, ACTIVE with its one AUTHORIZED consent.',
            },
            ...problemResponses(...BANKING_ERRORS, 409, 413, 415, 422, 502, 503, 504),
          },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await service.connect(request.teamId, request.body, apiKeyContext(request))),
    );

    app.post(
      '/disconnect',
      {
        schema: {
          tags,
          security,
          operationId: 'disconnectBank',
          summary: 'Disconnect a bank: revoke its consents, keep its data',
          description: 'Idempotent: a second call returns the same state with the same `revokedAt`.',
          body: DisconnectBody,
          response: {
            200: {
              ...Type.Ref('DisconnectedConnection'),
              description: 'The connection, DISCONNECTED with every consent REVOKED.',
            },
            ...problemResponses(...BANKING_ERRORS, 404, 413, 415),
          },
        },
      },
      async (request) =>
        service.disconnect(request.teamId, request.body.connectionId, apiKeyContext(request)),
    );

    app.post(
      '/consent',
      {
        schema: {
          tags,
          security,
          operationId: 'updateConsent',
          summary: "Replace a connection's consent with new scopes and expiry",
          description:
            'The current AUTHORIZED consent becomes REVOKED and a new AUTHORIZED one is created and returned; ' +
            'history is kept. With `consentId`, the connection moves to a consent the user just gave at the bank.',
          body: withInputCheck(UpdateConsentBody, service.consentProblems),
          response: {
            200: { ...Type.Ref('AuthorizedConsent'), description: 'The new AUTHORIZED consent.' },
            ...problemResponses(...BANKING_ERRORS, 404, 409, 413, 415, 422, 502, 503, 504),
          },
        },
      },
      async (request) => service.updateConsent(request.teamId, request.body, apiKeyContext(request)),
    );
  };
}
