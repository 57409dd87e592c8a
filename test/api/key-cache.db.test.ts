import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type Team, type TestApp } from '../support/app.js';
import { bearer, expectUnauthorized, issueKey, revokeKey, send } from '../support/security.js';

const listWith = (t: TestApp, team: Team, apiKey: string) =>
  send(t, {
    method: 'GET',
    url: '/api/banking/connections',
    authorization: bearer(apiKey),
    query: { teamId: team.teamId },
  });

describe('verified API keys are remembered for API_KEY_CACHE_TTL', () => {
  let t: TestApp;
  let team: Team;
  beforeAll(async () => {
    t = await startTestApp({ env: { API_KEY_CACHE_TTL: '1m' } });
    team = await t.createTeam('Cached');
  });
  afterAll(() => t.close());

  it('refuses a key revoked through this instance at once, even though it was just used', async () => {
    const key = await issueKey(t, team.teamId, ADMIN_TOKEN);
    expect((await listWith(t, team, key.apiKey)).statusCode).toBe(200);
    expect((await revokeKey(t, team.teamId, key.keyId, ADMIN_TOKEN)).statusCode).toBe(204);
    expectUnauthorized(await listWith(t, team, key.apiKey));
  });

  it('still compares the secret: a cached key id with a wrong secret is 401', async () => {
    expect((await listWith(t, team, team.apiKey)).statusCode).toBe(200);
    expectUnauthorized(await listWith(t, team, `${team.apiKey.slice(0, -4)}AAAA`));
  });
});

// Two instances on one database: needs PostgreSQL (PGlite is one process's database).
describe.runIf(process.env.DATABASE_URL)('a key revoked through another instance', () => {
  let first: TestApp;
  let second: TestApp;
  beforeAll(async () => {
    const env = { API_KEY_CACHE_TTL: '1s' };
    first = await startTestApp({ env });
    second = await startTestApp({ env, testDatabase: first.testDatabase });
  });
  afterAll(async () => {
    await second?.stop();
    await first?.close();
  });

  it('is refused everywhere once API_KEY_CACHE_TTL has passed', async () => {
    const team = await first.createTeam('Two instances');
    const key = await issueKey(first, team.teamId, ADMIN_TOKEN);
    expect((await listWith(second, team, key.apiKey)).statusCode).toBe(200);
    expect((await revokeKey(first, team.teamId, key.keyId, ADMIN_TOKEN)).statusCode).toBe(204);
    expectUnauthorized(await listWith(first, team, key.apiKey));
    await sleep(1_100);
    expectUnauthorized(await listWith(second, team, key.apiKey));
  });
});
