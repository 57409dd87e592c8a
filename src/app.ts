import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { Type } from 'typebox';
import { adminRoutes } from './admin/routes.js';
import { createAdminService } from './admin/service.js';
import { createAuditService } from './audit/service.js';
import { registerTeamGuard } from './auth/guard.js';
import { createKeyCache } from './auth/key-cache.js';
import { accountRoutes } from './banking/accounts/routes.js';
import { Account, AccountDetails } from './banking/accounts/schemas.js';
import { createAccountsService } from './banking/accounts/service.js';
import { connectionRoutes } from './banking/connections/routes.js';
import {
  AuthorizedConsent,
  ConnectedConnection,
  Connection,
  Consent,
  DisconnectedConnection,
  RevokedConsent,
} from './banking/connections/schemas.js';
import { createConnectionsService } from './banking/connections/service.js';
import { consentLinkRoutes } from './banking/consents/routes.js';
import { createConsentLinkService } from './banking/consents/service.js';
import { institutionRoutes } from './banking/institutions/routes.js';
import { InstitutionItem } from './banking/institutions/schemas.js';
import { createInstitutionsService } from './banking/institutions/service.js';
import { syncRoutes } from './banking/sync/routes.js';
import { createScheduler } from './banking/sync/scheduler.js';
import { createSyncService } from './banking/sync/service.js';
import { syncSlotsFor } from './banking/sync/slots.js';
import { transactionRoutes } from './banking/transactions/routes.js';
import { TransactionItem } from './banking/transactions/schemas.js';
import { createTransactionsService } from './banking/transactions/service.js';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/client.js';
import { countSealedUnderOtherKeys } from './db/reseal.js';
import { AppError } from './errors.js';
import { browserHeaders, registerCors } from './http/browser.js';
import { registerBufferedBodies } from './http/buffered-bodies.js';
import { headerCountProblem } from './http/header-counts.js';
import { healthRoutes } from './http/health.js';
import { acceptJsonInUtf8Only } from './http/json-bodies.js';
import { shareRepeatedHeaders } from './http/openapi.js';
import {
  clientErrorHandler,
  connectMethodHandler,
  frameworkErrorHandler,
  registerProblemHandlers,
} from './http/problem.js';
import { registerRateLimit } from './http/rate-limit.js';
import { documentResponseHeaders, Problem } from './http/schemas.js';
import { createValidatorCompiler } from './http/validation.js';
import { registerIdempotency } from './idempotency/plugin.js';
import { redactQuery, writesAt } from './logging.js';
import { createProviders } from './providers/index.js';
import type { BankProvider, Clock } from './providers/provider.js';
import { createProviderRegistry } from './providers/registry.js';
import { createSecretBox, keyIdOf, NO_SECRET_BOX } from './secrets.js';
import { createWebhookDispatcher } from './webhooks/dispatcher.js';
import { webhookRoutes } from './webhooks/routes.js';
import { createWebhooksService } from './webhooks/service.js';

export interface AppDeps {
  config: Config;
  database: DatabaseHandle;
  /** The service's clock; tests set it to move the sandbox bank's days. */
  clock?: Clock;
  /** Replaces the providers built from config (tests of provider failures). */
  providers?: BankProvider[];
  /** The process's pino logger; none in tests unless one is given. */
  logger?: FastifyBaseLogger;
}

export const BODY_LIMIT = 1024 * 1024;
const RETRY_AFTER_HEADER = {
  'retry-after': Type.Integer({ description: 'Seconds to wait before trying again, when known.' }),
};
/**
 * The statuses whose problems may carry Retry-After: an Idempotency-Key still in use (409), the
 * rate limit (429), a bank that failed or limited us and said when to come back (502, 503), and
 * the database out of reach (503).
 */
const RETRY_AFTER_STATUSES = new Set(['409', '429', '502', '503']);
/** What a 401 asks for (RFC 6750): a bearer token. */
const WWW_AUTHENTICATE_HEADER = {
  'www-authenticate': Type.Literal('Bearer', {
    description: 'The credential the API takes: a bearer token.',
  }),
};
const REQUEST_ID_HEADER = {
  'x-request-id': Type.String({
    description: "The caller's own x-request-id when it is a plain token, else a new one.",
  }),
};
/** Where the HTML API docs (Swagger UI) are served. */
const DOCS_PREFIX = '/docs';

/** Shared schemas, referenced by `$id` from routes and named after it in the OpenAPI document. */
const SHARED_SCHEMAS = [
  Problem,
  Consent,
  Connection,
  AuthorizedConsent,
  RevokedConsent,
  ConnectedConnection,
  DisconnectedConnection,
  Account,
  AccountDetails,
  TransactionItem,
  InstitutionItem,
];

