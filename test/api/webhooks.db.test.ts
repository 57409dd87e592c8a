import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { and, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { webhookDeliveries, webhookEndpoints, webhookEvents } from '../../src/db/schema.js';
import { createSecretBox, parseKey } from '../../src/secrets.js';
import {
  createWebhookDispatcher,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
} from '../../src/webhooks/dispatcher.js';
import { recordEvent, type WebhookEventType } from '../../src/webhooks/outbox.js';
import { startTestApp, type Team, type TestApp } from '../support/app.js';
import { expectIsoUtc, expectProblem, expectValidationProblem, type Json } from '../support/fixtures.js';
import { createOpenApiChecker } from '../support/openapi.js';
import { type Receiver, startReceiver } from '../webhooks/receiver.js';

const ENCRYPTION_KEY = randomBytes(32).toString('base64');
const ALL_EVENTS = ['sync.completed', 'sync.failed', 'consent.expiring', 'connection.disconnected'];

interface EndpointBody {
  id: string;
  url: string;
  events: string[];
  createdAt: string;
  secret?: string;
}

interface DeliveryBody {
  id: string;
  eventId: string;
  type: string;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

/** The dispatchers' own clock, moved by hand (the app's clock is the harness's). */
class ManualClock {
  private ms = Date.parse('2026-11-26T10:00:00.000Z');
  readonly now = () => new Date(this.ms);
  advance(ms: number) {
    this.ms += ms;
  }
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await wait(20);
  }
}

describe('webhooks', () => {
  let t: TestApp;
  let teamA: Team;
  let teamB: Team;
  let receiver: Receiver;
  let check: Awaited<ReturnType<typeof createOpenApiChecker>>;
  const clock = new ManualClock();
  const dispatchers: WebhookDispatcher[] = [];

  beforeAll(async () => {
    // The receiver is on this machine, which a deployment for development allows.
    t = await startTestApp({ env: { ENCRYPTION_KEY, WEBHOOK_ALLOW_LOOPBACK: 'true' } });
    // The tests drive dispatchers of their own, round by round, on their own clock.
    await t.app.webhooks.stop();
    check = await createOpenApiChecker(t.app);
    teamA = await t.createTeam('A');
    teamB = await t.createTeam('B');
    receiver = await startReceiver(() => clock.now());
  });

  afterAll(async () => {
    await receiver?.close();
    await t?.close();
  });

  afterEach(async () => {
    await Promise.all(dispatchers.splice(0).map((dispatcher) => dispatcher.stop()));
    receiver.answer = () => 200;
    await receiver.start();
    // Each test starts with no endpoints.
    await deleteEndpoints(teamA);
    await deleteEndpoints(teamB);
  });

  function dispatcher(options: Partial<WebhookDispatcherOptions> = {}) {
    const created = createWebhookDispatcher({
      db: t.database.db,
      secrets: createSecretBox(parseKey(ENCRYPTION_KEY)),
      clock: clock.now,
      random: () => 1,
      urlPolicy: { allowLoopback: true },
      ...options,
    });
    dispatchers.push(created);
    return created;
  }

  async function inject(team: Team | null, method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) {
    const response = await t.app.inject({
      method,
      url,
      headers: team ? { authorization: `Bearer ${team.apiKey}` } : {},
      ...(body === undefined ? {} : { payload: body as object }),
    });
    check(method, url, response);
    return response;
  }

  /** Registers an endpoint at `path` on the receiver, which learns its secret. */
  async function register(team: Team, path: string, events?: WebhookEventType[]): Promise<EndpointBody> {
    const url = `${receiver.origin}${path}`;
    const response = await inject(team, 'POST', '/api/banking/webhooks', {
      teamId: team.teamId,
      url,
      ...(events ? { events } : {}),
    });
    expect(response.statusCode, response.body).toBe(201);
    const endpoint = response.json() as EndpointBody;
    receiver.secrets.set(path, endpoint.secret as string);
    return endpoint;
  }

  async function record(
    team: Team,
    type: WebhookEventType = 'sync.completed',
    data: Json = { id: 'conn_1' },
  ) {
    return t.database.db.transaction((tx) =>
      recordEvent(tx, { teamId: team.teamId, type, data }, clock.now()),
    );
  }

  async function log(team: Team, endpointId: string): Promise<DeliveryBody[]> {
    const response = await inject(
      team,
      'GET',
      `/api/banking/webhooks/${endpointId}/deliveries?teamId=${team.teamId}`,
    );
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as DeliveryBody[];
  }

  describe('endpoints', () => {
    it('registers an endpoint: 201 with a secret shown once, sealed at rest, all events by default', async () => {
      const endpoint = await register(teamA, '/register');
      expect(endpoint.id).toMatch(/^whe_/);
      expect(endpoint.url).toBe(`${receiver.origin}/register`);
      expect(endpoint.events).toEqual(ALL_EVENTS);
      expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
      expectIsoUtc(endpoint.createdAt);

      const [row] = await t.database.db
        .select()
        .from(webhookEndpoints)
        .where(and(eq(webhookEndpoints.teamId, teamA.teamId), eq(webhookEndpoints.id, endpoint.id)));
      expect(row?.secret).toMatch(/^v1\./);
      expect(row?.secret).not.toContain(endpoint.secret?.slice(6));

      const listed = await inject(teamA, 'GET', `/api/banking/webhooks?teamId=${teamA.teamId}`);
      expect(listed.statusCode).toBe(200);
      const rows = listed.json() as EndpointBody[];
      const mine = rows.find((r) => r.id === endpoint.id);
      expect(mine).toEqual({
        id: endpoint.id,
        url: endpoint.url,
        events: ALL_EVENTS,
        createdAt: endpoint.createdAt,
      });
      expect(listed.body).not.toContain(endpoint.secret);
    });

    it('keeps a subset of events in their canonical order; lists oldest first; per team', async () => {
      const first = await register(teamB, '/b/1', ['connection.disconnected', 'sync.failed']);
      expect(first.events).toEqual(['sync.failed', 'connection.disconnected']);
      t.clock.advanceDays(1 / 1440);
      const second = await register(teamB, '/b/2', ['consent.expiring']);
      const listed = await inject(teamB, 'GET', `/api/banking/webhooks?teamId=${teamB.teamId}`);
      expect((listed.json() as EndpointBody[]).map((e) => e.id)).toEqual([first.id, second.id]);
      const ofA = await inject(teamA, 'GET', `/api/banking/webhooks?teamId=${teamA.teamId}`);
      expect((ofA.json() as EndpointBody[]).map((e) => e.id)).not.toContain(first.id);
    });

    it('answers 400 for bad input, listing each bad field', async () => {
      const post = (body: Json) =>
        inject(teamA, 'POST', '/api/banking/webhooks', { teamId: teamA.teamId, ...body });
      expectValidationProblem(await post({}), ['/url']);
      expectValidationProblem(await post({ url: '' }), ['/url']);
      expectValidationProblem(await post({ url: 'http://example.com/hook' }), ['/url']);
      expectValidationProblem(await post({ url: 'ftp://example.com/hook' }), ['/url']);
      expectValidationProblem(await post({ url: 'not a url' }), ['/url']);
      expectValidationProblem(await post({ url: 'https://u:p@example.com/' }), ['/url']);
      expectValidationProblem(await post({ url: 42 }), ['/url']);
      expectValidationProblem(await post({ url: 'https://example.com/', events: [] }), ['/events']);
      expectValidationProblem(await post({ url: 'https://example.com/', events: ['sync.started'] }), [
        '/events',
      ]);
      expectValidationProblem(await post({ url: 'https://example.com/', events: 'sync.failed' }), [
        '/events',
      ]);
      expectValidationProblem(
        await post({ url: 'https://example.com/', events: ['sync.failed', 'sync.failed'] }),
        ['/events'],
      );
      expectValidationProblem(await inject(teamA, 'GET', '/api/banking/webhooks'), ['/teamId']);
      const listed = await inject(teamA, 'GET', `/api/banking/webhooks?teamId=${teamA.teamId}`);
      expect((listed.json() as EndpointBody[]).some((e) => e.url.includes('example.com'))).toBe(false);
    });

    it('accepts https anywhere', async () => {
      const response = await inject(teamA, 'POST', '/api/banking/webhooks', {
        teamId: teamA.teamId,
        url: 'https://example.com/hooks?x=1',
      });
      expect(response.statusCode, response.body).toBe(201);
      const endpoint = response.json() as EndpointBody;
      expect(
        (await inject(teamA, 'DELETE', `/api/banking/webhooks/${endpoint.id}?teamId=${teamA.teamId}`))
          .statusCode,
      ).toBe(204);
    });

    it('answers 401 without a key and 403 for another team', async () => {
      expectProblem(await inject(null, 'GET', `/api/banking/webhooks?teamId=${teamA.teamId}`), 401);
      expectProblem(
        await inject(teamB, 'POST', '/api/banking/webhooks', {
          teamId: teamA.teamId,
          url: 'https://x.test/',
        }),
        403,
        'FORBIDDEN',
      );
      expectProblem(await inject(teamB, 'GET', `/api/banking/webhooks?teamId=${teamA.teamId}`), 403);
    });

    it("answers 404 for an unknown endpoint or another team's", async () => {
      const endpoint = await register(teamA, '/a/404');
      const unknown = 'whe_0000000000000000000000000000';
      for (const id of [unknown, endpoint.id]) {
        const team = id === unknown ? teamA : teamB;
        expectProblem(
          await inject(team, 'DELETE', `/api/banking/webhooks/${id}?teamId=${team.teamId}`),
          404,
          'NOT_FOUND',
        );
        expectProblem(
          await inject(team, 'GET', `/api/banking/webhooks/${id}/deliveries?teamId=${team.teamId}`),
          404,
          'NOT_FOUND',
        );
      }
      // Still there for its own team.
      expect(await log(teamA, endpoint.id)).toEqual([]);
    });

    it('refuses an endpoint on this machine by default, however its address is written, and writes nothing', async () => {
      const strict = await startTestApp({ env: { ENCRYPTION_KEY } });
      try {
        await strict.app.webhooks.stop();
        const team = await strict.createTeam();
        for (const url of [
          receiver.origin,
          'https://localhost/hook',
          'https://0x7f000001/',
          'https://[::1]/hook',
        ]) {
          const response = await strict.as(team).post('/api/banking/webhooks', { teamId: team.teamId, url });
          const problem = expectProblem(response, 400, 'VALIDATION_FAILED');
          expect(problem.detail).toMatch(/WEBHOOK_ALLOW_LOOPBACK/);
        }
        const listed = await strict.as(team).get('/api/banking/webhooks', { teamId: team.teamId });
        expect(listed.json()).toEqual([]);
      } finally {
        await strict.close();
      }
    });

    it('answers 503 when the deployment has no encryption key for the secrets', async () => {
      const bare = await startTestApp();
      try {
        await bare.app.webhooks.stop();
        const team = await bare.createTeam();
        const response = await bare.as(team).post('/api/banking/webhooks', {
          teamId: team.teamId,
          url: 'https://example.com/hook',
        });
        expectProblem(response, 503, 'SERVICE_UNAVAILABLE');
        const listed = await bare.as(team).get('/api/banking/webhooks', { teamId: team.teamId });
        expect(listed.json()).toEqual([]);
      } finally {
        await bare.close();
      }
    });
  });

  describe('deliveries', () => {
    it('delivers an event once, signed, after commit; the log shows it', async () => {
      const endpoint = await register(teamA, '/a/once');
      const onlyFailures = await register(teamA, '/a/only-failures', ['sync.failed']);
      const eventId = await record(teamA, 'sync.completed', { id: 'conn_x', status: 'ACTIVE' });
      const d = dispatcher();

      const round = await d.runOnce();
      expect(round).toEqual({ claimed: 1, succeeded: 1, retried: 0, failed: 0 });
      expect((await d.runOnce()).claimed).toBe(0);

      expect(receiver.requests.filter((r) => r.path === '/a/only-failures')).toEqual([]);
      const got = receiver.requests.filter((r) => r.path === '/a/once');
      expect(got).toHaveLength(1);
      const [request] = got;
      expect(request?.valid).toBe(true);
      expect(request?.headers['webhook-id']).toBe(eventId);
      expect(request?.headers['webhook-timestamp']).toBe(String(clock.now().getTime() / 1000));
      expect(request?.headers['content-type']).toBe('application/json');
      expect(JSON.parse(request?.body ?? '')).toEqual({
        id: eventId,
        type: 'sync.completed',
        createdAt: clock.now().toISOString(),
        data: { id: 'conn_x', status: 'ACTIVE' },
      });

      const [entry, ...rest] = await log(teamA, endpoint.id);
      expect(rest).toEqual([]);
      expect(entry).toMatchObject({
        eventId,
        type: 'sync.completed',
        status: 'SUCCEEDED',
        attempts: 1,
        lastStatusCode: 200,
        lastError: null,
        nextAttemptAt: null,
        deliveredAt: clock.now().toISOString(),
      });
      expect(entry?.id).toMatch(/^whd_/);
      expect(await log(teamA, onlyFailures.id)).toEqual([]);
    });

    it('never sends an event whose transaction rolled back', async () => {
      await register(teamA, '/a/rollback');
      await expect(
        t.database.db.transaction(async (tx) => {
          await recordEvent(tx, { teamId: teamA.teamId, type: 'sync.failed', data: {} }, clock.now());
          throw new Error('the change failed');
        }),
      ).rejects.toThrow('the change failed');
      const events = await t.database.db
        .select()
        .from(webhookEvents)
        .where(eq(webhookEvents.type, 'sync.failed'));
      expect(events).toEqual([]);
      expect((await dispatcher().runOnce()).claimed).toBe(0);
      expect(receiver.requests.filter((r) => r.path === '/a/rollback')).toEqual([]);
    });

    it('retries with backoff while the receiver is down, then delivers once', async () => {
      const endpoint = await register(teamA, '/a/down');
      const eventId = await record(teamA, 'connection.disconnected');
      const d = dispatcher();
      const path = '/a/down';

      receiver.answer = () => 500;
      expect(await d.runOnce()).toEqual({ claimed: 1, succeeded: 0, retried: 1, failed: 0 });
      let [entry] = await log(teamA, endpoint.id);
      expect(entry).toMatchObject({ status: 'PENDING', attempts: 1, lastStatusCode: 500, deliveredAt: null });
      expect(entry?.lastError).toMatch(/500/);
      expect(entry?.nextAttemptAt).toBe(new Date(clock.now().getTime() + 10_000).toISOString());

      // Not due before its backoff.
      clock.advance(9_999);
      expect((await d.runOnce()).claimed).toBe(0);
      clock.advance(1);

      // Now the receiver is not even listening.
      await receiver.down();
      expect(await d.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
      [entry] = await log(teamA, endpoint.id);
      expect(entry).toMatchObject({ status: 'PENDING', attempts: 2, lastStatusCode: null });
      expect(entry?.lastError).toMatch(/could not be reached/);
      expect(entry?.nextAttemptAt).toBe(new Date(clock.now().getTime() + 20_000).toISOString());

      clock.advance(20_000);
      expect(await d.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
      [entry] = await log(teamA, endpoint.id);
      expect(entry?.attempts).toBe(3);
      expect(entry?.nextAttemptAt).toBe(new Date(clock.now().getTime() + 40_000).toISOString());

      // Back up; the retry goes out when it is due, once.
      await receiver.start();
      receiver.answer = () => 204;
      clock.advance(39_000);
      expect((await d.runOnce()).claimed).toBe(0);
      clock.advance(1_000);
      expect(await d.runOnce()).toMatchObject({ claimed: 1, succeeded: 1 });
      clock.advance(3_600_000);
      expect((await d.runOnce()).claimed).toBe(0);

      expect(receiver.deliveries(path)).toHaveLength(1);
      expect(receiver.deliveries(path)[0]?.headers['webhook-id']).toBe(eventId);
      expect(receiver.requests.filter((r) => r.path === path).map((r) => r.status)).toEqual([500, 204]);
      [entry] = await log(teamA, endpoint.id);
      expect(entry).toMatchObject({
        status: 'SUCCEEDED',
        attempts: 4,
        lastStatusCode: 204,
        lastError: null,
        nextAttemptAt: null,
      });
      expectIsoUtc(entry?.deliveredAt);
    });

    it('gives up after the maximum attempts; redirects and timeouts are failures', async () => {
      const endpoint = await register(teamA, '/a/give-up');
      await record(teamA, 'sync.failed');
      const d = dispatcher({ maxAttempts: 3, timeoutMs: 300 });

      receiver.answer = () => 302;
      expect(await d.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
      let [entry] = await log(teamA, endpoint.id);
      expect(entry).toMatchObject({ attempts: 1, lastStatusCode: 302 });
      expect(entry?.lastError).toMatch(/redirects are not followed/);

      receiver.answer = () => wait(2_000).then(() => 200);
      clock.advance(10_000);
      expect(await d.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
      [entry] = await log(teamA, endpoint.id);
      expect(entry).toMatchObject({
        attempts: 2,
        lastStatusCode: null,
        lastError: 'no answer within 300 ms',
      });

      receiver.answer = () => 503;
      clock.advance(20_000);
      expect(await d.runOnce()).toMatchObject({ claimed: 1, failed: 1 });
      [entry] = await log(teamA, endpoint.id);
      expect(entry).toMatchObject({
        status: 'FAILED',
        attempts: 3,
        lastStatusCode: 503,
        nextAttemptAt: null,
      });

      receiver.answer = () => 200;
      clock.advance(86_400_000);
      expect((await d.runOnce()).claimed).toBe(0);
      expect(receiver.deliveries('/a/give-up')).toEqual([]);
    });

    it('stops the deliveries of a deleted endpoint', async () => {
      const kept = await register(teamA, '/a/kept');
      const deleted = await register(teamA, '/a/deleted');
      await record(teamA);
      const d = dispatcher();
      receiver.answer = () => 500;
      expect(await d.runOnce()).toMatchObject({ claimed: 2, retried: 2 });

      const response = await inject(
        teamA,
        'DELETE',
        `/api/banking/webhooks/${deleted.id}?teamId=${teamA.teamId}`,
      );
      expect(response.statusCode, response.body).toBe(204);
      expect(response.body).toBe('');
      const again = await inject(
        teamA,
        'DELETE',
        `/api/banking/webhooks/${deleted.id}?teamId=${teamA.teamId}`,
      );
      expectProblem(again, 404);
      expectProblem(
        await inject(teamA, 'GET', `/api/banking/webhooks/${deleted.id}/deliveries?teamId=${teamA.teamId}`),
        404,
      );
      const listed = await inject(teamA, 'GET', `/api/banking/webhooks?teamId=${teamA.teamId}`);
      expect((listed.json() as EndpointBody[]).map((e) => e.id)).toEqual([kept.id]);

      const [row] = await t.database.db
        .select()
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.teamId, teamA.teamId), eq(webhookDeliveries.endpointId, deleted.id)));
      expect(row).toMatchObject({
        status: 'FAILED',
        attempts: 1,
        lastError: 'endpoint deleted',
        nextAttemptAt: null,
      });

      // An event recorded after the delete is not addressed to it at all.
      await record(teamA, 'sync.failed');
      receiver.answer = () => 200;
      clock.advance(10_000);
      expect(await d.runOnce()).toMatchObject({ claimed: 2, succeeded: 2 });
      expect(receiver.deliveries('/a/deleted')).toEqual([]);
      expect(receiver.deliveries('/a/kept')).toHaveLength(2);
    });

    it('fails, without sending, a delivery whose endpoint was deleted while its event committed', async () => {
      const endpoint = await register(teamA, '/a/raced');
      await record(teamA);
      // As if the delete committed between the event's read of the endpoints and its commit.
      await t.database.db
        .update(webhookEndpoints)
        .set({ deletedAt: clock.now() })
        .where(and(eq(webhookEndpoints.teamId, teamA.teamId), eq(webhookEndpoints.id, endpoint.id)));
      expect(await dispatcher().runOnce()).toEqual({ claimed: 1, succeeded: 0, retried: 0, failed: 1 });
      expect(receiver.requests.filter((r) => r.path === '/a/raced')).toEqual([]);
      const [row] = await t.database.db
        .select()
        .from(webhookDeliveries)
        .where(
          and(eq(webhookDeliveries.teamId, teamA.teamId), eq(webhookDeliveries.endpointId, endpoint.id)),
        );
      expect(row).toMatchObject({ status: 'FAILED', attempts: 0, lastError: 'endpoint deleted' });
    });

    it('fails, without sending, a delivery to this machine once the deployment no longer allows it', async () => {
      const endpoint = await register(teamA, '/a/loopback');
      await record(teamA);
      const strict = dispatcher({ urlPolicy: { allowLoopback: false } });
      expect(await strict.runOnce()).toEqual({ claimed: 1, succeeded: 0, retried: 0, failed: 1 });
      expect(receiver.requests.filter((r) => r.path === '/a/loopback')).toEqual([]);
      const [entry] = await log(teamA, endpoint.id);
      expect(entry).toMatchObject({ status: 'FAILED', attempts: 0, lastStatusCode: null });
      expect(entry?.lastError).toMatch(/^not sent: the URL must not be this machine/);
    });

    it('connects only to addresses its host name resolves to that the deployment allows', async () => {
      // A bare TCP listener on this machine stands for an internal service: it counts the
      // connections made to it (a delivery's TLS handshake then fails, which does not matter here).
      let connections = 0;
      const internal: Server = createServer((socket) => {
        connections += 1;
        socket.destroy();
      });
      await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
      const { port } = internal.address() as { port: number };
      // Names no real resolver knows, answered as a team's own DNS could answer them.
      const dns: Record<string, { address: string; family: number }[]> = {
        'private.example.test': [{ address: '10.1.2.3', family: 4 }],
        'metadata.example.test': [{ address: '169.254.169.254', family: 4 }],
        'both.example.test': [
          { address: '93.184.215.14', family: 4 },
          { address: '::1', family: 6 },
        ],
        'internal.example.test': [{ address: '127.0.0.1', family: 4 }],
        'nowhere.example.test': [],
      };
      const resolveHost = async (hostname: string) => dns[hostname] ?? [];
      try {
        const endpoints: Record<string, string> = {};
        for (const name of Object.keys(dns)) {
          const response = await inject(teamA, 'POST', '/api/banking/webhooks', {
            teamId: teamA.teamId,
            url: `https://${name}:${port}/hook`,
          });
          expect(response.statusCode, response.body).toBe(201);
          endpoints[name] = (response.json() as EndpointBody).id;
        }
        await record(teamA);

        const strict = dispatcher({ urlPolicy: { allowLoopback: false }, resolveHost });
        expect(await strict.runOnce()).toEqual({ claimed: 5, succeeded: 0, retried: 5, failed: 0 });
        expect(connections).toBe(0);
        const lastError = async (name: string) => (await log(teamA, endpoints[name] as string))[0]?.lastError;
        // The team is told no more for a name that leads inside than for one that does not
        // resolve: the service is not a way to read the deployment's internal DNS.
        for (const name of Object.keys(dns)) {
          expect(await lastError(name)).toBe(`not sent: ${name} has no address this service delivers to`);
        }

        // Where this machine is allowed, the connection goes to the address the check saw.
        clock.advance(86_400_000);
        const loose = dispatcher({ urlPolicy: { allowLoopback: true }, resolveHost });
        await loose.runOnce();
        expect(connections).toBe(1);
        expect(await lastError('internal.example.test')).toMatch(/^could not be reached: /);
        expect(await lastError('private.example.test')).toMatch(/^not sent: /);
      } finally {
        await new Promise((resolve) => internal.close(resolve));
      }
    });

    it('never sends a delivery twice with two dispatchers on the same database', async () => {
      const endpoints = [await register(teamA, '/a/race-1'), await register(teamB, '/b/race-2')];
      const count = 40;
      const events = new Set<string>();
      for (let i = 0; i < count; i++) {
        events.add(await record(teamA, 'sync.completed', { n: i }));
        events.add(await record(teamB, 'sync.completed', { n: i }));
      }
      // Slow answers, so the rounds of both dispatchers overlap.
      receiver.answer = () => wait(5).then(() => 200);
      const one = dispatcher({ batchSize: 7, concurrency: 3 });
      const two = dispatcher({ batchSize: 7, concurrency: 3 });
      const drain = async (d: WebhookDispatcher) => {
        let claimed = 0;
        for (;;) {
          const round = await d.runOnce();
          if (round.claimed === 0) return claimed;
          claimed += round.claimed;
        }
      };
      const [byOne, byTwo] = await Promise.all([drain(one), drain(two)]);
      expect(byOne + byTwo).toBe(2 * count);
      for (const [index, path] of ['/a/race-1', '/b/race-2'].entries()) {
        const got = receiver.deliveries(path);
        const ids = got.map((r) => r.headers['webhook-id']);
        expect(ids).toHaveLength(count);
        expect(new Set(ids).size).toBe(count);
        for (const id of ids) expect(events.has(String(id))).toBe(true);
        const team = index === 0 ? teamA : teamB;
        const logged = await log(team, endpoints[index]?.id as string);
        expect(logged.every((entry) => entry.status === 'SUCCEEDED' && entry.attempts === 1)).toBe(true);
      }
      if (t.testDatabase.engine === 'postgres') expect(Math.min(byOne, byTwo)).toBeGreaterThan(0);
    });

    it('lists at most 100 deliveries, newest first', async () => {
      const endpoint = await register(teamA, '/a/many');
      const ids: string[] = [];
      for (let i = 0; i < 105; i++) {
        ids.push(await record(teamA, 'consent.expiring', { n: i }));
        clock.advance(1);
      }
      const logged = await log(teamA, endpoint.id);
      expect(logged).toHaveLength(100);
      expect(logged.map((entry) => entry.eventId)).toEqual(ids.slice(5).reverse());
      expect(logged.every((entry) => entry.status === 'PENDING' && entry.attempts === 0)).toBe(true);
    });
  });

  describe("the app's dispatcher", () => {
    it('sends as soon as it is poked, and stop() waits for a send in flight', async () => {
      await register(teamA, '/a/app');
      // The app's dispatcher signs at the app's clock.
      receiver.now = t.clock.now;
      try {
        t.app.webhooks.start();
        await t.database.db.transaction((tx) =>
          recordEvent(tx, { teamId: teamA.teamId, type: 'sync.completed', data: {} }, t.clock.now()),
        );
        t.app.webhooks.poke();
        await until(() => receiver.deliveries('/a/app').length === 1);

        let answered = false;
        receiver.answer = () =>
          wait(300).then(() => {
            answered = true;
            return 200;
          });
        await t.database.db.transaction((tx) =>
          recordEvent(tx, { teamId: teamA.teamId, type: 'sync.failed', data: {} }, t.clock.now()),
        );
        t.app.webhooks.poke();
        await until(() => receiver.requests.filter((r) => r.path === '/a/app').length === 2);
        await t.app.webhooks.stop();
        expect(answered).toBe(true);
        expect(receiver.deliveries('/a/app')).toHaveLength(2);
        const rows = await t.database.db
          .select()
          .from(webhookDeliveries)
          .where(eq(webhookDeliveries.teamId, teamA.teamId));
        expect(rows.filter((row) => row.status === 'PENDING')).toEqual([]);
      } finally {
        await t.app.webhooks.stop();
        receiver.now = clock.now;
      }
    });

    it('on stop, cuts a hanging send off after its grace and leaves the delivery due, uncounted', async () => {
      const endpoint = await register(teamA, '/a/hang');
      await record(teamA);
      receiver.answer = () => wait(5_000).then(() => 200);
      const d = dispatcher({ stopGraceMs: 100, pollIntervalMs: 60_000 });
      d.start();
      await until(() => receiver.requests.some((r) => r.path === '/a/hang'));
      const started = Date.now();
      await d.stop();
      expect(Date.now() - started).toBeLessThan(2_000);
      const [entry] = await log(teamA, endpoint.id);
      expect(entry).toMatchObject({
        status: 'PENDING',
        attempts: 0,
        nextAttemptAt: clock.now().toISOString(),
      });
    });
  });

  /** Deletes every endpoint of the team, so the next test starts with none. */
  async function deleteEndpoints(team: Team) {
    const listed = await inject(team, 'GET', `/api/banking/webhooks?teamId=${team.teamId}`);
    for (const endpoint of listed.json() as EndpointBody[]) {
      const response = await inject(
        team,
        'DELETE',
        `/api/banking/webhooks/${endpoint.id}?teamId=${team.teamId}`,
      );
      expect(response.statusCode).toBe(204);
    }
  }
});
