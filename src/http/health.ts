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
          response: {
            200: Type.Object({ status: Type.Literal('ok') }, { description: 'The process serves.' }),
          },
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
            200: Type.Object(
              { status: Type.Literal('ready'), database: Type.String() },
              { description: 'The database answers.' },
            ),
            ...problemResponses(503),
          },
        },
      },
      async () => {
        try {
          await answersWithin(database.ping(), READINESS_TIMEOUT_MS);
        } catch {
          throw new AppError('SERVICE_UNAVAILABLE', 'The database is not reachable.');
        }
        return { status: 'ready' as const, database: database.engine };
      },
    );
  };
}

/**
 * How long readiness waits for the database. A database that takes connections and never answers
 * (a partition, a dropped-packet firewall) held `/readyz` for the pool's 10 s, longer than any
 * probe waits; a readiness check should say "not ready" before its caller gives up.
 */
const READINESS_TIMEOUT_MS = 2_000;

async function answersWithin(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  // The ping may still fail after the deadline: nobody waits for it then.
  work.catch(() => {});
  try {
    await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
