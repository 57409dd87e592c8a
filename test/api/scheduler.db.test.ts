import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_CONTEXT } from '../../src/audit/record.js';
import { createScheduler } from '../../src/banking/sync/scheduler.js';
import { createSyncService } from '../../src/banking/sync/service.js';
import { rowsOf } from '../../src/db/client.js';
import { ProviderError } from '../../src/providers/provider.js';
import { createProviderRegistry } from '../../src/providers/registry.js';
import { SandboxProvider } from '../../src/providers/sandbox/index.js';
import { NO_SECRET_BOX } from '../../src/secrets.js';
import { connectSandbox, startTestApp, type Team, type TestApp, TestClock } from '../support/app.js';
import { listConnections } from '../support/fixtures.js';
import { sandboxScheduler } from '../support/scheduler.js';

const HOUR = 3_600_000;

describe('background sync', () => {
  let t: TestApp;
  let team: Team;
  const clock = new TestClock();

  /** A scheduler as another instance would run it, on the same database. */
  const instance = (maxFailures = 3) => sandboxScheduler(t.database.db, clock, maxFailures);

  const eventsOf = async (type: string) =>
    rowsOf<{ connectionId: string }>(
      await t.database.db.execute(
        sql`select payload->'data'->>'id' as "connectionId" from webhook_events where type = ${type}`,
      ),
    ).map((row) => row.connectionId);

  beforeAll(async () => {
    t = await startTestApp({ clock });
    team = await t.createTeam();
  });
  afterAll(() => t.close());

  it('syncs each connection due exactly once when two instances run at the same time', async () => {
    const connections = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        connectSandbox(t.as(team), team, {
          consentId: `due-${i}`,
          metadata: { sandbox: { accounts: 1, transactionsPerAccount: 5, days: 5 } },
        }),
      ),
    );
    const [a, b] = [instance(), instance()];
    const counts = await Promise.all([a.runOnce(), b.runOnce(), a.runOnce(), b.runOnce()]);
    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(12);
    const completed = await eventsOf('sync.completed');
    expect(completed.sort()).toEqual(connections.map((c) => c.id).sort());

    // Nothing is due again within the interval; after it (±10%), each is due once more.
    expect(await a.runOnce()).toBe(0);
    clock.advanceDays(0.5 / 24); // half an hour
    expect(await a.runOnce()).toBe(0);
    for (const connection of await listConnections(t, team)) {
      expect(connection.lastSyncStatus).toBe('SUCCEEDED');
      expect(connection.lastSyncError).toBeNull();
    }
    clock.advanceDays(7 / 24);
    const again = await Promise.all([a.runOnce(), b.runOnce()]);
    expect(again[0] + again[1]).toBe(12);
  });

  it('logs each background sync it completes, with the team, the connection and what changed', async () => {
    const connection = await connectSandbox(t.as(team), team, {
      consentId: 'logged',
      metadata: { sandbox: { accounts: 1, transactionsPerAccount: 5, days: 5 } },
    });
    const lines: [object, string][] = [];
    const keep = (obj: object, msg: string) => void lines.push([obj, msg]);
    await sandboxScheduler(t.database.db, clock, 3, { info: keep, warn: keep, error: keep }).runOnce();
    expect(lines).toContainEqual([
      expect.objectContaining({ teamId: team.teamId, connectionId: connection.id, accountsAdded: 1 }),
      'background sync completed',
    ]);
  });

  it('backs a failing connection off exponentially, records why, and stops after the limit', async () => {
    const failing = await connectSandbox(t.as(team), team, { consentId: 'sandbox-outage-bg' });
    const scheduler = instance(3);
    const nextSyncAt = async () =>
      rowsOf<{ next: Date | string | null; failures: number }>(
        await t.database.db.execute(
          sql`select next_sync_at as next, sync_failures as failures from connections where id = ${failing.id}`,
        ),
      )[0];
    await scheduler.runOnce();
    const first = await nextSyncAt();
    expect(first?.failures).toBe(1);
    expect(new Date(first?.next ?? 0).getTime() - clock.now().getTime()).toBe(60_000);
    const listed = (await listConnections(t, team)).find((c) => c.id === failing.id);
    expect(listed?.lastSyncStatus).toBe('FAILED');
    expect(listed?.lastSyncError).toMatch(/^PROVIDER_UNAVAILABLE/);
    expect(await eventsOf('sync.failed')).toEqual([failing.id]);

    clock.advanceDays(61_000 / 86_400_000);
    await scheduler.runOnce();
    const second = await nextSyncAt();
    expect(second?.failures).toBe(2);
    expect(new Date(second?.next ?? 0).getTime() - clock.now().getTime()).toBe(240_000);

    clock.advanceDays(241_000 / 86_400_000);
    await scheduler.runOnce();
    expect(await nextSyncAt()).toEqual({ next: null, failures: 3 });
  });

  it('answers an async sync with 202 at once and records the outcome on the connection', async () => {
    const connection = await connectSandbox(t.as(team), team, { consentId: 'async-1' });
    const response = await t.as(team).post('/api/banking/sync', {
      teamId: team.teamId,
      connectionId: connection.id,
      async: true,
    });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ connectionId: connection.id, status: 'QUEUED' });
    let listed = (await listConnections(t, team)).find((c) => c.id === connection.id);
    for (let i = 0; i < 100 && listed?.lastSyncStatus !== 'SUCCEEDED'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      listed = (await listConnections(t, team)).find((c) => c.id === connection.id);
    }
    expect(listed?.lastSyncStatus).toBe('SUCCEEDED');
    const disconnected = await connectSandbox(t.as(team), team, { consentId: 'async-2' });
    await t.as(team).post('/api/banking/disconnect', { teamId: team.teamId, connectionId: disconnected.id });
    const refused = await t.as(team).post('/api/banking/sync', {
      teamId: team.teamId,
      connectionId: disconnected.id,
      async: true,
    });
    expect(refused.statusCode).toBe(409);
  });

  it('records a background sync that fails on a fault of ours as FAILED, by its code only', async () => {
    const connection = await connectSandbox(t.as(team), team, { consentId: 'fault-1' });
    const broken = new SandboxProvider({ clock: clock.now });
    broken.listAccounts = async () => {
      throw new TypeError('select secret_column from internals');
    };
    const errors: string[] = [];
    const sync = createSyncService({
      db: t.database.db,
      providers: createProviderRegistry([broken]),
      clock: clock.now,
      secrets: NO_SECRET_BOX,
      syncIntervalMs: 6 * HOUR,
      log: { error: (_obj, message) => errors.push(message) },
    });
    await sync.start(team.teamId, connection.id, SYSTEM_CONTEXT);
    let listed = (await listConnections(t, team)).find((c) => c.id === connection.id);
    for (let i = 0; i < 100 && listed?.lastSyncStatus !== 'FAILED'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      listed = (await listConnections(t, team)).find((c) => c.id === connection.id);
    }
    expect(listed).toMatchObject({
      lastSyncStatus: 'FAILED',
      lastSyncError: 'INTERNAL_ERROR: The sync failed unexpectedly.',
    });
    expect(errors).toEqual(['background sync failed']);
    expect(await eventsOf('sync.failed')).toContain(connection.id);
  });

  it('records a background sync that failed on a lost database connection as the database being unavailable', async () => {
    const connection = await connectSandbox(t.as(team), team, { consentId: 'db-lost-1' });
    const cut = new SandboxProvider({ clock: clock.now });
    cut.listAccounts = async () => {
      // What node-postgres throws when the server's connection is reset under a query.
      throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    };
    const errors: string[] = [];
    const sync = createSyncService({
      db: t.database.db,
      providers: createProviderRegistry([cut]),
      clock: clock.now,
      secrets: NO_SECRET_BOX,
      syncIntervalMs: 6 * HOUR,
      log: { error: (_obj, message) => errors.push(message) },
    });
    await expect(sync.runInBackground(team.teamId, connection.id)).rejects.toThrow('ECONNRESET');
    const listed = (await listConnections(t, team)).find((c) => c.id === connection.id);
    expect(listed).toMatchObject({
      lastSyncStatus: 'FAILED',
      lastSyncError: 'SERVICE_UNAVAILABLE: The database is busy or not reachable; retry shortly.',
    });
    // The operator still has the error itself.
    expect(errors).toEqual(['background sync failed']);
  });

  it('flags a consent that ends within 7 days and raises consent.expiring once', async () => {
    const other = await t.createTeam();
    const connection = await connectSandbox(t.as(other), other, { consentId: 'expiring-1' });
    const inTenDays = new Date(clock.now().getTime() + 10 * 24 * HOUR).toISOString();
    await t.as(other).post('/api/banking/consent', {
      teamId: other.teamId,
      connectionId: connection.id,
      scopes: ['accounts'],
      expiresAt: inTenDays,
    });
    expect((await listConnections(t, other))[0]?.consentExpiresSoon).toBe(false);
    clock.advanceDays(4);
    expect((await listConnections(t, other))[0]?.consentExpiresSoon).toBe(true);
    const scheduler = instance();
    await Promise.all([scheduler.runOnce(), instance().runOnce()]);
    await scheduler.runOnce();
    expect((await eventsOf('consent.expiring')).filter((id) => id === connection.id)).toHaveLength(1);
  });

  it("waits for the bank's rate limit to reset, and keeps syncing however often the limit is met", async () => {
    const connection = await connectSandbox(t.as(team), team, { consentId: 'rate-limited-1' });
    // A bank whose daily limit is spent until 13 hours from now, as GoCardless's reset header says.
    const resetSeconds = 13 * 3600;
    const limited = new SandboxProvider({ clock: clock.now });
    limited.listAccounts = async () => {
      throw new ProviderError('rate_limited', 'GoCardless rate limit reached on the account', resetSeconds);
    };
    const scheduler = createScheduler({
      db: t.database.db,
      sync: createSyncService({
        db: t.database.db,
        providers: createProviderRegistry([limited]),
        clock: clock.now,
        secrets: NO_SECRET_BOX,
        syncIntervalMs: 6 * HOUR,
      }),
      clock: clock.now,
      pollMs: 60_000,
      syncIntervalMs: 6 * HOUR,
      maxFailures: 3,
      retryBaseMs: 60_000,
      // Every connection due in one round: the earlier tests' connections are due as well.
      batchSize: 1000,
      log: { info: () => {}, warn: () => {}, error: () => {} },
    });
    const state = async () =>
      rowsOf<{ next: Date | string | null; failures: number }>(
        await t.database.db.execute(
          sql`select next_sync_at as next, sync_failures as failures from connections where id = ${connection.id}`,
        ),
      )[0];

    // More rounds than the failure limit, each when the bank said its limit resets.
    for (let round = 0; round < 5; round++) {
      await scheduler.runOnce();
      const after = await state();
      expect(after?.failures).toBe(0);
      expect(new Date(after?.next ?? 0).getTime() - clock.now().getTime()).toBe(resetSeconds * 1000);
      clock.advanceDays(resetSeconds / 86_400);
    }
    const listed = (await listConnections(t, team)).find((c) => c.id === connection.id);
    expect(listed?.lastSyncStatus).toBe('FAILED');
    expect(listed?.lastSyncError).toMatch(/^PROVIDER_RATE_LIMITED: /);

    // Once the bank answers again, the background sync goes on as before.
    const healthy = instance();
    while ((await healthy.runOnce()) > 0) {}
    const synced = (await listConnections(t, team)).find((c) => c.id === connection.id);
    expect(synced?.lastSyncStatus).toBe('SUCCEEDED');
  });

  it('stops syncing an expired consent without counting failures, and resumes once it is renewed', async () => {
    const owner = await t.createTeam();
    const connection = await connectSandbox(t.as(owner), owner, {
      consentId: 'renewed-1',
      metadata: { sandbox: { accounts: 1, transactionsPerAccount: 5, days: 5 } },
    });
    const inOneDay = new Date(clock.now().getTime() + 24 * HOUR).toISOString();
    const narrowed = await t.as(owner).post('/api/banking/consent', {
      teamId: owner.teamId,
      connectionId: connection.id,
      scopes: ['accounts', 'balances', 'transactions'],
      expiresAt: inOneDay,
    });
    expect(narrowed.statusCode).toBe(200);
    const state = async () =>
      rowsOf<{ next: Date | string | null; failures: number }>(
        await t.database.db.execute(
          sql`select next_sync_at as next, sync_failures as failures from connections where id = ${connection.id}`,
        ),
      )[0];
    const listed = async () => (await listConnections(t, owner))[0];

    clock.advanceDays(2);
    const scheduler = instance(3);
    while ((await scheduler.runOnce()) > 0) {}
    expect(await state()).toEqual({ next: null, failures: 0 });
    expect((await listed())?.lastSyncError).toMatch(/^CONSENT_EXPIRED: /);
    expect((await eventsOf('sync.failed')).filter((id) => id === connection.id)).toHaveLength(1);

    const renewed = await t.as(owner).post('/api/banking/consent', {
      teamId: owner.teamId,
      connectionId: connection.id,
      scopes: ['accounts', 'balances', 'transactions'],
      expiresAt: new Date(clock.now().getTime() + 90 * 24 * HOUR).toISOString(),
    });
    expect(renewed.statusCode).toBe(200);
    expect(await state()).toEqual({ next: expect.anything(), failures: 0 });
    while ((await scheduler.runOnce()) > 0) {}
    expect((await listed())?.lastSyncStatus).toBe('SUCCEEDED');
  });

  it('keeps the time of the next background sync of a healthy connection whose consent narrows', async () => {
    const owner = await t.createTeam();
    const connection = await connectSandbox(t.as(owner), owner, { consentId: 'narrowed-1' });
    while ((await instance().runOnce()) > 0) {}
    const nextSyncAt = async () =>
      rowsOf<{ next: Date | string | null }>(
        await t.database.db.execute(
          sql`select next_sync_at as next from connections where id = ${connection.id}`,
        ),
      )[0]?.next;
    const before = await nextSyncAt();
    expect(new Date(before ?? 0).getTime()).toBeGreaterThan(clock.now().getTime());
    const narrowed = await t.as(owner).post('/api/banking/consent', {
      teamId: owner.teamId,
      connectionId: connection.id,
      scopes: ['accounts'],
      expiresAt: new Date(clock.now().getTime() + 30 * 24 * HOUR).toISOString(),
    });
    expect(narrowed.statusCode).toBe(200);
    expect(await nextSyncAt()).toEqual(before);
  });
});
