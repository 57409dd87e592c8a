import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/keys.js';
import { rowsOf } from '../../src/db/client.js';
import { ADMIN_TOKEN, startTestApp, type Team, type TestApp, TestClock } from '../support/app.js';
import { expectProblem, expectValidationProblem, nextLink } from '../support/fixtures.js';
import { createOpenApiChecker } from '../support/openapi.js';
import { sandboxScheduler } from '../support/scheduler.js';
import { bearer, expectUnauthorized } from '../support/security.js';

interface AuditEventBody {
  id: string;
  teamId: string;
  occurredAt: string;
  actor: { type: 'api_key' | 'admin' | 'system'; keyId: string | null };
  action: string;
  target: { type: string; id: string };
  requestId: string | null;
  details: Record<string, unknown>;
}

interface AuditPageBody {
  data: AuditEventBody[];
  nextCursor: string | null;
}

const SMALL_BANK = { sandbox: { accounts: 1, transactionsPerAccount: 5, days: 5 } };
const HOUR = 3_600_000;

type Method = 'GET' | 'POST' | 'DELETE';
interface CallOptions {
  body?: unknown;
  query?: Record<string, string>;
  requestId?: string;
  authorization?: string;
}

/** Requests with an `x-request-id` of the test's choosing, checked against the OpenAPI document. */
async function harness(t: TestApp) {
  const check = await createOpenApiChecker(t.app);
  /** Every audit page served, for the search for secrets. */
  const served: string[] = [];
  let counter = 0;

  const call = async (method: Method, url: string, options: CallOptions = {}) => {
    const headers: Record<string, string> = { 'x-request-id': options.requestId ?? `req-${++counter}` };
    if (options.authorization) headers.authorization = options.authorization;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await t.app.inject({
      method,
      url,
      headers,
      ...(options.query ? { query: options.query } : {}),
      ...(options.body !== undefined ? { payload: JSON.stringify(options.body) } : {}),
    });
    check(method, url, response);
    return response;
  };
  const as =
    (team: Team) =>
    (method: Method, url: string, options: CallOptions = {}) =>
      call(method, url, { authorization: bearer(team.apiKey), ...options });
  const admin = (method: Method, url: string, options: CallOptions = {}) =>
    call(method, url, { authorization: bearer(ADMIN_TOKEN), ...options });

  const auditPage = async (teamId: string, query: Record<string, string> = {}) => {
    const response = await admin('GET', `/api/admin/teams/${teamId}/audit`, { query });
    expect(response.statusCode, response.body).toBe(200);
    served.push(response.body, JSON.stringify(response.headers));
    return { response, body: response.json() as AuditPageBody };
  };
  /** The team's whole log, newest first. */
  const auditOf = async (teamId: string, query: Record<string, string> = {}) => {
    const { body } = await auditPage(teamId, { limit: '500', ...query });
    expect(body.nextCursor).toBeNull();
    return body.data;
  };
  const createTeam = async (requestId?: string) => {
    const response = await admin('POST', '/api/admin/teams', {
      body: { name: 'Audited' },
      ...(requestId ? { requestId } : {}),
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as Team;
  };
  const connect = async (team: Team, consentId: string, requestId?: string) => {
    const response = await as(team)('POST', '/api/banking/connect', {
      body: {
        teamId: team.teamId,
        provider: 'sandbox',
        providerId: 'sandbox-gb',
        consentId,
        metadata: SMALL_BANK,
      },
      ...(requestId ? { requestId } : {}),
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as { id: string; consents: { id: string }[] };
  };
  return { call, as, admin, auditPage, auditOf, createTeam, connect, served };
}

/** The one event of the log that has this action and target. */
function onlyEvent(events: AuditEventBody[], action: string, targetId: string): AuditEventBody {
  const matching = events.filter((event) => event.action === action && event.target.id === targetId);
  expect(matching, `${action} on ${targetId}`).toHaveLength(1);
  return matching[0] as AuditEventBody;
}

describe('audit log', () => {
  const clock = new TestClock();
  const encryptionKey = randomBytes(32).toString('base64');
  let t: TestApp;
  let h: Awaited<ReturnType<typeof harness>>;
  /** Every credential handed out in this file, none of which may reach the log. */
  const secrets: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ clock, env: { ENCRYPTION_KEY: encryptionKey } });
    h = await harness(t);
  });
  afterAll(() => t.close());

  const newTeam = async (requestId?: string) => {
    const team = await h.createTeam(requestId);
    secrets.push(team.apiKey);
    return team;
  };

  describe('admin changes', () => {
    it('records team.created and the first key as api_key.created, by the admin, in the request', async () => {
      const team = await newTeam('create-team-1');
      const events = await h.auditOf(team.teamId);
      expect(events.map((event) => event.action).sort()).toEqual(['api_key.created', 'team.created']);
      const created = onlyEvent(events, 'team.created', team.teamId);
      expect(created).toMatchObject({
        teamId: team.teamId,
        occurredAt: clock.now().toISOString(),
        actor: { type: 'admin', keyId: null },
        target: { type: 'team', id: team.teamId },
        requestId: 'create-team-1',
        details: { name: 'Audited' },
      });
      expect(onlyEvent(events, 'api_key.created', team.keyId)).toMatchObject({
        actor: { type: 'admin', keyId: null },
        target: { type: 'api_key', id: team.keyId },
        requestId: 'create-team-1',
      });
    });

    it('records an issued key and its revocation once; a second revoke records nothing', async () => {
      const team = await newTeam();
      const issued = await h.admin('POST', `/api/admin/teams/${team.teamId}/keys`, { requestId: 'issue-1' });
      expect(issued.statusCode, issued.body).toBe(201);
      const key = issued.json() as { apiKey: string; keyId: string };
      secrets.push(key.apiKey);
      clock.advanceDays(1 / 24);
      const revokeUrl = `/api/admin/teams/${team.teamId}/keys/${key.keyId}`;
      expect((await h.admin('DELETE', revokeUrl, { requestId: 'revoke-1' })).statusCode).toBe(204);
      expect((await h.admin('DELETE', revokeUrl, { requestId: 'revoke-2' })).statusCode).toBe(204);

      const events = await h.auditOf(team.teamId, { targetId: key.keyId });
      expect(events.map((event) => [event.action, event.requestId])).toEqual([
        ['api_key.revoked', 'revoke-1'],
        ['api_key.created', 'issue-1'],
      ]);
      expect(events[0]).toMatchObject({
        occurredAt: clock.now().toISOString(),
        actor: { type: 'admin', keyId: null },
        target: { type: 'api_key', id: key.keyId },
        details: {},
      });
    });

    it('records nothing for admin requests that fail: an existing team id, an unknown team or key', async () => {
      const team = await newTeam();
      const before = await h.auditOf(team.teamId);
      const taken = await h.admin('POST', '/api/admin/teams', { body: { name: 'Again', id: team.teamId } });
      expectProblem(taken, 409);
      expectProblem(await h.admin('DELETE', `/api/admin/teams/${team.teamId}/keys/ffffffffffffffff`), 404);
      expectProblem(await h.admin('POST', '/api/admin/teams/no-such-team/keys'), 404);
      expectProblem(await h.admin('POST', '/api/admin/teams', { body: { name: '' } }), 400);
      expect(await h.auditOf(team.teamId)).toEqual(before);
    });
  });

  describe('connections and consents', () => {
    it("records connection.created with the key, the request id and the clock's time", async () => {
      const team = await newTeam();
      clock.advanceDays(1 / 24);
      const connection = await h.connect(team, 'audit-connect-1', 'connect-1');
      const event = onlyEvent(await h.auditOf(team.teamId), 'connection.created', connection.id);
      expect(event).toMatchObject({
        teamId: team.teamId,
        occurredAt: clock.now().toISOString(),
        actor: { type: 'api_key', keyId: team.keyId },
        target: { type: 'connection', id: connection.id },
        requestId: 'connect-1',
        details: {
          provider: 'sandbox',
          providerId: 'sandbox-gb',
          consentId: connection.consents[0]?.id,
          scopes: ['accounts', 'balances', 'transactions'],
        },
      });
      // The bank's consent id can be a credential (Plaid's public token): it is not recorded.
      expect(JSON.stringify(event)).not.toContain('audit-connect-1');
    });

    it('records the key that made the change, when the team has several', async () => {
      const team = await newTeam();
      const second = (await h.admin('POST', `/api/admin/teams/${team.teamId}/keys`)).json() as Team;
      secrets.push(second.apiKey);
      const response = await h.as({ ...team, apiKey: second.apiKey })('POST', '/api/banking/connect', {
        body: {
          teamId: team.teamId,
          provider: 'sandbox',
          providerId: 'sandbox-gb',
          consentId: 'second-key-1',
        },
      });
      expect(response.statusCode, response.body).toBe(201);
      const event = onlyEvent(await h.auditOf(team.teamId), 'connection.created', response.json().id);
      expect(event.actor).toEqual({ type: 'api_key', keyId: second.keyId });
    });

    it('records consent.renewed on the connection with the old and the new consent ids', async () => {
      const team = await newTeam();
      const connection = await h.connect(team, 'audit-renew-1');
      clock.advanceDays(1 / 24);
      const renewed = await h.as(team)('POST', '/api/banking/consent', {
        requestId: 'renew-1',
        body: {
          teamId: team.teamId,
          connectionId: connection.id,
          scopes: ['accounts', 'balances'],
          expiresAt: new Date(clock.now().getTime() + 30 * 24 * HOUR).toISOString(),
          consentId: 'audit-renew-1~2',
        },
      });
      expect(renewed.statusCode, renewed.body).toBe(200);
      const newConsent = renewed.json() as { id: string; expiresAt: string };
      const event = onlyEvent(await h.auditOf(team.teamId), 'consent.renewed', connection.id);
      expect(event).toMatchObject({
        occurredAt: clock.now().toISOString(),
        actor: { type: 'api_key', keyId: team.keyId },
        target: { type: 'connection', id: connection.id },
        requestId: 'renew-1',
        details: {
          previousConsentIds: [connection.consents[0]?.id],
          consentId: newConsent.id,
          scopes: ['accounts', 'balances'],
          expiresAt: newConsent.expiresAt,
          movedToNewBankConsent: true,
        },
      });
      expect(JSON.stringify(event)).not.toContain('audit-renew-1');
    });

    it('records connection.disconnected once: a second disconnect changes nothing and records nothing', async () => {
      const team = await newTeam();
      const connection = await h.connect(team, 'audit-disconnect-1');
      clock.advanceDays(1 / 24);
      const body = { teamId: team.teamId, connectionId: connection.id };
      const first = await h.as(team)('POST', '/api/banking/disconnect', { body, requestId: 'disconnect-1' });
      expect(first.statusCode, first.body).toBe(200);
      const at = clock.now().toISOString();
      clock.advanceDays(1 / 24);
      const second = await h.as(team)('POST', '/api/banking/disconnect', { body, requestId: 'disconnect-2' });
      expect(second.statusCode, second.body).toBe(200);

      const events = await h.auditOf(team.teamId, { action: 'connection.disconnected' });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        occurredAt: at,
        actor: { type: 'api_key', keyId: team.keyId },
        target: { type: 'connection', id: connection.id },
        requestId: 'disconnect-1',
        details: { revokedConsentIds: [connection.consents[0]?.id] },
      });
    });

    it('records nothing for requests that fail with 400, 404, 409 or 422', async () => {
      const team = await newTeam();
      const connection = await h.connect(team, 'audit-failures-1');
      const before = await h.auditOf(team.teamId);
      const post = (url: string, body: object) =>
        h.as(team)('POST', url, { body: { teamId: team.teamId, ...body } });

      expectValidationProblem(await post('/api/banking/connect', { provider: 'sandbox' }), [
        '/providerId',
        '/consentId',
      ]);
      expectProblem(await post('/api/banking/disconnect', { connectionId: 'conn_missing' }), 404);
      expectProblem(
        await post('/api/banking/connect', {
          provider: 'sandbox',
          providerId: 'sandbox-gb',
          consentId: 'audit-failures-1',
        }),
        409,
      );
      // Refused by the bank: nothing of the connection is kept, its audit row included.
      expectProblem(
        await post('/api/banking/connect', {
          provider: 'sandbox',
          providerId: 'sandbox-gb',
          consentId: 'sandbox-expired-audit',
        }),
        422,
      );
      expectProblem(
        await post('/api/banking/consent', {
          connectionId: connection.id,
          scopes: ['accounts'],
          expiresAt: '2000-01-01',
        }),
        400,
      );
      expectProblem(await post('/api/banking/sync', { connectionId: 'conn_missing' }), 404);
      expectProblem(
        await h.as(team)('DELETE', `/api/banking/webhooks/whe_missing?teamId=${team.teamId}`),
        404,
      );
      expect(await h.auditOf(team.teamId)).toEqual(before);

      await post('/api/banking/disconnect', { connectionId: connection.id });
      const afterDisconnect = await h.auditOf(team.teamId);
      const renew = await post('/api/banking/consent', {
        connectionId: connection.id,
        scopes: ['accounts'],
        expiresAt: '2099-01-01',
      });
      expectProblem(renew, 409, 'CONNECTION_DISCONNECTED');
      expectProblem(await post('/api/banking/sync', { connectionId: connection.id }), 409);
      expect(await h.auditOf(team.teamId)).toEqual(afterDisconnect);
    });

    it('keeps the row of the connect that won a race for a consent id, and none of the one rolled back', async () => {
      const team = await newTeam();
      const body = {
        teamId: team.teamId,
        provider: 'sandbox',
        providerId: 'sandbox-gb',
        consentId: 'raced-1',
      };
      const responses = await Promise.all(
        [1, 2, 3].map(() => h.as(team)('POST', '/api/banking/connect', { body })),
      );
      const won = responses.filter((response) => response.statusCode === 201);
      expect(won).toHaveLength(1);
      for (const lost of responses.filter((response) => response.statusCode !== 201))
        expectProblem(lost, 409);
      const events = await h.auditOf(team.teamId, { action: 'connection.created' });
      expect(events.map((event) => event.target.id)).toEqual([won[0]?.json().id]);
      expect(events[0]?.requestId).toBe(won[0]?.headers['x-request-id']);
    });
  });

  describe('sync', () => {
    it('records an explicit sync as connection.synced by the key, with what it changed', async () => {
      const team = await newTeam();
      const connection = await h.connect(team, 'audit-sync-1');
      clock.advanceDays(1 / 24);
      const response = await h.as(team)('POST', '/api/banking/sync', {
        body: { teamId: team.teamId, connectionId: connection.id },
        requestId: 'sync-1',
      });
      expect(response.statusCode, response.body).toBe(200);
      const { sync } = response.json() as { sync: Record<string, number> };
      expect(onlyEvent(await h.auditOf(team.teamId), 'connection.synced', connection.id)).toMatchObject({
        occurredAt: clock.now().toISOString(),
        actor: { type: 'api_key', keyId: team.keyId },
        target: { type: 'connection', id: connection.id },
        requestId: 'sync-1',
        details: { status: 'SUCCEEDED', ...sync },
      });
    });

    it('records nothing for an explicit sync the bank fails (the request fails and writes nothing)', async () => {
      const team = await newTeam();
      const connection = await h.connect(team, 'sandbox-outage-explicit');
      const before = await h.auditOf(team.teamId);
      const response = await h.as(team)('POST', '/api/banking/sync', {
        body: { teamId: team.teamId, connectionId: connection.id },
      });
      expectProblem(response, 502);
      expect(await h.auditOf(team.teamId)).toEqual(before);
    });

    it('records a failed async sync as connection.sync_failed by the key and request that queued it', async () => {
      const team = await newTeam();
      const connection = await h.connect(team, 'sandbox-outage-async');
      const response = await h.as(team)('POST', '/api/banking/sync', {
        body: { teamId: team.teamId, connectionId: connection.id, async: true },
        requestId: 'sync-async-1',
      });
      expect(response.statusCode, response.body).toBe(202);
      let events: AuditEventBody[] = [];
      for (let i = 0; i < 100; i++) {
        events = await h.auditOf(team.teamId, { action: 'connection.sync_failed' });
        if (events.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        occurredAt: clock.now().toISOString(),
        actor: { type: 'api_key', keyId: team.keyId },
        target: { type: 'connection', id: connection.id },
        requestId: 'sync-async-1',
        details: { status: 'FAILED', code: 'PROVIDER_UNAVAILABLE' },
      });
    });
  });

  describe('webhook endpoints', () => {
    it('records webhook_endpoint.created and .deleted, without the secret or the URL path', async () => {
      const team = await newTeam();
      const created = await h.as(team)('POST', '/api/banking/webhooks', {
        body: {
          teamId: team.teamId,
          url: 'https://hooks.example.com/t/private-token-123',
          events: ['sync.failed'],
        },
        requestId: 'webhook-create-1',
      });
      expect(created.statusCode, created.body).toBe(201);
      const endpoint = created.json() as { id: string; secret: string };
      secrets.push(endpoint.secret);
      clock.advanceDays(1 / 24);
      const deleted = await h.as(team)('DELETE', `/api/banking/webhooks/${endpoint.id}`, {
        query: { teamId: team.teamId },
        requestId: 'webhook-delete-1',
      });
      expect(deleted.statusCode, deleted.body).toBe(204);
      const again = await h.as(team)('DELETE', `/api/banking/webhooks/${endpoint.id}`, {
        query: { teamId: team.teamId },
      });
      expectProblem(again, 404);

      const events = await h.auditOf(team.teamId, { targetId: endpoint.id });
      expect(events.map((event) => [event.action, event.requestId])).toEqual([
        ['webhook_endpoint.deleted', 'webhook-delete-1'],
        ['webhook_endpoint.created', 'webhook-create-1'],
      ]);
      expect(events[1]).toMatchObject({
        actor: { type: 'api_key', keyId: team.keyId },
        target: { type: 'webhook_endpoint', id: endpoint.id },
        details: { origin: 'https://hooks.example.com', events: ['sync.failed'] },
      });
      expect(events[0]?.occurredAt).toBe(clock.now().toISOString());
      expect(JSON.stringify(events)).not.toContain('private-token-123');
    });
  });

  describe('GET /api/admin/teams/:teamId/audit', () => {
    it("shows a team only its own events: none of another team's", async () => {
      const a = await newTeam();
      const b = await newTeam();
      const connectionA = await h.connect(a, 'tenancy-a');
      const connectionB = await h.connect(b, 'tenancy-b');
      const eventsA = await h.auditOf(a.teamId);
      const eventsB = await h.auditOf(b.teamId);
      for (const event of eventsA) expect(event.teamId).toBe(a.teamId);
      for (const event of eventsB) expect(event.teamId).toBe(b.teamId);
      expect(JSON.stringify(eventsA)).not.toContain(connectionB.id);
      expect(JSON.stringify(eventsA)).not.toContain(b.keyId);
      expect(JSON.stringify(eventsB)).not.toContain(connectionA.id);
      // Another team's target id filters to nothing rather than leaking across.
      expect(await h.auditOf(a.teamId, { targetId: connectionB.id })).toEqual([]);
    });

    it('pages newest first across pages by nextCursor and the Link header, and filters on every page', async () => {
      const team = await newTeam();
      const connection = await h.connect(team, 'paging-1');
      const disconnectLater = await h.connect(team, 'paging-2');
      for (let i = 0; i < 3; i++) {
        clock.advanceDays(1 / 24);
        await h.as(team)('POST', '/api/banking/sync', {
          body: { teamId: team.teamId, connectionId: connection.id },
        });
      }
      // Same time for several rows: the id breaks the tie.
      for (let i = 0; i < 3; i++) {
        await h.as(team)('POST', '/api/banking/sync', {
          body: { teamId: team.teamId, connectionId: connection.id },
        });
      }
      await h.as(team)('POST', '/api/banking/disconnect', {
        body: { teamId: team.teamId, connectionId: disconnectLater.id },
      });
      const all = await h.auditOf(team.teamId);
      expect(all).toHaveLength(2 + 2 + 6 + 1);
      const order = [...all].sort((x, y) =>
        x.occurredAt === y.occurredAt ? (x.id < y.id ? 1 : -1) : x.occurredAt < y.occurredAt ? 1 : -1,
      );
      expect(all.map((event) => event.id)).toEqual(order.map((event) => event.id));

      const seen: AuditEventBody[] = [];
      let page = await h.auditPage(team.teamId, { limit: '4' });
      const pages = [page.body];
      while (page.body.nextCursor) {
        const link = nextLink(page.response);
        expect(link).toContain(`cursor=${page.body.nextCursor}`);
        expect(link).toContain('limit=4');
        const next = await h.admin('GET', link as string);
        expect(next.statusCode, next.body).toBe(200);
        h.served.push(next.body);
        page = { response: next, body: next.json() as AuditPageBody };
        pages.push(page.body);
      }
      expect(nextLink(page.response)).toBeNull();
      for (const body of pages) seen.push(...body.data);
      expect(pages.map((body) => body.data.length)).toEqual([4, 4, 3]);
      expect(seen.map((event) => event.id)).toEqual(all.map((event) => event.id));

      const synced: AuditEventBody[] = [];
      let cursor: string | null = null;
      do {
        const query: Record<string, string> = {
          limit: '2',
          action: 'connection.synced',
          targetId: connection.id,
        };
        if (cursor) query.cursor = cursor;
        const { body } = await h.auditPage(team.teamId, query);
        synced.push(...body.data);
        cursor = body.nextCursor;
      } while (cursor);
      expect(synced.map((event) => event.id)).toEqual(
        all.filter((event) => event.action === 'connection.synced').map((event) => event.id),
      );
      expect(synced).toHaveLength(6);
    });

    it('answers 404 for a team that does not exist, and 400 for a bad limit, cursor or action', async () => {
      const team = await newTeam();
      expectProblem(await h.admin('GET', '/api/admin/teams/no-such-team/audit'), 404);
      const url = `/api/admin/teams/${team.teamId}/audit`;
      expectValidationProblem(await h.admin('GET', url, { query: { limit: '0' } }), ['/limit']);
      expectValidationProblem(await h.admin('GET', url, { query: { limit: '501' } }), ['/limit']);
      expectValidationProblem(await h.admin('GET', url, { query: { cursor: 'not-a-cursor' } }), ['/cursor']);
      expectValidationProblem(await h.admin('GET', url, { query: { action: 'team.deleted' } }), ['/action']);
      const { body } = await h.auditPage(team.teamId);
      expect(body.data.length).toBeGreaterThan(0);
    });

    it('needs the admin token: 401 without it, with a wrong one, or with a team key', async () => {
      const team = await newTeam();
      const url = `/api/admin/teams/${team.teamId}/audit`;
      expectUnauthorized(await h.call('GET', url));
      expectUnauthorized(await h.call('GET', url, { authorization: bearer(`${ADMIN_TOKEN}-wrong`) }));
      expectUnauthorized(await h.call('GET', url, { authorization: bearer(team.apiKey) }));
    });

    it('never shows a credential: no API key, key hash or webhook secret in any audit answer or row', async () => {
      expect(secrets.length).toBeGreaterThan(5);
      const dump = rowsOf<{ row: string }>(
        await t.database.db.execute(sql`select a::text as row from audit_events a`),
      )
        .map((row) => row.row)
        .join('\n');
      expect(dump.length).toBeGreaterThan(0);
      const sealedStates = rowsOf<{ state: string | null }>(
        await t.database.db.execute(sql`select provider_state as state from connections`),
      ).flatMap((row) => (row.state ? [row.state] : []));
      const everything = [...h.served, dump].join('\n');
      for (const secret of [...secrets, ...secrets.map(hashSecret), ...sealedStates]) {
        expect(everything).not.toContain(secret);
      }
    });
  });
});

