import { connect, createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { connectSandbox, startTestApp, type Team, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { expectProblem } from '../support/fixtures.js';

/**
 * A TCP relay in front of PostgreSQL that the test can cut and restore, so the app meets a
 * database that stops answering while it runs. PostgreSQL only: PGlite runs inside the process.
 */
async function startRelay(target: URL) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      const listening = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => {});
        }
        client.pipe(upstream).pipe(client);
      });
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', () => {
        port = (listening.address() as { port: number }).port;
        server = listening;
        resolve();
      });
    });
  await open();
  return {
    port: () => port,
    /** Refuses new connections and drops the open ones, as a database host that went away. */
    cut: () =>
      new Promise<void>((resolve) => {
        const closing = server;
        server = undefined;
        if (!closing) return resolve();
        closing.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
    restore: () => (server ? Promise.resolve() : open()),
  };
}

describe.skipIf(!process.env.DATABASE_URL)('a database that cannot be reached', () => {
  let t: TestApp;
  let team: Team;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let direct: TestDatabase;

  beforeAll(async () => {
    direct = await createTestDatabase();
    const url = new URL(direct.env.DATABASE_URL as string);
    relay = await startRelay(url);
    const viaRelay = new URL(url);
    viaRelay.hostname = '127.0.0.1';
    viaRelay.port = String(relay.port());
    const testDatabase: TestDatabase = {
      ...direct,
      open: async () => {
        const handle = await openDatabase({ databaseUrl: viaRelay.toString(), dataDir: '', poolSize: 5 });
        await handle.migrate();
        return handle;
      },
    };
    t = await startTestApp({ testDatabase });
    team = await t.createTeam('Outage');
  });
  afterAll(async () => {
    await relay.restore();
    await t.close();
  });

  it('answers 503 SERVICE_UNAVAILABLE with Retry-After while it is down, and serves again once it is back', async () => {
    const list = () => t.as(team).get('/api/banking/connections', { teamId: team.teamId });
    expect((await list()).statusCode).toBe(200);

    await relay.cut();
    const refused = await list();
    expect(expectProblem(refused, 503).code).toBe('SERVICE_UNAVAILABLE');
    expect(refused.headers['retry-after']).toBe('1');

    await relay.restore();
    let answer = await list();
    for (let attempt = 0; answer.statusCode !== 200 && attempt < 20; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await list();
    }
    expect(answer.statusCode).toBe(200);
  });

  it('fails a request whose connection is lost inside a transaction with 503, and the process serves on', async () => {
    const connection = await connectSandbox(t.as(team), team, {
      consentId: 'lost-mid-sync',
      metadata: { sandbox: { accounts: 2, transactionsPerAccount: 20_000, days: 365 } },
    });
    const sync = t.as(team).post('/api/banking/sync', { teamId: team.teamId, connectionId: connection.id });
    // Cut once the sync's transaction is open, so the connection lost is one the sync holds.
    const observer = new pg.Client({ connectionString: direct.env.DATABASE_URL as string });
    await observer.connect();
    try {
      for (let attempt = 0; attempt < 200; attempt++) {
        const open = await observer.query(
          'select 1 from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and xact_start is not null',
        );
        if (open.rowCount) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await observer.end();
    }
    await relay.cut();
    expect(expectProblem(await sync, 503).code).toBe('SERVICE_UNAVAILABLE');

    await relay.restore();
    const list = () => t.as(team).get('/api/banking/connections', { teamId: team.teamId });
    let answer = await list();
    for (let attempt = 0; answer.statusCode !== 200 && attempt < 20; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await list();
    }
    expect(answer.statusCode).toBe(200);
  });
});
