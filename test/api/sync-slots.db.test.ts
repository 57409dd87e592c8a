import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSandbox, startTestApp, type Team, type TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/database.js';
import { within } from '../support/fixtures.js';

// PostgreSQL only: PGlite has one connection, which one sync at a time holds anyway.
describe.skipIf(!process.env.DATABASE_URL)('one team syncing many connections at once', () => {
  let t: TestApp;
  let busy: Team;
  let other: Team;

  beforeAll(async () => {
    const database = await createTestDatabase({ poolSize: 4 });
    // A pool of 4: two syncs at once, one of them per team.
    t = await startTestApp({ testDatabase: database });
    busy = await t.createTeam('Busy');
    other = await t.createTeam('Other');
  });
  afterAll(() => t?.close());

  it("leaves the other teams' reads and syncs served while its own wait their turn", async () => {
    const sized = { metadata: { sandbox: { accounts: 2, transactionsPerAccount: 20_000, days: 365 } } };
    const connections = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        connectSandbox(t.as(busy), busy, { consentId: `busy-${i}`, ...sized }),
      ),
    );
    const mine = await connectSandbox(t.as(other), other, { consentId: 'mine' });
    const syncs = connections.map((connection) =>
      t.as(busy).post('/api/banking/sync', { teamId: busy.teamId, connectionId: connection.id }),
    );
    // Long enough for each of them to be inside its transaction, were they all let in.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const read = await within(3_000, t.as(other).get('/api/banking/connections', { teamId: other.teamId }));
    expect(read === 'no answer' ? read : read.statusCode).toBe(200);
    const synced = await within(
      10_000,
      t.as(other).post('/api/banking/sync', { teamId: other.teamId, connectionId: mine.id }),
    );
    expect(synced === 'no answer' ? synced : synced.statusCode).toBe(200);

    for (const answer of await Promise.all(syncs)) expect(answer.statusCode, answer.body).toBe(200);
  });
});