describe('audit log of the background scheduler', () => {
  const clock = new TestClock();
  let t: TestApp;
  let team: Team;

  beforeAll(async () => {
    t = await startTestApp({ clock });
    team = await t.createTeam();
  });
  afterAll(() => t.close());

  it('records background syncs as the system, with no key and no request id', async () => {
    const client = t.as(team);
    const connect = async (consentId: string) => {
      const response = await client.post('/api/banking/connect', {
        teamId: team.teamId,
        provider: 'sandbox',
        providerId: 'sandbox-gb',
        consentId,
        metadata: SMALL_BANK,
      });
      expect(response.statusCode, response.body).toBe(201);
      return response.json() as { id: string };
    };
    const healthy = await connect('background-1');
    const failing = await connect('sandbox-outage-background');
    const scheduler = sandboxScheduler(t.database.db, clock);
    clock.advanceDays(1 / 24);
    expect(await scheduler.runOnce()).toBe(2);

    const check = await createOpenApiChecker(t.app);
    const url = `/api/admin/teams/${team.teamId}/audit`;
    const response = await t.app.inject({
      method: 'GET',
      url,
      headers: { authorization: bearer(ADMIN_TOKEN) },
    });
    check('GET', url, response);
    const events = (response.json() as AuditPageBody).data;
    const system = {
      actor: { type: 'system', keyId: null },
      requestId: null,
      occurredAt: clock.now().toISOString(),
    };
    expect(onlyEvent(events, 'connection.synced', healthy.id)).toMatchObject({
      ...system,
      details: { status: 'SUCCEEDED' },
    });
    expect(onlyEvent(events, 'connection.sync_failed', failing.id)).toMatchObject({
      ...system,
      details: { status: 'FAILED', code: 'PROVIDER_UNAVAILABLE' },
    });
    expect(events.filter((event) => event.actor.type === 'system')).toHaveLength(2);
  });
});
