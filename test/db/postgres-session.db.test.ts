import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, rowsOf } from '../../src/db/client.js';
import { createTestDatabase } from '../support/database.js';

// PostgreSQL only: PGlite has no network and no other sessions.
describe.skipIf(!process.env.DATABASE_URL)('a PostgreSQL session of the pool', () => {
  let database: DatabaseHandle;

  beforeAll(async () => {
    database = await (await createTestDatabase()).open();
  });
  afterAll(() => database?.close());

  it('is ended by the server when left idle inside a transaction, freeing its locks for the other instances', async () => {
    // Every session of the pool, not only the first: each is asked in a transaction of its own.
    const settings = await Promise.all(
      Array.from({ length: 3 }, () =>
        database.db.transaction(async (tx) =>
          rowsOf<{ value: string }>(
            await tx.execute(sql`select current_setting('idle_in_transaction_session_timeout') as value`),
          ),
        ),
      ),
    );
    expect(settings.map((rows) => rows[0]?.value)).toEqual(['10min', '10min', '10min']);
  });
});
