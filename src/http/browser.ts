import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * What browsers are told, as the headers of the answer to `url`. Every answer is JSON from a
 * banking API, so it carries the headers OWASP's REST Security Cheat Sheet lists for APIs: not
 * stored by any cache (`no-store`: these are people's accounts), never framed, never sniffed as
 * another type, HTTPS only, no referrer, and a content security policy that lets a document load
 * nothing. The HTML API docs under `docsPrefix`, and the scripts and styles they load, get
 * helmet's full set for documents instead, with a policy that lets Swagger UI run, and may be
 * cached (they hold no one's data). The headers depend on nothing in the request but its path.
 */
export function browserHeaders(docsPrefix: string): (url: string) => Readonly<Record<string, string>> {
  const documentHeaders = helmetHeaders(DOCUMENT);
  const isDocs = (url: string) =>
    url === docsPrefix || url.startsWith(`${docsPrefix}/`) || url.startsWith(`${docsPrefix}?`);
  return (url) => (isDocs(url) ? documentHeaders : API_HEADERS);
}

/**
 * CORS is off (no CORS header at all) unless the operator lists origins in CORS_ORIGINS, so no
 * web page of another origin can read the API with a user's key.
 */
export async function registerCors(app: FastifyInstance, corsOrigins: string[]) {
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

/** Only the headers that mean something for an answer that is not a document. */
const API: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: false,
  originAgentCluster: false,
  referrerPolicy: { policy: 'no-referrer' },
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: { action: 'deny' },
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/** What every answer that is not a document carries. */
const API_HEADERS: Readonly<Record<string, string>> = {
  ...helmetHeaders(API),
  'cache-control': 'no-store',
};

const DOCUMENT: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
      frameAncestors: ["'none'"],
    },
  },
};

/**
 * helmet's headers for `options`, read once: they depend on nothing in the request. Given to
 * Fastify's reply they go out with its own headers in one `writeHead`; set on the raw response
 * on every request, as helmet's middleware does, they also sent every other header of the answer
 * down Node's slower path for headers set beforehand (a tenth of a list request's CPU).
 */
function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => {});
  return headers;
}
