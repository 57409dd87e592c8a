import { Writable } from 'node:stream';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { createLogger } from '../../src/logging.js';
import type { BankProvider } from '../../src/providers/provider.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { createOpenApiChecker } from './openapi.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** A clock the test moves by hand. */
export class TestClock {
  constructor(private current = new Date('2026-11-26T10:00:00.000Z')) {}
  readonly now = () => new Date(this.current);
  advanceDays(days: number) {
    this.current = new Date(this.current.getTime() + days * 86_400_000);
  }
}

export interface Team {
  teamId: string;
  apiKey: string;
  keyId: string;
}

export interface TestApp {
  app: FastifyInstance;
  database: DatabaseHandle;
  testDatabase: TestDatabase;
  clock: TestClock;
  /** Creates a team through the admin API. */
  createTeam(name?: string): Promise<Team>;
  /**
   * Calls the API as `team` (Bearer key), JSON in and out. Every response is checked against the
   * app's OpenAPI document (status listed, body matching its schema).
   */
  as(team: Team): TeamClient;
  /** Stops the app and closes the database (but keeps it). */
  stop(): Promise<void>;
  /** Stops and drops the database. */
  close(): Promise<void>;
}

export interface TeamClient {
  get(url: string, query?: Record<string, string | number | undefined>): Promise<LightMyRequestResponse>;
  post(url: string, body: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
}

export interface TestAppOptions {
  providers?: BankProvider[];
  clock?: TestClock;
  testDatabase?: TestDatabase;
  /** More environment for `loadConfig`, e.g. provider credentials and base URLs. */
  env?: Record<string, string>;
  /** Receives the app's JSON log lines (at debug level), e.g. to search them for secrets. */
  logLines?: string[];
}

function collect(lines: string[]) {
  return new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
}

/** Builds the app exactly as the server does, on a fresh database. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const testDatabase = options.testDatabase ?? (await createTestDatabase());
  const database = await testDatabase.open();
  const clock = options.clock ?? new TestClock();
  const logLines = options.logLines;
  // The background scheduler is off unless a test turns it on: tests sync explicitly.
  const config = loadConfig({
    ADMIN_TOKEN,
    LOG_LEVEL: logLines ? 'debug' : 'silent',
    SCHEDULER_ENABLED: 'false',
    // Rate limits have their own tests; elsewhere a test may send thousands of requests a minute.
    RATE_LIMIT_MAX: '10000000',
    ...options.env,
  });
  const app = await buildApp({
    config,
    database,
    clock: clock.now,
    ...(options.providers ? { providers: options.providers } : {}),
    ...(logLines ? { logger: createLogger(config.logLevel, collect(logLines)) } : {}),
  });
  await app.ready();

  const checkAgainstDocument = await createOpenApiChecker(app);
  const inject = async (opts: InjectOptions & { method: string; url: string }) => {
    const response = await app.inject(opts);
    checkAgainstDocument(opts.method, opts.url, response);
    return response;
  };
  const stop = async () => {
    await app.close();
    await database.close();
  };
  return {
    app,
    database,
    testDatabase,
    clock,
    async createTeam(name = 'Team') {
      const response = await inject({
        method: 'POST',
        url: '/api/admin/teams',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        payload: { name },
      });
      if (response.statusCode !== 201) throw new Error(`team creation failed: ${response.body}`);
      return response.json() as Team;
    },
    as(team) {
      const headers = { authorization: `Bearer ${team.apiKey}` };
      return {
        get: (url, query = {}) =>
          inject({
            method: 'GET',
            url,
            headers,
            query: Object.fromEntries(
              Object.entries(query)
                .filter(([, value]) => value !== undefined)
                .map(([key, value]) => [key, String(value)]),
            ),
          }),
        post: (url, body, extra = {}) =>
          inject({ method: 'POST', url, headers: { ...headers, ...extra }, payload: body as object }),
      };
    },
    stop,
    async close() {
      await stop();
      await testDatabase.drop();
    },
  };
}

/**
 * Two instances of the app on one database, as two servers of a deployment: PostgreSQL only
 * (PGlite is one process's database). `close` stops both and drops the database.
 */
export async function startTwoInstances(env: Record<string, string>) {
  const first = await startTestApp({ env });
  const second = await startTestApp({ env, testDatabase: first.testDatabase });
  return {
    first,
    second,
    async close() {
      await second.stop();
      await first.close();
    },
  };
}

/** Connects a sandbox bank for `team` and returns the connection. */
export async function connectSandbox(
  client: TeamClient,
  team: Team,
  input: { consentId?: string; providerId?: string; metadata?: Record<string, unknown> } = {},
) {
  const response = await client.post('/api/banking/connect', {
    teamId: team.teamId,
    provider: 'sandbox',
    providerId: input.providerId ?? 'sandbox-gb',
    consentId: input.consentId ?? `consent-${Math.random().toString(36).slice(2)}`,
    ...(input.metadata ? { metadata: input.metadata } : {}),
  });
  if (response.statusCode !== 201) throw new Error(`connect failed: ${response.statusCode} ${response.body}`);
  return response.json() as { id: string; consents: { id: string }[] };
}
