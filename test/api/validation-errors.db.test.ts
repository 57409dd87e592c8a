import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { ADMIN_TOKEN, connectSandbox, startTestApp, type Team, type TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/database.js';
import { type DatabaseDump, dumpDatabase, expectSameDump } from '../support/dump.js';
import { DAY_MS, expectValidationProblem } from '../support/fixtures.js';

/**
 * A validation problem lists every bad field the service can tell from the request alone, each
 * once: what the route's schema refuses and what the checks after it (across fields, or against
 * the provider) find, in one problem, whichever of them fails. Such a request reaches no
 * database.
 */
describe('validation problems list every bad field of a request once', () => {
  let t: TestApp;
  let team: Team;
  let connectionId: string;
  /** Every statement the app sent since the last reset, but the API-key lookup of the guard. */
  let statements: string[] = [];

  beforeAll(async () => {
    const testDatabase = await createTestDatabase();
    const handle = await openDatabase({
      databaseUrl: testDatabase.env.DATABASE_URL,
      dataDir: testDatabase.env.DATA_DIR ?? 'memory://',
      poolSize: 5,
      logQuery: (statement) => {
        if (!/from "api_keys"/.test(statement)) statements.push(statement);
      },
    });
    await handle.migrate();
    t = await startTestApp({ testDatabase: { ...testDatabase, open: async () => handle } });
    team = await t.createTeam('validation errors');
    connectionId = (await connectSandbox(t.as(team), team)).id;
  });
  afterAll(() => t.close());
  beforeEach(() => {
    statements = [];
  });

  /** The problem's errors as `<path> <message>`, in order, after checking it is a validation problem. */
  function listed(response: LightMyRequestResponse, paths: string[]): string[] {
    const problem = expectValidationProblem(response, paths);
    return (problem.errors ?? []).map((error) => `${error.in} ${error.path} ${error.message}`);
  }

  const transactions = (query: Record<string, string>) =>
    t.as(team).get('/api/banking/transactions', { teamId: team.teamId, ...query });
  const updateConsent = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    t.as(team).post('/api/banking/consent', { teamId: team.teamId, connectionId, ...body }, headers);
  const connect = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    t.as(team).post('/api/banking/connect', { teamId: team.teamId, provider: 'sandbox', ...body }, headers);
  const inDays = (days: number) => new Date(t.clock.now().getTime() + days * DAY_MS).toISOString();

  describe('a schema error and a later check’s error', () => {
    it('lists a schema error and a later check’s error in one problem (consent: bad scope, expiresAt in the past)', async () => {
      const response = await updateConsent({ scopes: ['x'], expiresAt: '2000-01-01T00:00:00Z' });
      expect(listed(response, ['/scopes/0', '/expiresAt'])).toEqual([
        'body /scopes/0 must be one of "accounts", "balances", "transactions"',
        'body /expiresAt must be in the future',
      ]);
    });

    it('lists an impossible calendar date beside a schema error (transactions: bad type, 2026-02-30)', async () => {
      const response = await transactions({ type: 'X', to: '2026-02-30' });
      expect(listed(response, ['/type', '/to'])).toEqual([
        'query /to is not a real date or date-time',
        'query /type must be one of "CREDIT", "DEBIT"',
      ]);
    });

    it('lists a date outside the years 0001 to 9999 beside a schema error', async () => {
      const response = await transactions({ limit: '0', from: '9999-12-31T23:00:00-14:00' });
      expect(listed(response, ['/limit', '/from'])).toEqual([
        'query /from must be between the years 0001 and 9999 (UTC)',
        'query /limit must be >= 1',
      ]);
    });

    it('lists `to` before `from` beside a schema error (transactions: limit=0)', async () => {
      const response = await transactions({ limit: '0', from: '2026-11-10', to: '2026-11-01' });
      expect(listed(response, ['/limit', '/to'])).toEqual([
        'query /limit must be >= 1',
        'query /to must not be before `from`',
      ]);
    });

    it('lists a malformed cursor beside a schema error (transactions: limit=0)', async () => {
      const response = await transactions({ limit: '0', cursor: 'zzz' });
      expect(listed(response, ['/limit', '/cursor'])).toEqual([
        'query /limit must be >= 1',
        'query /cursor is not a valid cursor',
      ]);
    });

    it('lists an unknown institution beside a schema error, and the blank consentId once (connect)', async () => {
      const response = await connect({ providerId: 'sandbox-xx', consentId: '' });
      const errors = listed(response, ['/consentId', '/providerId']);
      expect(errors.filter((error) => error.startsWith('body /consentId '))).toHaveLength(1);
      expect(errors).toContainEqual(expect.stringMatching(/^body \/providerId unknown sandbox institution/));
      expect(errors).toHaveLength(2);
    });

    it('lists an unknown provider and bad sandbox options beside a schema error (connect)', async () => {
      const unknownProvider = await connect({
        provider: 'no-such-bank',
        providerId: 'sandbox-gb',
        consentId: 7,
      });
      expect(listed(unknownProvider, ['/provider', '/consentId'])).toHaveLength(2);
      const badOptions = await connect({
        providerId: 'sandbox-gb',
        consentId: '',
        metadata: { sandbox: { accounts: 0 } },
      });
      expect(listed(badOptions, ['/consentId', '/metadata/sandbox/accounts'])).toHaveLength(2);
    });

    it('lists an unknown provider and institution beside a bad redirectUrl (consent link)', async () => {
      const response = await t.as(team).post('/api/banking/consents/link', {
        teamId: team.teamId,
        provider: 'no-such-bank',
        providerId: 'sandbox-gb',
        redirectUrl: 'not a url',
      });
      expect(listed(response, ['/provider', '/redirectUrl'])).toHaveLength(2);
      const institution = await t.as(team).post('/api/banking/consents/link', {
        teamId: team.teamId,
        provider: 'sandbox',
        providerId: 'sandbox-xx',
        redirectUrl: 'not a url',
      });
      expect(listed(institution, ['/providerId', '/redirectUrl'])).toHaveLength(2);
    });
  });

  describe('each bad field once', () => {
    it('lists a field that breaks several rules of its schema once (an empty consentId)', async () => {
      const response = await connect({ providerId: 'sandbox-gb', consentId: '' });
      expect(listed(response, ['/consentId'])).toEqual([
        'body /consentId must NOT have fewer than 1 characters',
      ]);
    });

    it('lists a date of the wrong shape once', async () => {
      const response = await transactions({ from: 'yesterday' });
      expect(listed(response, ['/from'])).toHaveLength(1);
    });

    it('does not run a check across fields on a field the schema refused', async () => {
      const response = await transactions({ from: '2026-11-10', to: 'soon' });
      expect(listed(response, ['/to'])).toHaveLength(1);
      const consent = await updateConsent({ scopes: ['accounts'], expiresAt: 'never' });
      expect(listed(consent, ['/expiresAt'])).toHaveLength(1);
    });
  });

  describe('the later checks alone', () => {
    it('still answer their own messages when the schema passes', async () => {
      expect(listed(await transactions({ from: '2026-11-10', to: '2026-11-01' }), ['/to'])).toEqual([
        'query /to must not be before `from`',
      ]);
      expect(listed(await transactions({ from: '2026-02-30', cursor: 'zzz' }), ['/from', '/cursor'])).toEqual(
        ['query /from is not a real date or date-time', 'query /cursor is not a valid cursor'],
      );
      expect(
        listed(await updateConsent({ scopes: ['accounts'], expiresAt: '2000-01-01' }), ['/expiresAt']),
      ).toEqual(['body /expiresAt must be in the future']);
    });

    it('let a valid request through', async () => {
      const response = await updateConsent({ scopes: ['accounts'], expiresAt: inDays(30) });
      expect(response.statusCode, response.body).toBe(200);
    });
  });

  describe('the other routes with a check after their schema', () => {
    it('lists an unknown provider beside a bad country (institutions)', async () => {
      const response = await t.as(team).get('/api/banking/institutions', {
        teamId: team.teamId,
        provider: 'no-such-bank',
        country: 'G1',
      });
      expect(listed(response, ['/country', '/provider'])).toHaveLength(2);
    });

    it('lists a webhook URL the service may not call beside a bad event type', async () => {
      const response = await t.as(team).post('/api/banking/webhooks', {
        teamId: team.teamId,
        url: 'http://example.com/hooks',
        events: ['no.such.event'],
      });
      expect(listed(response, ['/events/0', '/url'])).toHaveLength(2);
    });

    it("lists a cursor not of ours beside a bad limit (a team's audit log)", async () => {
      const response = await t.app.inject({
        method: 'GET',
        url: `/api/admin/teams/${team.teamId}/audit?limit=0&cursor=zzz`,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(listed(response, ['/limit', '/cursor'])).toEqual([
        'query /limit must be >= 1',
        'query /cursor is not a valid cursor',
      ]);
    });
  });

  describe('a request the service can tell is invalid from the request alone', () => {
    let before: DatabaseDump;
    beforeEach(async () => {
      before = await dumpDatabase(t.database);
      statements = [];
    });

    it('sends no statement to the database and writes nothing, even with an Idempotency-Key', async () => {
      const key = { 'idempotency-key': 'validation-errors-1' };
      const requests = [
        () => updateConsent({ scopes: ['x'], expiresAt: '2000-01-01T00:00:00Z' }, key),
        () => updateConsent({ scopes: ['accounts'], expiresAt: '2000-01-01T00:00:00Z' }, key),
        () => connect({ providerId: 'sandbox-xx', consentId: 'fresh-consent' }, key),
        () => connect({ providerId: 'sandbox-xx', consentId: '' }, key),
        () => transactions({ limit: '0', cursor: 'zzz' }),
        () => transactions({ from: '2026-11-10', to: '2026-11-01' }),
      ];
      for (const request of requests) {
        const response = await request();
        expect(response.statusCode, response.body).toBe(400);
      }
      expect(statements).toEqual([]);
      expectSameDump(await dumpDatabase(t.database), before);
    });
  });
});
