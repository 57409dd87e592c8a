import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSandbox, startTestApp, type Team, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { listConnections, within } from '../support/fixtures.js';

// PostgreSQL only: PGlite has one connection, which every request takes in turn.
describe.skipIf(!process.env.DATABASE_URL)('requests waiting for a connection that a sync holds', () => {
  let t: TestApp;
  let database: TestDatabase;
  let owner: Team;
  let other: Team;

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 3 });
    // A pool of 3, so that a handful of waiting requests would take every connection.
    t = await startTestApp({ testDatabase: database });
    owner = await t.createTeam('Owner');
    other = await t.createTeam('Other');
  });
  afterAll(() => t?.close());

  it("hold none of the pool's connections while they wait, so every other team is still served", async () => {
    const connection = await connectSandbox(t.as(owner), owner, { consentId: 'held' });
    await connectSandbox(t.as(other), other, { consentId: 'elsewhere' });
    // A sync on another instance, as PostgreSQL sees it: a transaction holding the connection's row.
    const sync = new pg.Client({ connectionString: database.env.DATABASE_URL as string });
    await sync.connect();
    try {
      await sync.query('begin');
      await sync.query('select 1 from connections where id = $1 for update', [connection.id]);

      const waiting = Array.from({ length: 6 }, (_, i) =>
        t.as(owner).post('/api/banking/consent', {
          teamId: owner.teamId,
          connectionId: connection.id,
          scopes: i % 2 ? ['accounts'] : ['accounts', 'balances'],
          expiresAt: '2027-01-01T00:00:00Z',
        }),
      );
      const disconnect = t.as(owner).post('/api/banking/disconnect', {
        teamId: owner.teamId,
        connectionId: connection.id,
      });
      await new Promise((resolve) => setTimeout(resolve, 300));

      const read = await within(3_000, t.as(other).get('/api/banking/connections', { teamId: other.teamId }));
      expect(read === 'no answer' ? read : read.statusCode).toBe(200);
      const ready = await within(3_000, t.app.inject({ method: 'GET', url: '/readyz' }));
      expect(ready === 'no answer' ? ready : ready.statusCode).toBe(200);

      await sync.query('commit');
      const answers = await Promise.all([...waiting, disconnect]);
      // Each ran once the sync ended, one after the other: the consent updates before the
      // disconnect succeeded, the ones after it found the connection disconnected.
      expect(answers.at(-1)?.statusCode).toBe(200);
      for (const answer of answers.slice(0, -1)) expect([200, 409]).toContain(answer.statusCode);
      const [listed] = (await listConnections(t, owner)).filter((c) => c.id === connection.id);
      expect(listed?.status).toBe('DISCONNECTED');
      expect(listed?.consents.filter((c) => c.status === 'AUTHORIZED')).toEqual([]);
    } finally {
      await sync.end();
    }
  });
});
