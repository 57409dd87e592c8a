import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, type Team, type TestApp } from '../support/app.js';
import {
  type ConnectionBody,
  expectProblem,
  expectValidationProblem,
  listConnections,
  useTestApp,
} from '../support/fixtures.js';
import { bearer, send } from '../support/security.js';

const ENCRYPTION_KEY = randomBytes(32).toString('base64');

let counter = 0;
const freshKey = () => `key-${Date.now()}-${++counter}`;
const connectBody = (team: Team, consentId = `consent-${++counter}`) => ({
  teamId: team.teamId,
  provider: 'sandbox',
  providerId: 'sandbox-gb',
  consentId,
});

async function storedKeys(t: TestApp) {
  const result = (await t.database.db.execute(
    sql`select scope, key, status, response_body from idempotency_keys order by scope, key`,
  )) as unknown as { rows: { scope: string; key: string; status: string; response_body: string }[] };
  return result.rows;
}

describe('Idempotency-Key on POST requests', () => {
  const t = useTestApp({ env: { ENCRYPTION_KEY } });
  let team: Team;
  beforeAll(async () => {
    team = await t.createTeam('Idempotent');
  });

  const connect = (key: string | undefined, body: object, who = team) =>
    t.as(who).post('/api/banking/connect', body, key === undefined ? {} : { 'idempotency-key': key });

  it('replays the first response, status and body, with Idempotent-Replayed: true, and acts once', async () => {
    const key = freshKey();
    const body = connectBody(team);
    const first = await connect(key, body);
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const second = await connect(key, body);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
    const connected = (await listConnections(t, team)).filter((c) => c.id === first.json().id);
    expect(connected).toHaveLength(1);
  });

  it('records one audit event for a request and its replays: a replay changes nothing', async () => {
    const key = freshKey();
    const body = connectBody(team);
    const first = await connect(key, body);
    await connect(key, body);
    await connect(key, body);
    const audit = await send(t, {
      method: 'GET',
      url: `/api/admin/teams/${team.teamId}/audit`,
      authorization: bearer(ADMIN_TOKEN),
      query: { targetId: first.json().id },
    });
    expect(audit.statusCode).toBe(200);
    expect(audit.json().data.map((event: { action: string }) => event.action)).toEqual([
      'connection.created',
    ]);
  });

  it('treats the same body in another key order as the same request', async () => {
    const key = freshKey();
    const body = connectBody(team);
    const first = await connect(key, body);
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const second = await connect(key, reordered);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
  });

  it('answers 422 to the same key with a different body, and writes nothing', async () => {
    const key = freshKey();
    expect((await connect(key, connectBody(team))).statusCode).toBe(201);
    const before = await listConnections(t, team);
    expectProblem(await connect(key, connectBody(team)), 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await listConnections(t, team)).toEqual(before);
  });

  it('answers 422 to the same key on another route', async () => {
    const key = freshKey();
    const connection = (await connect(key, connectBody(team))).json() as ConnectionBody;
    const sync = await t
      .as(team)
      .post(
        '/api/banking/sync',
        { teamId: team.teamId, connectionId: connection.id },
        { 'idempotency-key': key },
      );
    expectProblem(sync, 422, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('runs two concurrent requests with one key once: both get the same answer', async () => {
    const key = freshKey();
    const body = connectBody(team);
    const responses = await Promise.all([connect(key, body), connect(key, body), connect(key, body)]);
    for (const response of responses) expect(response.statusCode, response.body).toBe(201);
    expect(new Set(responses.map((r) => r.json().id)).size).toBe(1);
    expect(responses.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(2);
    const connected = (await listConnections(t, team)).filter((c) => c.id === responses[0]?.json().id);
    expect(connected).toHaveLength(1);
  });

  it('runs a concurrent sync once per key while a second key runs its own', async () => {
    const connection = (await connect(undefined, connectBody(team))).json() as ConnectionBody;
    const body = { teamId: team.teamId, connectionId: connection.id };
    const key = freshKey();
    const sync = (k: string) => t.as(team).post('/api/banking/sync', body, { 'idempotency-key': k });
    const [a, b, other] = await Promise.all([sync(key), sync(key), sync(freshKey())]);
    expect([a?.statusCode, b?.statusCode, other?.statusCode]).toEqual([200, 200, 200]);
    expect(a?.json()).toEqual(b?.json());
    expect([a, b].filter((r) => r?.headers['idempotent-replayed'] === 'true')).toHaveLength(1);
    // Two syncs ran, one after the other: whichever ran first imported, the other found nothing new.
    expect(other?.headers['idempotent-replayed']).toBeUndefined();
    const added = [a?.json().sync.transactionsAdded, other?.json().sync.transactionsAdded];
    expect(added.filter((count) => count > 0)).toHaveLength(1);
    expect(added).toContain(0);
  });

  it('keeps keys per team: the same key in another team is that team’s own request', async () => {
    const other = await t.createTeam('Other');
    const key = freshKey();
    const mine = await connect(key, connectBody(team, 'shared-consent'));
    const theirs = await connect(key, connectBody(other, 'shared-consent'), other);
    expect(theirs.statusCode).toBe(201);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.json().id).not.toBe(mine.json().id);
    expect(theirs.json().teamId).toBe(other.teamId);
  });

  it('keeps a key for 24 hours, then lets it run afresh', async () => {
    const connection = (await connect(undefined, connectBody(team))).json() as ConnectionBody;
    const body = { teamId: team.teamId, connectionId: connection.id };
    const key = freshKey();
    const sync = () => t.as(team).post('/api/banking/sync', body, { 'idempotency-key': key });
    const first = await sync();
    t.clock.advanceDays(23 / 24);
    const withinDay = await sync();
    expect(withinDay.headers['idempotent-replayed']).toBe('true');
    expect(withinDay.json()).toEqual(first.json());
    t.clock.advanceDays(2 / 24);
    const nextDay = await sync();
    expect(nextDay.statusCode).toBe(200);
    expect(nextDay.headers['idempotent-replayed']).toBeUndefined();
    expect(nextDay.json().lastSyncedAt).not.toBe(first.json().lastSyncedAt);
  });

  it('does not keep the key of a request that failed: it wrote nothing, so a retry runs again', async () => {
    const key = freshKey();
    const body = { teamId: team.teamId, connectionId: 'con_0000000000000000' };
    const sync = () => t.as(team).post('/api/banking/sync', body, { 'idempotency-key': key });
    expectProblem(await sync(), 404);
    const retry = await sync();
    expectProblem(retry, 404);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect((await storedKeys(t)).filter((row) => row.key === key)).toEqual([]);
  });

  it('refuses a malformed key with a 400 naming the header, before anything runs', async () => {
    const before = await listConnections(t, team);
    for (const key of ['a'.repeat(256), 'has space', 'tab\tinside', 'é']) {
      const response = await send(t, {
        method: 'POST',
        url: '/api/banking/connect',
        authorization: bearer(team.apiKey),
        body: connectBody(team),
        headers: { 'idempotency-key': key },
      });
      expectValidationProblem(response, ['/idempotency-key']);
    }
    expect(await listConnections(t, team)).toEqual(before);
  });

  it('takes over a key whose request died (a crashed process) once its lock has run out', async () => {
    const key = freshKey();
    const body = connectBody(team);
    const first = await connect(key, body);
    // As if the process had crashed while running the request: the key is left IN_PROGRESS.
    await t.database.db.execute(
      sql`update idempotency_keys set status = 'IN_PROGRESS', locked_until = ${new Date(t.clock.now().getTime() - 1000).toISOString()}, response_status = null, response_body = null where key = ${key}`,
    );
    const retry = await connect(key, body);
    // The consent was connected by the first run, so running again is refused, not doubled.
    expectProblem(retry, 409, 'CONSENT_ALREADY_CONNECTED');
    expect((await listConnections(t, team)).filter((c) => c.id === first.json().id)).toHaveLength(1);
  });

  it('keeps responses sealed at rest, since they may hold a credential', async () => {
    const key = freshKey();
    await connect(key, connectBody(team));
    const [row] = (await storedKeys(t)).filter((r) => r.key === key);
    expect(row?.status).toBe('COMPLETED');
    expect(row?.response_body.startsWith('v1.')).toBe(true);
    expect(row?.response_body).not.toContain(team.teamId);
  });

  it('covers the admin API: creating a team twice with one key creates it once and replays its key', async () => {
    const create = () =>
      send(t, {
        method: 'POST',
        url: '/api/admin/teams',
        authorization: bearer(ADMIN_TOKEN),
        body: { name: 'Once' },
        headers: { 'idempotency-key': 'create-once' },
      });
    const first = await create();
    const second = await create();
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
  });

  it('documents the header and its answers on every POST of the OpenAPI document', async () => {
    const document = t.app.swagger() as unknown as {
      paths: Record<
        string,
        Record<string, { parameters?: { in: string; name: string }[]; responses: object }>
      >;
    };
    const posts = Object.entries(document.paths).flatMap(([path, item]) =>
      item.post ? [[path, item.post] as const] : [],
    );
    expect(posts.length).toBeGreaterThanOrEqual(7);
    for (const [path, operation] of posts) {
      const header = operation.parameters?.find((p) => p.in === 'header' && p.name === 'idempotency-key');
      expect(header, path).toBeDefined();
      expect(Object.keys(operation.responses), path).toEqual(expect.arrayContaining(['409', '422']));
    }
  });
});

describe('Idempotency-Key without ENCRYPTION_KEY', () => {
  const t = useTestApp();

  it('does not keep a response holding a credential: a replay says so (409) and nothing runs twice', async () => {
    const create = () =>
      send(t, {
        method: 'POST',
        url: '/api/admin/teams',
        authorization: bearer(ADMIN_TOKEN),
        body: { name: 'Plain', id: 'plain-team' },
        headers: { 'idempotency-key': 'plain-once' },
      });
    expect((await create()).statusCode).toBe(201);
    expectProblem(await create(), 409, 'IDEMPOTENCY_RESPONSE_NOT_KEPT');
    const [row] = await storedKeys(t);
    expect(row?.response_body).toBeNull();
  });

  it('keeps and replays other responses as they were', async () => {
    const team = await t.createTeam('Plain banking');
    const body = connectBody(team);
    const headers = { 'idempotency-key': 'plain-connect' };
    const first = await t.as(team).post('/api/banking/connect', body, headers);
    const second = await t.as(team).post('/api/banking/connect', body, headers);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
  });
});
