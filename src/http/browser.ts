import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/**
 * What browsers are told: helmet's security headers on every response (no sniffing, no framing,
 * a strict content security policy that still lets the local API docs run), and CORS only for
 * the origins an operator lists in CORS_ORIGINS. Without a list no CORS header is sent, so no
 * web page of another origin can read the API with a user's key.
 */
export async function registerBrowserPolicy(app: FastifyInstance, corsOrigins: string[]) {
  // Built once: @fastify/helmet rebuilds helmet's middleware on every request.
  const setSecurityHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
        frameAncestors: ["'none'"],
      },
    },
  });
  app.addHook('onRequest', (request, reply, done) =>
    setSecurityHeaders(request.raw, reply.raw, () => done()),
  );
  if (corsOrigins.length === 0) return;
  await app.register(cors, {
    origin: corsOrigins,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
    exposedHeaders: [
      'link',
      'retry-after',
      'ratelimit-limit',
      'ratelimit-remaining',
      'ratelimit-reset',
      'idempotent-replayed',
      'x-request-id',
    ],
    maxAge: 600,
  });
}
