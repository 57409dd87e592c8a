import rateLimit from '@fastify/rate-limit';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { Type } from 'typebox';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { documentResponseHeaders } from './schemas.js';

/**
 * What every answer to a request with a valid key carries (a 401 is not counted; nor is anything
 * while Redis, when used, is unreachable).
 */
const RATE_LIMIT_HEADERS = {
  'ratelimit-limit': Type.Integer({ description: 'Requests the API key may make in a window.' }),
  'ratelimit-remaining': Type.Integer({ description: 'Requests it has left in the current window.' }),
  'ratelimit-reset': Type.Integer({ description: 'Seconds until the window starts again.' }),
};

/**
 * Requests per API key per window, counted in memory, or in Redis when REDIS_URL is set so that
 * every instance shares one budget per key. Answers carry the IETF draft's `RateLimit-Limit`,
 * `RateLimit-Remaining` and `RateLimit-Reset`; a 429 adds `Retry-After`.
 *
 * Registered inside the authenticated scope: its hook runs after the key is verified, so a forged
 * key id cannot spend another key's budget. If Redis is unreachable requests are let through
 * (logged): the limit protects the service, and an outage of it must not stop every client.
 */
export async function registerRateLimit(
  app: FastifyInstance,
  settings: Config['rateLimit'],
  log: FastifyBaseLogger,
) {
  app.addHook('onRoute', (route) =>
    documentResponseHeaders(route, RATE_LIMIT_HEADERS, (status) => status !== '401'),
  );
  const redis = settings.redisUrl ? connectRedis(settings.redisUrl, log) : undefined;
  if (redis) {
    app.addHook('onClose', async () => void redis.disconnect());
    // Without Redis nothing was counted, and the limiter's headers would say a full budget is
    // left: a client pacing itself by them is better told nothing.
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (redis.status !== 'ready')
        for (const name of Object.keys(RATE_LIMIT_HEADERS)) reply.removeHeader(name);
      done(null, payload);
    });
  }
  await app.register(rateLimit, {
    max: settings.max,
    timeWindow: settings.windowMs,
    keyGenerator: (request) => request.apiKeyId,
    enableDraftSpec: true,
    ...(redis ? { redis, nameSpace: 'obk:rate:', skipOnError: true } : {}),
    errorResponseBuilder: (_request, context) =>
      new AppError(
        'RATE_LIMITED',
        `This API key made more than ${context.max} requests in the window; retry in ${context.after}.`,
        { retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)) },
      ),
  });
}

function connectRedis(url: string, log: FastifyBaseLogger) {
  // Fail fast while disconnected instead of queueing: a request must not wait on the limiter.
  // Nor on a Redis that holds its connection open and stops answering: a count it does not give
  // within the command timeout is skipped, as when it is down.
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 500,
    keepAlive: 10_000,
  });
  // Said once per outage, and again when it ends, rather than at every reconnection attempt.
  let reachable = true;
  redis.on('error', (error) => {
    if (!reachable) return;
    reachable = false;
    log.warn({ err: error }, 'redis (rate limits) is unreachable: requests are not counted until it is back');
  });
  redis.on('ready', () => {
    if (reachable) return;
    reachable = true;
    log.info('redis (rate limits) is reachable again');
  });
  return redis;
}
