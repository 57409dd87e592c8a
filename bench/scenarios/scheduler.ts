/**
 * Two scheduler instances on one database (each with its own connection pool, as two service
 * processes would have) syncing 200 connections: every connection must be synced exactly once
 * per interval, and the work shared between the instances.
 */
import { sql } from 'drizzle-orm';
import { buildApp } from '../../src/app.js';
import { createScheduler } from '../../src/banking/sync/scheduler.js';
import { createSyncService } from '../../src/banking/sync/service.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, rowsOf } from '../../src/db/client.js';
import { createProviderRegistry } from '../../src/providers/registry.js';
import { SandboxProvider } from '../../src/providers/sandbox/index.js';
import { NO_SECRET_BOX } from '../../src/secrets.js';
import type { Scenario } from '../lib/types.js';

const CONNECTIONS = 200;
const INTERVAL_MS = 6 * 3_600_000;
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

export const scheduler: Scenario = {
  name: 'scheduler',
  async run({ database, log }) {
    let now = new Date('2026-11-26T10:00:00Z');
    const clock = () => new Date(now);
    const app = await buildApp({
      config: loadConfig({ ADMIN_TOKEN: 'bench', SCHEDULER_ENABLED: 'false', LOG_LEVEL: 'silent' }),
      database: database.handle,
      clock,
    });
    const team = (
      await app.inject({
        method: 'POST',
        url: '/api/admin/teams',
        headers: { authorization: 'Bearer bench' },
        payload: { name: 'bench' },
      })
    ).json() as { teamId: string; apiKey: string };
    log(`scheduler: connecting ${CONNECTIONS} sandbox connections`);
    for (let i = 0; i < CONNECTIONS; i++) {
      const response = await app.inject({
        method: 'POST',
        url: '/api/banking/connect',
        headers: { authorization: `Bearer ${team.apiKey}` },
        payload: {
          teamId: team.teamId,
          provider: 'sandbox',
          providerId: 'sandbox-gb',
          consentId: `bench-${i}`,
          metadata: { sandbox: { accounts: 1, transactionsPerAccount: 20, days: 10 } },
        },
      });
      if (response.statusCode !== 201) throw new Error(`connect failed: ${response.body}`);
    }
    await app.close();

    const instances = await Promise.all(
      [0, 1].map(async () => {
        const handle = await openDatabase({ databaseUrl: database.url, dataDir: '', poolSize: 4 });
        const sync = createSyncService({
          db: handle.db,
          providers: createProviderRegistry([new SandboxProvider({ clock })]),
          clock,
          secrets: NO_SECRET_BOX,
          syncIntervalMs: INTERVAL_MS,
        });
        const scheduler = createScheduler({
          db: handle.db,
          sync,
          clock,
          pollMs: 1_000,
          syncIntervalMs: INTERVAL_MS,
          maxFailures: 3,
          log: quiet,
        });
        return { handle, scheduler, taken: 0 };
      }),
    );
    /** Both instances take rounds at the same time until nothing is due. */
    const drain = async () => {
      const started = performance.now();
      for (;;) {
        const counts = await Promise.all(instances.map((instance) => instance.scheduler.runOnce()));
        counts.forEach((count, i) => {
          const instance = instances[i];
          if (instance) instance.taken += count;
        });
        if (counts.every((count) => count === 0)) return (performance.now() - started) / 1000;
      }
    };
    const syncsPerConnection = async () =>
      rowsOf<{ syncs: number }>(
        await database.handle.db.execute(sql`
          select count(e.id)::int as syncs from connections c
          left join webhook_events e on e.type = 'sync.completed' and e.payload->'data'->>'id' = c.id
          group by c.id`),
      ).map((row) => row.syncs);

    try {
      log('scheduler: interval 1');
      const firstSeconds = await drain();
      const afterFirst = await syncsPerConnection();
      now = new Date(now.getTime() + INTERVAL_MS * 1.1);
      log('scheduler: interval 2');
      const secondSeconds = await drain();
      const afterSecond = await syncsPerConnection();
      const exactlyOnce = afterFirst.filter((n) => n === 1).length;
      const exactlyTwice = afterSecond.filter((n) => n === 2).length;
      const pass = exactlyOnce === CONNECTIONS && exactlyTwice === CONNECTIONS;
      return {
        rows: [
          {
            figure: `two instances, ${CONNECTIONS} connections: synced exactly once in interval 1`,
            value: { value: exactlyOnce, unit: 'rows' },
            baseline: { label: 'connections', value: { value: CONNECTIONS, unit: 'rows' } },
            target: { text: `= ${CONNECTIONS}`, pass: exactlyOnce === CONNECTIONS },
          },
          {
            figure: 'synced exactly twice after interval 2',
            value: { value: exactlyTwice, unit: 'rows' },
            baseline: { label: 'connections', value: { value: CONNECTIONS, unit: 'rows' } },
            target: { text: `= ${CONNECTIONS}`, pass },
          },
        ],
        notes: [
          `scheduler: interval 1 drained in ${firstSeconds.toFixed(1)} s, interval 2 in ${secondSeconds.toFixed(1)} s; ` +
            `syncs taken per instance: ${instances.map((instance) => instance.taken).join(' and ')}`,
        ],
      };
    } finally {
      await Promise.all(instances.map((instance) => instance.handle.close()));
    }
  },
};
