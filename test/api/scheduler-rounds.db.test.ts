/**
 * How the background scheduler goes through its rounds: a full round is followed by another at
 * once, a round that outlives a lease does not sync a connection another instance took since,
 * and a stopping scheduler starts nothing more and hands back what it had taken.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScheduler } from '../../src/banking/sync/scheduler.js';
import { createSyncService, type SyncService } from '../../src/banking/sync/service.js';
import { rowsOf } from '../../src/db/client.js';
import { createProviderRegistry } from '../../src/providers/registry.js';
import { SandboxProvider } from '../../src/providers/sandbox/index.js';
import { NO_SECRET_BOX } from '../../src/secrets.js';
import { connectSandbox, startTestApp, type TestApp, TestClock } from '../support/app.js';

const HOUR = 3_600_000;
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

describe('background sync rounds', () => {
  const clock = new TestClock();
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ clock });
  });
  afterAll(() => t.close());

  /** A scheduler whose syncs are recorded, and may run `before` each one first. */
  function scheduler(options: {
    batchSize: number;
    pollMs?: number;
    before?: (connectionId: string) => Promise<void>;
  }) {
    const synced: string[] = [];
    const real = createSyncService({
      db: t.database.db,
      providers: createProviderRegistry([new SandboxProvider({ clock: clock.now })]),
      clock: clock.now,
      secrets: NO_SECRET_BOX,
      syncIntervalMs: 6 * HOUR,
    });
    const sync = {
      ...real,
      async runInBackground(teamId: string, connectionId: string) {
        await options.before?.(connectionId);
        synced.push(connectionId);
        return real.runInBackground(teamId, connectionId);
      },
    } as SyncService;
    const instance = createScheduler({
      db: t.database.db,
      sync,
      clock: clock.now,
      pollMs: options.pollMs ?? 60_000,
      syncIntervalMs: 6 * HOUR,
      maxFailures: 3,
      batchSize: options.batchSize,
      log: quiet,
    });
    return { instance, synced };
  }

  /** `count` new connections of a new team, due now; answers their ids. */
  async function dueConnections(count: number, prefix: string): Promise<string[]> {
    const team = await t.createTeam();
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const connection = await connectSandbox(t.as(team), team, {
        consentId: `${prefix}-${i}`,
        metadata: { sandbox: { accounts: 1, transactionsPerAccount: 2, days: 2 } },
      });
      ids.push(connection.id);
    }
    return ids;
  }

  const nextSyncAt = async (id: string) =>
    new Date(
      rowsOf<{ next: string | Date }>(
        await t.database.db.execute(sql`select next_sync_at as next from connections where id = ${id}`),
      )[0]?.next ?? 0,
    ).getTime();

  it('runs the next round at once after a full one, not a poll later', async () => {
    const ids = await dueConnections(5, 'drain');
    const { instance, synced } = scheduler({ batchSize: 2, pollMs: 1_500 });
    instance.start();
    try {
      // Three rounds of two: one poll, then at once; a poll between each would take 4.5 s.
      for (let waited = 0; synced.length < 5 && waited < 4_000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await instance.stop();
    }
    expect(synced.sort()).toEqual([...ids].sort());
  });

  it('skips a taken connection whose lease lapsed and that another instance took since', async () => {
    const ids = await dueConnections(3, 'lapsed');
    let calls = 0;
    let otherSynced: string[] = [];
    const first = scheduler({
      batchSize: 10,
      async before() {
        if (++calls !== 2) return;
        // The second sync of the round starts after the round's leases lapsed: another instance
        // takes the connections left, this one's second included, which only a lock keeps apart.
        clock.advanceDays(16 / (24 * 60));
        const other = scheduler({ batchSize: 10 });
        await other.instance.runOnce();
        otherSynced = other.synced;
      },
    });
    await first.instance.runOnce();
    expect(otherSynced).toEqual(ids.slice(1));
    // The third, which the other instance has synced since, is not synced again.
    expect(first.synced).toEqual(ids.slice(0, 2));
  });

  it('starts no sync once stopping, and hands the connections it took back to the queue', async () => {
    const ids = await dueConnections(3, 'stopping');
    let stopping: Promise<void> | null = null;
    const { instance, synced } = scheduler({
      batchSize: 10,
      async before() {
        stopping ??= instance.stop();
      },
    });
    await instance.runOnce();
    await stopping;
    expect(synced).toHaveLength(1);
    const now = clock.now().getTime();
    for (const id of ids.filter((id) => !synced.includes(id))) {
      expect(await nextSyncAt(id)).toBeLessThanOrEqual(now);
    }
  });
});
