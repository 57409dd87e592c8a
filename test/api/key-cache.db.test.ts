import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTwoInstances, type Team } from '../support/app.js';
import { useTestApp } from '../support/fixtures.js';
import { expectUnauthorized, issueKey, listConnectionsWith, revokeKey } from '../support/security.js';

describe('verified API keys are remembered for API_KEY_CACHE_TTL', () => {
  const t = useTestApp({ env: { API_KEY_CACHE_TTL: '1m' } });
  let team: Team;
  beforeAll(async () => {
    team = await t.createTeam('Cached');
  });

  it('refuses a key revoked through this instance at once, even though it was just used', async () => {
    const key = await issueKey(t, team.teamId, ADMIN_TOKEN);
    expect((await listConnectionsWith(t, team, key.apiKey)).statusCode).toBe(200);
    expect((await revokeKey(t, team.teamId, key.keyId, ADMIN_TOKEN)).statusCode).toBe(204);
    expectUnauthorized(await listConnectionsWith(t, team, key.apiKey));
  });

  it('still compares the secret: a cached key id with a wrong secret is 401', async () => {
    expect((await listConnectionsWith(t, team, team.apiKey)).statusCode).toBe(200);
    expectUnauthorized(await listConnectionsWith(t, team, `${team.apiKey.slice(0, -4)}AAAA`));
  });
});

// Two instances on one database: needs PostgreSQL (PGlite is one process's database).
describe.runIf(process.env.DATABASE_URL)('a key revoked through another instance', () => {
  let instances: Awaited<ReturnType<typeof startTwoInstances>>;
  beforeAll(async () => {
    instances = await startTwoInstances({ API_KEY_CACHE_TTL: '1s' });
  });
  afterAll(() => instances?.close());

  it('is refused everywhere once API_KEY_CACHE_TTL has passed', async () => {
    const { first, second } = instances;
    const team = await first.createTeam('Two instances');
    const key = await issueKey(first, team.teamId, ADMIN_TOKEN);
    expect((await listConnectionsWith(second, team, key.apiKey)).statusCode).toBe(200);
    expect((await revokeKey(first, team.teamId, key.keyId, ADMIN_TOKEN)).statusCode).toBe(204);
    expectUnauthorized(await listConnectionsWith(first, team, key.apiKey));
    await sleep(1_100);
    expectUnauthorized(await listConnectionsWith(second, team, key.apiKey));
  });
});
