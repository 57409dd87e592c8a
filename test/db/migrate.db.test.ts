import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openDatabase, rowsOf } from '../../src/db/client.js';
import { createTestDatabase } from '../support/database.js';

describe('migrations', () => {
  it.runIf(process.env.DATABASE_URL)(
    'run once when several instances start on one server at the same time',
    async () => {
      const fresh = await createTestDatabase();
      try {
        const url = fresh.env.DATABASE_URL ?? '';
        const instances = await Promise.all(
          [1, 2, 3].map(() => openDatabase({ databaseUrl: url, dataDir: '', poolSize: 2 })),
        );
        await Promise.all(instances.map((instance) => instance.migrate()));
        const [first] = instances;
        const applied = rowsOf<{ n: number }>(
          await (first?.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`) ??
            Promise.resolve({ rows: [] })),
        );
        expect(applied[0]?.n).toBeGreaterThanOrEqual(4);
        await Promise.all(instances.map((instance) => instance.close()));
      } finally {
        await fresh.drop();
      }
    },
  );

  it('applies every migration to a new embedded database, and again changes nothing', async () => {
    const database = await openDatabase({ dataDir: 'memory://' });
    await database.migrate();
    await database.migrate();
    const tables = rowsOf<{ name: string }>(
      await database.db.execute(
        sql`select table_name as name from information_schema.tables where table_schema = 'public' order by 1`,
      ),
    ).map((row) => row.name);
    expect(tables).toEqual([
      'accounts',
      'api_keys',
      'audit_events',
      'connections',
      'consent_references',
      'consents',
      'idempotency_keys',
      'teams',
      'transactions',
      'webhook_deliveries',
      'webhook_endpoints',
      'webhook_events',
    ]);
    await database.close();
  });
});
