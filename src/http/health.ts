import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { DatabaseHandle } from '../db/client.js';
import { AppError } from '../errors.js';
import { problemResponses } from './schemas.js';

export function healthRoutes(database: DatabaseHandle): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/healthz',
      {
        schema: {
          tags: ['operations'],
          operationId: 'getLiveness',
          summary: 'Liveness: the process serves requests',
          response: { 200: Type.Object({ status: Type.Literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/readyz',
      {
        schema: {
          tags: ['operations'],
          operationId: 'getReadiness',
          summary: 'Readiness: the database answers',
          response: {
            200: Type.Object({ status: Type.Literal('ready'), database: Type.String() }),
            ...problemResponses(503),
          },
        },
      },
      async () => {
        try {
          await database.ping();
        } catch {
          throw new AppError('SERVICE_UNAVAILABLE', 'The database is not reachable.');
        }
        return { status: 'ready' as const, database: database.engine };
      },
    );
  };
}
