import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_TOKEN, startTestApp, type Team, type TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/database.js';
import { expectProblem, expectValidationProblem, type Json } from '../support/fixtures.js';
import { bearer, expectUnauthorized, revokeKey, send, unknownId } from '../support/security.js';

const admin = bearer(ADMIN_TOKEN);

describe('admin API: teams and API keys', () => {
  let t: TestApp;
  // `null`: no Authorization header at all.
  const createTeam = (body: unknown, authorization: string | null = admin) =>
    send(t, { method: 'POST', url: '/api/admin/teams', authorization: authorization ?? undefined, body });
  const createKey = (teamId: string, authorization: string | null = admin) =>
    send(t, {
      method: 'POST',
      url: `/api/admin/teams/${encodeURIComponent(teamId)}/keys`,
      authorization: authorization ?? undefined,
    });
  const listAs = (teamId: string, apiKey: string) =>
    send(t, {
      method: 'GET',
      url: '/api/banking/connections',
      authorization: bearer(apiKey),
      query: { teamId },
    });

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  describe('POST /api/admin/teams', () => {
    it('creates a team from a name and answers 201 {teamId, apiKey} with a key that works', async () => {
      const response = await createTeam({ name: 'Acme Ltd' });
      expect(response.statusCode, response.body).toBe(201);
      expect(String(response.headers['content-type'])).toMatch(/^application\/json/);
      const body = response.json() as { teamId: string; apiKey: string };
      expect(typeof body.teamId).toBe('string');
      expect(body.teamId.length).toBeGreaterThan(0);
      expect(typeof body.apiKey).toBe('string');
      expect(body.apiKey.length).toBeGreaterThanOrEqual(32);
      const list = await listAs(body.teamId, body.apiKey);
      expect(list.statusCode, list.body).toBe(200);
      expect(list.json()).toEqual([]);
    });

    it('creates a team with the id asked for', async () => {
      const response = await createTeam({ name: 'Chosen id', id: 'acme-chosen-1' });
      expect(response.statusCode, response.body).toBe(201);
      const body = response.json() as { teamId: string; apiKey: string };
      expect(body.teamId).toBe('acme-chosen-1');
      expect((await listAs('acme-chosen-1', body.apiKey)).statusCode).toBe(200);
    });

    it('issues random keys: two teams never get the same key or id', async () => {
      const first = (await createTeam({ name: 'Twin' })).json() as Team;
      const second = (await createTeam({ name: 'Twin' })).json() as Team;
      expect(first.teamId).not.toBe(second.teamId);
      expect(first.apiKey).not.toBe(second.apiKey);
    });

    it('answers 409 for an id that already exists, and keeps the existing team and its key', async () => {
      const original = (await createTeam({ name: 'Original', id: 'acme-dup' })).json() as Team;
      const duplicate = await createTeam({ name: 'Impostor', id: 'acme-dup' });
      expectProblem(duplicate, 409);
      expect(duplicate.body).not.toContain('apiKey');
      expect((await listAs('acme-dup', original.apiKey)).statusCode).toBe(200);
    });

    it.each<[string, unknown, string[]]>([
      ['an empty object', {}, ['/name']],
      ['a name that is not a string', { name: 123 }, ['/name']],
      ['an empty name', { name: '' }, ['/name']],
      ['an id that is not a string', { name: 'X', id: 42 }, ['/id']],
      ['an empty id', { name: 'X', id: '' }, ['/id']],
      ['a name and an id both of the wrong type', { name: ['X'], id: { a: 1 } }, ['/name', '/id']],
    ])('answers 400 naming the bad field for %s', async (_, body, paths) => {
      expectValidationProblem(await createTeam(body), paths);
    });

    it.each<[string, string]>([
      ['malformed JSON', '{"name": '],
      ['a JSON array', '[{"name":"X"}]'],
      ['JSON null', 'null'],
      ['a JSON string', '"X"'],
    ])('answers 400 for %s', async (_, payload) => {
      const response = await send(t, {
        method: 'POST',
        url: '/api/admin/teams',
        authorization: admin,
        body: payload,
        headers: { 'content-type': 'application/json' },
      });
      expectProblem(response, 400);
    });

    it.each<[string, string | null, string]>([
      ['no Authorization header', null, 'intruder-1'],
      ['a wrong admin token', bearer(`${ADMIN_TOKEN}-wrong`), 'intruder-2'],
      ['a prefix of the admin token', bearer(ADMIN_TOKEN.slice(0, -1)), 'intruder-3'],
      ['the admin token in a Basic scheme', `Basic ${ADMIN_TOKEN}`, 'intruder-4'],
      ['an empty bearer token', 'Bearer ', 'intruder-5'],
    ])('answers 401 with WWW-Authenticate for %s and creates nothing', async (_, authorization, id) => {
      expectUnauthorized(await createTeam({ name: 'Intruder', id }, authorization));
      // The id is still free: nothing was written.
      expect((await createTeam({ name: 'Intruder check', id })).statusCode).toBe(201);
    });

    it("answers 401 to a team's own API key: a team key is not an admin token", async () => {
      const team = await t.createTeam('Not an admin');
      expectUnauthorized(await createTeam({ name: 'Escalation' }, bearer(team.apiKey)));
      expectUnauthorized(await createKey(team.teamId, bearer(team.apiKey)));
    });

    it('a team whose creation failed does not exist afterwards', async () => {
      expectUnauthorized(await createTeam({ name: 'Ghost', id: 'ghost-team' }, bearer('nope')));
      expectProblem(await createKey('ghost-team'), 404);
      const created = await createTeam({ name: 'Ghost', id: 'ghost-team' });
      expect(created.statusCode, created.body).toBe(201);
    });
  });

  describe('POST /api/admin/teams/:teamId/keys', () => {
    it('issues another key: 201 {apiKey, keyId}, a new key that works alongside the first', async () => {
      const team = await t.createTeam('Two keys');
      const response = await createKey(team.teamId);
      expect(response.statusCode, response.body).toBe(201);
      const body = response.json() as { apiKey: string; keyId: string };
      expect(typeof body.apiKey).toBe('string');
      expect(typeof body.keyId).toBe('string');
      expect(body.apiKey).not.toBe(team.apiKey);
      expect(body.keyId).not.toBe(team.keyId);
      expect((await listAs(team.teamId, body.apiKey)).statusCode).toBe(200);
      expect((await listAs(team.teamId, team.apiKey)).statusCode).toBe(200);
    });

    it('issues a key to a client that labels its empty request JSON, as many HTTP clients do', async () => {
      const team = await t.createTeam('Labelled');
      const response = await send(t, {
        method: 'POST',
        url: `/api/admin/teams/${team.teamId}/keys`,
        authorization: admin,
        body: '',
        headers: { 'content-type': 'application/json' },
      });
      expect(response.statusCode, response.body).toBe(201);
      const revoked = await send(t, {
        method: 'DELETE',
        url: `/api/admin/teams/${team.teamId}/keys/${(response.json() as { keyId: string }).keyId}`,
        authorization: admin,
        body: '',
        headers: { 'content-type': 'application/json' },
      });
      expect(revoked.statusCode, revoked.body).toBe(204);
    });

    it('answers 404 for an unknown team', async () => {
      expectProblem(await createKey('no-such-team'), 404);
      expectProblem(await createKey(unknownId('team')), 404);
    });

    it('answers 401 without the admin token', async () => {
      const team = await t.createTeam('Guarded');
      expectUnauthorized(await createKey(team.teamId, null));
      expectUnauthorized(await createKey(team.teamId, bearer('wrong-token')));
    });
  });

  describe('DELETE /api/admin/teams/:teamId/keys/:keyId', () => {
    it('revokes a key: 204 with no body, then that key gets 401 and the other key still works', async () => {
      const team = await t.createTeam('Revoker');
      const second = (await createKey(team.teamId)).json() as { apiKey: string; keyId: string };
      const response = await revokeKey(t, team.teamId, second.keyId, ADMIN_TOKEN);
      expect(response.statusCode, response.body).toBe(204);
      expect(response.body).toBe('');
      expectUnauthorized(await listAs(team.teamId, second.apiKey));
      expect((await listAs(team.teamId, team.apiKey)).statusCode).toBe(200);
    });

    it("revokes a team's first key (the one returned at creation)", async () => {
      const team = await t.createTeam('First key');
      expect((await revokeKey(t, team.teamId, team.keyId, ADMIN_TOKEN)).statusCode).toBe(204);
      expectUnauthorized(await listAs(team.teamId, team.apiKey));
    });

    it('answers 404 for an unknown key, an unknown team, or a key of another team (which stays valid)', async () => {
      const team = await t.createTeam('Owner');
      const other = await t.createTeam('Other');
      expectProblem(await revokeKey(t, team.teamId, 'ffffffffffffffff', ADMIN_TOKEN), 404);
      expectProblem(await revokeKey(t, team.teamId, unknownId('key'), ADMIN_TOKEN), 404);
      expectProblem(await revokeKey(t, 'no-such-team', team.keyId, ADMIN_TOKEN), 404);
      expectProblem(await revokeKey(t, other.teamId, team.keyId, ADMIN_TOKEN), 404);
      expect((await listAs(team.teamId, team.apiKey)).statusCode).toBe(200);
    });

    it('answers 401 without the admin token and leaves the key valid', async () => {
      const team = await t.createTeam('Protected key');
      const response = await send(t, {
        method: 'DELETE',
        url: `/api/admin/teams/${team.teamId}/keys/${team.keyId}`,
        authorization: bearer(team.apiKey),
      });
      expectUnauthorized(response);
      expectUnauthorized(
        await send(t, { method: 'DELETE', url: `/api/admin/teams/${team.teamId}/keys/${team.keyId}` }),
      );
      expect((await listAs(team.teamId, team.apiKey)).statusCode).toBe(200);
    });
  });

  it('stores API keys only as hashes: no issued key appears anywhere in the database', async () => {
    const team = await t.createTeam('Hashed');
    const second = (await createKey(team.teamId)).json() as { apiKey: string };
    const tables = await rows(
      t,
      sql`select table_name from information_schema.tables where table_schema = 'public'`,
    );
    expect(tables.length).toBeGreaterThan(0);
    let dump = '';
    for (const { table_name } of tables) {
      const content = await rows(t, sql.raw(`select t::text as row from "${String(table_name)}" t`));
      dump += content.map((r) => String(r.row)).join('\n');
    }
    expect(dump).toContain(team.teamId);
    for (const key of [team.apiKey, second.apiKey]) {
      expect(dump).not.toContain(key);
      expect(dump).not.toContain(key.slice(-32));
    }
  });
});

