import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countSealedUnderOtherKeys, resealSecrets } from '../../src/db/reseal.js';
import { createSecretBox, keyIdOf } from '../../src/secrets.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/database.js';

const OLD_KEY = Buffer.alloc(32, 1);
const NEW_KEY = Buffer.alloc(32, 2);
const envWith = (current: Buffer, previous?: Buffer) => ({
  ENCRYPTION_KEY: current.toString('base64'),
  ...(previous ? { ENCRYPTION_KEYS_PREVIOUS: previous.toString('base64') } : {}),
  WEBHOOK_ALLOW_LOOPBACK: 'true',
});

describe('ending a key rotation: values sealed under a retired key', () => {
  // On disk, so that what one app wrote is there for the next (PGlite's memory:// is not).
  const dataDir = mkdtempSync(join(tmpdir(), 'reseal-'));
  const databaseReady = createTestDatabase({ dataDir });
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.stop();
    await (await databaseReady).drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const createTeam = (app: TestApp) =>
    app.app.inject({
      method: 'POST',
      url: '/api/admin/teams',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'idempotency-key': 'team-once' },
      payload: { name: 'Rotated', id: 'team_rotated' },
    });

  it('are refused with a 409, not a 500, and named at start, until `reseal` moves them to the new key', async () => {
    const testDatabase = await databaseReady;
    // Under the old key: a team made with an Idempotency-Key (its answer, holding an API key, is
    // kept sealed) and a webhook endpoint (its signing secret is sealed).
    t = await startTestApp({ testDatabase, env: envWith(OLD_KEY) });
    const created = await createTeam(t);
    expect(created.statusCode, created.body).toBe(201);
    const team = created.json();
    const endpoint = await t
      .as(team)
      .post('/api/banking/webhooks', { teamId: team.teamId, url: 'http://127.0.0.1:9/hook' });
    expect(endpoint.statusCode, endpoint.body).toBe(201);
    await t.stop();

    // The old key dropped before resealing: said at start, and a replay is a 409.
    const logLines: string[] = [];
    t = await startTestApp({ testDatabase, env: envWith(NEW_KEY), logLines });
    const warnings = logLines.map((line) => JSON.parse(line)).filter((line) => line.level === 40);
    expect(warnings.map((line) => [line.table, line.count]).sort()).toEqual([
      ['idempotency_keys', 1],
      ['webhook_endpoints', 1],
    ]);
    const lost = await createTeam(t);
    expect(lost.statusCode, lost.body).toBe(409);
    expect(lost.json().code).toBe('IDEMPOTENCY_RESPONSE_NOT_KEPT');
    const outcomes = await resealSecrets(t.database.db, createSecretBox(NEW_KEY), keyIdOf(NEW_KEY));
    expect(outcomes.filter((o) => o.unreadable > 0).map((o) => [o.table, o.unreadable])).toEqual([
      ['webhook_endpoints', 1],
      ['idempotency_keys', 1],
    ]);
    await t.stop();

    // Resealed with both keys configured, then the old one retired for good.
    t = await startTestApp({ testDatabase, env: envWith(NEW_KEY, OLD_KEY) });
    const resealed = await resealSecrets(
      t.database.db,
      createSecretBox(NEW_KEY, [OLD_KEY]),
      keyIdOf(NEW_KEY),
    );
    expect(resealed.map((o) => [o.table, o.resealed, o.unreadable])).toEqual([
      ['connections', 0, 0],
      ['webhook_endpoints', 1, 0],
      ['idempotency_keys', 1, 0],
    ]);
    expect(await countSealedUnderOtherKeys(t.database.db, [keyIdOf(NEW_KEY)])).toEqual([]);
    // A second run finds nothing left to move.
    const again = await resealSecrets(t.database.db, createSecretBox(NEW_KEY, [OLD_KEY]), keyIdOf(NEW_KEY));
    expect(again.every((o) => o.resealed === 0 && o.unreadable === 0)).toBe(true);
    await t.stop();

    t = await startTestApp({ testDatabase, env: envWith(NEW_KEY) });
    const replayed = await createTeam(t);
    expect(replayed.statusCode, replayed.body).toBe(201);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.json()).toEqual(team);
  });
});
