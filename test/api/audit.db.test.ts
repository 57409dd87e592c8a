import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/keys.js';
import { rowsOf } from '../../src/db/client.js';
import { ADMIN_TOKEN, startTestApp, type Team, type TestApp, TestClock } from '../support/app.js';
import { expectProblem, expectValidationProblem } from '../support/fixtures.js';
import { createOpenApiChecker } from '../support/openapi.js';
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

  describe('GET /api/admin/teams/:teamId/audit', () => {
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