/** The answer to a request that arrives while the app closes. */
const SHUTTING_DOWN = new AppError(
  'SERVICE_UNAVAILABLE',
  'The service is shutting down: send the request again, and it will reach a running instance.',
  { retryAfterSeconds: 1 },
);

/** Builds the whole app without listening; the server and the tests build it the same way. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, database } = deps;
  const clock = deps.clock ?? (() => new Date());
  const headersFor = browserHeaders(DOCS_PREFIX);
  // What every answer carries, set before anything else so that errors of any hook carry it
  // too. Given to Fastify's reply, the headers go out with its own in one `writeHead`.
  const stampAnswer = (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-request-id', request.id);
    reply.headers(headersFor(request.url));
  };
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: BODY_LIMIT,
    // A caller's x-request-id is kept when it is a plain token; anything else gets a fresh id.
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    },
    trustProxy: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    // The router's own errors come before any hook, so they are stamped here.
    frameworkErrors: (error, request, reply) => {
      stampAnswer(request, reply);
      return frameworkErrorHandler(error, request, reply);
    },
    clientErrorHandler,
    // Fastify's own answer to a request arriving while the server closes is not problem+json; the
    // onRequest hook below answers it instead (`SHUTTING_DOWN`).
    return503OnClosing: false,
    // One line per request when it ends, with what an operator filters on.
    logController: new RequestLogController(deps.logger),
    // A client must send its whole request within this (a slow-loris defence); 408 otherwise.
    // Given twice: Fastify sets it on the server once the server is made (and without it would
    // set 0, no limit), and Node then held a stalled body open indefinitely (only stalled headers
    // got their 408); given to Node as the server is made, it holds for the whole request.
    requestTimeout: config.requestTimeoutMs,
    http: {
      requestTimeout: config.requestTimeoutMs,
      // Node looks for requests past their time every 30 s by default, 30 s late at worst.
      connectionsCheckingInterval: 1_000,
      // Node would answer a request without a Host header with an empty 400; the onRequest hook
      // below answers it as problem+json instead (`headerCountProblem`).
      requireHostHeader: false,
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.server.on('connect', connectMethodHandler);
  app.server.maxConnections = config.maxConnections;
  app.setValidatorCompiler(createValidatorCompiler(SHARED_SCHEMAS));
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  // Only JSON bodies in UTF-8 are accepted; anything else is a 415 rather than a string to validate.
  acceptJsonInUtf8Only(app);
  registerProblemHandlers(app);
  // Requests still arriving on kept-alive connections once the app closes are turned away, for
  // the client to send again elsewhere; those already running finish.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    stampAnswer(request, reply);
    if (closing) return done(SHUTTING_DOWN);
    const headerProblem = headerCountProblem(request.raw);
    done(headerProblem ? new AppError('MALFORMED_REQUEST', headerProblem) : undefined);
  });
  await registerCors(app, config.corsOrigins);
  registerBufferedBodies(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Open banking data service',
        version: '0.1.0',
        description:
          'Connects bank accounts through open-banking providers, keeps their consents, and serves accounts, ' +
          'balances and transactions. Every error is application/problem+json (RFC 9457).',
      },
      tags: [
        { name: 'connections', description: 'Bank connections and their consents.' },
        { name: 'sync', description: 'Importing accounts, balances and transactions from the bank.' },
        { name: 'accounts', description: 'Bank accounts with their balances.' },
        { name: 'transactions', description: 'Transactions, newest first, paged by cursor.' },
        { name: 'institutions', description: 'Providers and the banks they reach.' },
        { name: 'webhooks', description: "Signed event deliveries to a team's endpoints." },
        { name: 'admin', description: 'Teams, API keys and the audit log (needs ADMIN_TOKEN).' },
        { name: 'operations', description: 'Liveness and readiness.' },
      ],
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: "A team's API key." },
          adminToken: { type: 'http', scheme: 'bearer', description: 'The ADMIN_TOKEN of the deployment.' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: (document) =>
      'openapiObject' in document ? shareRepeatedHeaders(document.openapiObject) : document.swaggerObject,
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const providers = createProviderRegistry(deps.providers ?? createProviders(config, clock, app.log));
  const secrets = config.encryptionKeys
    ? createSecretBox(config.encryptionKeys.current, config.encryptionKeys.previous)
    : NO_SECRET_BOX;
  const db = database.db;
  // Sends the webhook outbox; services call `webhooks.poke()` after committing events.
  const webhookUrlPolicy = { allowLoopback: config.webhookAllowLoopback };
  const webhooks = createWebhookDispatcher({ db, secrets, clock, log: app.log, urlPolicy: webhookUrlPolicy });
  app.decorate('webhooks', webhooks);
  app.addHook('onReady', async () => webhooks.start());
  if (config.encryptionKeys) {
    const { current, previous } = config.encryptionKeys;
    app.addHook('onReady', async () => {
      // Said at start, not first at the request or delivery that fails to open one.
      const keyIds = [current, ...previous].map(keyIdOf);
      for (const { table, column, count } of await countSealedUnderOtherKeys(db, keyIds)) {
        app.log.warn(
          { table, column, count },
          'stored values are sealed under an encryption key that is not configured: put it back in ENCRYPTION_KEYS_PREVIOUS, or they cannot be read',
        );
      }
    });
  }
  app.addHook('preClose', async () => webhooks.stop());
  const syncService = createSyncService({
    db,
    providers,
    clock,
    secrets,
    syncIntervalMs: config.syncIntervalMs,
    slots: syncSlotsFor(database.connections),
    onEvents: webhooks.poke,
    log: app.log,
  });
  if (config.schedulerEnabled) {
    const scheduler = createScheduler({
      db,
      sync: syncService,
      clock,
      pollMs: config.schedulerPollMs,
      syncIntervalMs: config.syncIntervalMs,
      maxFailures: config.syncMaxFailures,
      log: app.log,
      onEvents: webhooks.poke,
    });
    app.addHook('onReady', async () => scheduler.start());
    app.addHook('preClose', async () => scheduler.stop());
  }

  registerIdempotency(app, {
    db,
    clock,
    secrets: config.encryptionKeys ? secrets : null,
    log: app.log,
  });
  // After every hook that adds responses to a route, so the document shows it on all of them.
  app.addHook('onRoute', (route) => {
    documentResponseHeaders(route, REQUEST_ID_HEADER, () => true);
    documentResponseHeaders(route, RETRY_AFTER_HEADER, (status) => RETRY_AFTER_STATUSES.has(status));
    documentResponseHeaders(route, WWW_AUTHENTICATE_HEADER, (status) => status === '401');
  });

  const keyCache = createKeyCache(db, { ttlMs: config.apiKeyCacheTtlMs });

  await app.register(healthRoutes(database));
  if (config.adminToken) {
    const adminServices = {
      admin: createAdminService(db, clock, keyCache.forget),
      audit: createAuditService(db),
    };
    await app.register(adminRoutes(adminServices, config.adminToken, config.publicUrl), {
      prefix: '/api/admin',
    });
  }
  await app.register(
    async (banking) => {
      registerTeamGuard(banking, keyCache);
      await registerRateLimit(banking, config.rateLimit, app.log);
      const connections = createConnectionsService({
        db,
        providers,
        clock,
        log: app.log,
        secrets,
        onEvents: webhooks.poke,
      });
      await banking.register(connectionRoutes(connections));
      await banking.register(syncRoutes(syncService));
      await banking.register(accountRoutes(createAccountsService(db)));
      await banking.register(transactionRoutes(createTransactionsService(db), config.publicUrl));
      await banking.register(institutionRoutes(createInstitutionsService(providers)));
      await banking.register(consentLinkRoutes(createConsentLinkService(providers)));
      await banking.register(
        webhookRoutes(createWebhooksService({ db, clock, secrets, urlPolicy: webhookUrlPolicy })),
      );
    },
    { prefix: '/api/banking' },
  );
  return app;
}

/**
 * A request's line, when its answer has gone: method, route, status, time, and the team and API
 * key it acted as, so that an operator can filter by any of them without joining two lines (a
 * POST's team is in its body, which is never logged). Its arrival is logged at debug, for a
 * request that never ends.
 */
class RequestLogController extends LogController {
  /** Whether the lines are written at all: at `warn` (the benchmarks) a request costs nothing here. */
  private readonly writes: { arrival: boolean; completion: boolean };

  constructor(logger: FastifyBaseLogger | undefined) {
    super();
    this.writes = { arrival: writesAt(logger, 'debug'), completion: writesAt(logger, 'info') };
  }

  override incomingRequest(request: FastifyRequest) {
    if (this.writes.arrival) request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
    metadata?: Record<string, unknown>,
  ) {
    if (error) return super.requestCompleted(error, request, reply, metadata);
    if (!this.writes.completion) return;
    reply.log.info(
      {
        method: request.method,
        url: redactQuery(request.url),
        route: request.routeOptions.url,
        statusCode: reply.statusCode,
        responseTime: reply.elapsedTime,
        ...(request.teamId ? { teamId: request.teamId, apiKeyId: request.apiKeyId } : {}),
      },
      'request completed',
    );
  }
}
