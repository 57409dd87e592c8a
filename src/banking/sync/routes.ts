import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { apiKeyContext } from '../../audit/record.js';
import { clientGoneSignal } from '../../http/client-gone.js';
import { BANKING_ERRORS, problemResponses, ResourceId, TeamId } from '../../http/schemas.js';
import { Connection } from '../connections/schemas.js';
import type { SyncService } from './service.js';

const Count = Type.Integer({ minimum: 0 });

const SyncResult = Type.Object(
  {
    ...Connection.properties,
    sync: Type.Object(
      {
        accountsAdded: Count,
        accountsUpdated: Count,
        transactionsAdded: Count,
        transactionsUpdated: Count,
        transactionsRemoved: Count,
      },
      { description: 'What this sync changed; all zero when the bank had nothing new.' },
    ),
  },
  { $id: 'SyncResult', description: 'The connection after the sync, and what the sync changed.' },
);

export function syncRoutes(service: SyncService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/sync',
      {
        schema: {
          tags: ['sync'],
          security: [{ apiKey: [] }],
          operationId: 'syncBankData',
          summary: "Import a connection's accounts, balances and transactions now",
          description:
            "Pulls what the current consent's scopes allow and returns the connection. Idempotent; a sync " +
            'of a connection that is already syncing waits for it, then runs. A provider failure writes nothing.',
          body: Type.Object({
            teamId: TeamId,
            connectionId: ResourceId,
            async: Type.Optional(
              Type.Boolean({ description: 'Answer 202 at once and sync in the background.', default: false }),
            ),
          }),
          response: {
            200: SyncResult,
            202: Type.Object(
              { connectionId: Type.String(), status: Type.Literal('QUEUED') },
              { description: 'The sync runs in the background; see `lastSyncStatus` and webhooks.' },
            ),
            ...problemResponses(...BANKING_ERRORS, 404, 409, 413, 415, 422, 502, 503, 504),
          },
        },
      },
      async (request, reply) => {
        const { connectionId } = request.body;
        const audit = apiKeyContext(request);
        if (!request.body.async) {
          return reply.send(await service.sync(request.teamId, connectionId, audit, clientGoneSignal(reply)));
        }
        await service.start(request.teamId, connectionId, audit);
        return reply.code(202).send({ connectionId, status: 'QUEUED' as const });
      },
    );
  };
}