async function rows(t: TestApp, query: Parameters<TestApp['database']['db']['execute']>[0]): Promise<Json[]> {
  const result = (await t.database.db.execute(query)) as unknown as { rows: Json[] };
  return result.rows;
}

describe('admin API without ADMIN_TOKEN', () => {
  it.each<[string, Record<string, string>]>([
    ['unset', {}],
    ['empty', { ADMIN_TOKEN: '' }],
  ])('is not served when ADMIN_TOKEN is %s: every admin route answers 404', async (_, env) => {
    const testDatabase = await createTestDatabase();
    const database = await testDatabase.open();
    const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', ...env }), database });
    await app.ready();
    try {
      for (const authorization of [undefined, bearer(ADMIN_TOKEN), bearer(''), 'Bearer undefined']) {
        const headers: Record<string, string> = authorization ? { authorization } : {};
        const create = await app.inject({
          method: 'POST',
          url: '/api/admin/teams',
          headers,
          payload: { name: 'Nope', id: 'nope' },
        });
        expectProblem(create, 404);
        expectProblem(await app.inject({ method: 'POST', url: '/api/admin/teams/nope/keys', headers }), 404);
        expectProblem(
          await app.inject({ method: 'DELETE', url: '/api/admin/teams/nope/keys/abc', headers }),
          404,
        );
      }
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await app.close();
      await database.close();
      await testDatabase.drop();
    }
  });
});
