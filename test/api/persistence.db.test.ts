import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  connectSandbox,
  startTestApp,
  type Team,
  type TestApp,
  TestClock,
} from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  type ConnectionBody,
  type ConsentBody,
  expectProblem,
  type Json,
  listAccounts,
  listAllTransactions,
  listConnections,
  syncConnection,
  type TransactionBody,
} from '../support/fixtures.js';
import { bearer, expectUnauthorized, issueKey, revokeKey, send } from '../support/security.js';

/** Everything the team can read through the API. */
async function everything(t: TestApp, team: Team) {
  const accounts = await listAccounts(t, team);
  const details: Json[] = [];
  for (const account of accounts) {
    const response = await t.as(team).get(`/api/banking/accounts/${account.id}`, { teamId: team.teamId });
    expect(response.statusCode, response.body.slice(0, 300)).toBe(200);
    details.push(response.json() as Json);
  }
  return {
    connections: await listConnections(t, team),
    accounts,
    details,
    transactions: await listAllTransactions(t, team),
  };
}

// The tests run in order: the first app writes, is stopped, and a second app reads.
describe('persistence: what the API wrote survives stopping the app and starting a new one on the same database', () => {
  const clock = new TestClock();
  let dataDir: string | undefined;
  let testDatabase: TestDatabase;
  let app: TestApp;
  let team: Team;
  let secondKey: { apiKey: string; keyId: string };
  let revokedKey: { apiKey: string; keyId: string };
  let activeId: string;
  let disconnectedId: string;
  let written: Awaited<ReturnType<typeof everything>>;
  /** The active connection's consents, in the order they were created. */
  let consentIds: string[];

  beforeAll(async () => {
    // PGlite keeps its files in a directory of its own; PostgreSQL keeps them on the server.
    dataDir = process.env.DATABASE_URL ? undefined : await mkdtemp(join(tmpdir(), 'obs-persistence-'));
    testDatabase = await createTestDatabase(dataDir ? { dataDir } : {});
    app = await startTestApp({ testDatabase, clock });
  });
  afterAll(async () => {
    await app.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('the first app writes a team, keys, connections, consents, accounts and transactions', async () => {
    team = await app.createTeam('Persistent');
    secondKey = await issueKey(app, team.teamId, ADMIN_TOKEN);
    revokedKey = await issueKey(app, team.teamId, ADMIN_TOKEN);
    expect((await revokeKey(app, team.teamId, revokedKey.keyId, ADMIN_TOKEN)).statusCode).toBe(204);

    const connected = await connectSandbox(app.as(team), team, { consentId: 'persist-active' });
    activeId = connected.id;
    consentIds = [connected.consents[0]?.id ?? ''];
    await syncConnection(app, team, activeId);
    for (let update = 1; update <= 6; update++) {
      const consent = await app.as(team).post('/api/banking/consent', {
        teamId: team.teamId,
        connectionId: activeId,
        scopes: ['accounts', 'balances', 'transactions'],
        expiresAt: `2027-02-0${update}T00:00:00.000Z`,
      });
      expect(consent.statusCode, consent.body).toBe(200);
      consentIds.push((consent.json() as Json).id as string);
    }

    disconnectedId = (
      await connectSandbox(app.as(team), team, { consentId: 'persist-gone', providerId: 'sandbox-eu' })
    ).id;
    await syncConnection(app, team, disconnectedId);
    const disconnect = await app
      .as(team)
      .post('/api/banking/disconnect', { teamId: team.teamId, connectionId: disconnectedId });
    expect(disconnect.statusCode, disconnect.body).toBe(200);

    written = await everything(app, team);
    expect(written.connections).toHaveLength(2);
    expect(written.accounts).toHaveLength(6);
    expect(written.transactions.length).toBeGreaterThan(0);
    const consents = written.connections.find((c) => c.id === activeId)?.consents as ConsentBody[];
    expect(consents).toHaveLength(7);
    expect(consents.filter((c) => c.status === 'AUTHORIZED').map((c) => c.id)).toEqual([consentIds[6]]);
  });

  it('after a restart on the same database, the connections, consents, accounts and transactions are the same', async () => {
    await app.stop();
    app = await startTestApp({ testDatabase, clock });
    expect(await everything(app, team)).toEqual(written);
  });

  it('the consent history is listed oldest first, in the order the consents were created, before and after the restart', async () => {
    // All seven consents were created at the same instant of the test clock: "oldest first" must
    // still follow their creation, not the order of their random ids.
    const listed = (connections: ConnectionBody[]) =>
      (connections.find((c) => c.id === activeId)?.consents ?? []).map((c) => c.id);
    expect(listed(written.connections)).toEqual(consentIds);
    expect(listed(await listConnections(app, team))).toEqual(consentIds);
  });

  it("after the restart, the team's API keys still work and a revoked key stays revoked", async () => {
    const list = { method: 'GET' as const, url: '/api/banking/connections', query: { teamId: team.teamId } };
    for (const key of [team.apiKey, secondKey.apiKey]) {
      const response = await send(app, { ...list, authorization: bearer(key) });
      expect(response.statusCode, response.body.slice(0, 300)).toBe(200);
      expect(response.json()).toEqual(written.connections);
    }
    expectUnauthorized(await send(app, { ...list, authorization: bearer(revokedKey.apiKey) }));
    const other = await app.createTeam('Other');
    expectProblem(
      await send(app, { ...list, query: { teamId: other.teamId }, authorization: bearer(team.apiKey) }),
      403,
    );
  });

  it('after the restart, the connection state still holds: a sync changes nothing, the disconnected one stays 409, a used consentId stays taken', async () => {
    const result = await syncConnection(app, team, activeId);
    expect(result.sync).toEqual({
      accountsAdded: 0,
      accountsUpdated: 0,
      transactionsAdded: 0,
      transactionsUpdated: 0,
      transactionsRemoved: 0,
    });
    expectProblem(
      await app.as(team).post('/api/banking/sync', { teamId: team.teamId, connectionId: disconnectedId }),
      409,
    );
    for (const consentId of ['persist-active', 'persist-gone']) {
      const again = await app.as(team).post('/api/banking/connect', {
        teamId: team.teamId,
        provider: 'sandbox',
        providerId: consentId === 'persist-gone' ? 'sandbox-eu' : 'sandbox-gb',
        consentId,
      });
      expectProblem(again, 409);
    }
    const after = await everything(app, team);
    expect(after.accounts).toEqual(written.accounts);
    expect(after.transactions).toEqual(written.transactions);
  });

  it('the restarted app goes on from where the first stopped: days later a sync adds to the same accounts', async () => {
    clock.advanceDays(2);
    const result = await syncConnection(app, team, activeId);
    expect(result.sync.accountsAdded).toBe(0);
    expect(result.sync.transactionsAdded).toBeGreaterThan(0);
    const accounts = await listAccounts(app, team, activeId);
    expect(accounts.map((a) => a.id).sort()).toEqual(
      written.accounts
        .filter((a) => a.connectionId === activeId)
        .map((a) => a.id)
        .sort(),
    );
    const transactions = await listAllTransactions(app, team, { connectionId: activeId });
    const ids = new Set(transactions.map((txn) => txn.id));
    expect(ids.size).toBe(transactions.length);
    const before = written.transactions.filter((txn) => txn.connectionId === activeId || isOfActive(txn));
    for (const txn of before.filter((x) => x.status === 'BOOKED')) expect(ids.has(txn.id)).toBe(true);
  });

  /** A transaction of the active connection, judged by its nested account's connection. */
  function isOfActive(txn: TransactionBody) {
    const account = txn.account as { connection?: { id?: string } } | undefined;
    return account?.connection?.id === activeId;
  }
});
