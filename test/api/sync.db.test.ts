import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSandbox, startTestApp, type Team, type TestApp } from '../support/app.js';
import {
  type AccountBody,
  expectProblem,
  type Json,
  listAccounts,
  listAllTransactions,
  listConnections,
  NOTHING_CHANGED,
  syncConnection,
  type TransactionBody,
} from '../support/fixtures.js';
import { unknownId } from '../support/security.js';

// The tests share one clock and run in order: those that move it come last.
describe('sync: import, idempotence, concurrency, incremental updates and failures', () => {
  let t: TestApp;
  let team: Team;
  let mainId: string;
  /** What the first sync of the main connection imported. */
  let firstTransactions: TransactionBody[];
  let firstAccounts: AccountBody[];

  const syncRaw = (who: Team, connectionId: string) =>
    t.as(who).post('/api/banking/sync', { teamId: who.teamId, connectionId });
  const details = async (accountId: string) => {
    const response = await t.as(team).get(`/api/banking/accounts/${accountId}`, { teamId: team.teamId });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as Json & { transactionCount: number };
  };

  beforeAll(async () => {
    t = await startTestApp();
    team = await t.createTeam('Sync team');
    mainId = (await connectSandbox(t.as(team), team, { consentId: 'sync-main' })).id;
  });
  afterAll(() => t.close());

  it('the first sync imports 3 accounts and their transactions, and its summary counts exactly what the lists show', async () => {
    expect(await listAccounts(t, team, mainId)).toEqual([]);
    const result = await syncConnection(t, team, mainId);
    expect(result.id).toBe(mainId);
    expect(result.status).toBe('ACTIVE');
    expect(typeof result.updatedAt).toBe('string');
    expect(Array.isArray(result.consents)).toBe(true);
    const consents = result.consents;
    expect(consents).toHaveLength(1);
    expect(consents[0]).toMatchObject({ status: 'AUTHORIZED' });
    expect(result.sync.accountsAdded).toBe(3);
    expect(result.sync.transactionsAdded).toBeGreaterThan(0);
    expect(result.sync.transactionsUpdated).toBe(0);
    expect(result.sync.transactionsRemoved).toBe(0);

    firstAccounts = await listAccounts(t, team, mainId);
    expect(firstAccounts).toHaveLength(3);
    expect(firstAccounts.map((a) => a.type).sort()).toEqual(['CHECKING', 'CREDIT', 'SAVINGS']);
    expect(firstAccounts.every((a) => a.connectionId === mainId)).toBe(true);

    firstTransactions = await listAllTransactions(t, team, { connectionId: mainId });
    expect(firstTransactions).toHaveLength(result.sync.transactionsAdded);
    expect(new Set(firstTransactions.map((txn) => txn.id)).size).toBe(firstTransactions.length);
    const accountIds = new Set(firstAccounts.map((a) => a.id));
    expect(firstTransactions.every((txn) => accountIds.has(txn.accountId))).toBe(true);
    expect(firstTransactions.every((txn) => txn.status === 'BOOKED' || txn.status === 'PENDING')).toBe(true);

    let counted = 0;
    for (const account of firstAccounts) {
      const account_ = await details(String(account.id));
      const ofAccount = firstTransactions.filter((txn) => txn.accountId === account.id);
      expect(account_.transactionCount).toBe(ofAccount.length);
      counted += account_.transactionCount;
    }
    expect(counted).toBe(result.sync.transactionsAdded);
  });

  it('a second sync at the same time changes nothing: summary all zeros, same ids, same list bodies', async () => {
    const connectionBefore = (await listConnections(t, team)).find((c) => c.id === mainId);
    const result = await syncConnection(t, team, mainId);
    expect(result.sync).toEqual(NOTHING_CHANGED);
    expect(result.updatedAt).toBe(connectionBefore?.updatedAt);
    expect(await listAccounts(t, team, mainId)).toEqual(firstAccounts);
    expect(await listAllTransactions(t, team, { connectionId: mainId })).toEqual(firstTransactions);
  });

  it('five concurrent syncs of one connection all succeed and import each transaction exactly once', async () => {
    // The sandbox's data are a function of the consentId and the date: a team that syncs the same
    // consent once gives the reference count.
    const reference = await t.createTeam('Reference');
    const referenceConnection = await connectSandbox(t.as(reference), reference, {
      consentId: 'sync-concurrent',
    });
    const single = await syncConnection(t, reference, referenceConnection.id);
    const expected = await listAllTransactions(t, reference, { connectionId: referenceConnection.id });
    expect(expected).toHaveLength(single.sync.transactionsAdded);

    const racer = await t.createTeam('Racer');
    const connection = await connectSandbox(t.as(racer), racer, { consentId: 'sync-concurrent' });
    const responses = await Promise.all(Array.from({ length: 5 }, () => syncRaw(racer, connection.id)));
    for (const response of responses) expect(response.statusCode, response.body).toBe(200);

    const accounts = await listAccounts(t, racer, connection.id);
    expect(accounts).toHaveLength(3);
    expect(new Set(accounts.map((a) => a.id)).size).toBe(3);
    const transactions = await listAllTransactions(t, racer, { connectionId: connection.id });
    expect(transactions).toHaveLength(expected.length);
    expect(new Set(transactions.map((txn) => txn.id)).size).toBe(transactions.length);
    const summaries = responses.map((r) => (r.json() as { sync: typeof NOTHING_CHANGED }).sync);
    expect(summaries.reduce((sum, s) => sum + s.accountsAdded, 0)).toBe(3);
    expect(summaries.reduce((sum, s) => sum + s.transactionsAdded, 0)).toBe(expected.length);
    for (const account of accounts) {
      const response = await t.as(racer).get(`/api/banking/accounts/${account.id}`, { teamId: racer.teamId });
      expect((response.json() as Json).transactionCount).toBe(
        transactions.filter((txn) => txn.accountId === account.id).length,
      );
    }
    // And one more sync finds nothing new.
    expect((await syncConnection(t, racer, connection.id)).sync).toEqual(NOTHING_CHANGED);
  });

  it('a provider outage (sandbox-outage-*) answers 502 and writes no account or transaction', async () => {
    const outage = await t.createTeam('Outage');
    const connection = await connectSandbox(t.as(outage), outage, { consentId: 'sandbox-outage-sync' });
    const before = (await listConnections(t, outage))[0];
    for (let attempt = 0; attempt < 2; attempt++) {
      expectProblem(await syncRaw(outage, connection.id), 502);
    }
    expect(await listAccounts(t, outage)).toEqual([]);
    expect(await listAllTransactions(t, outage)).toEqual([]);
    const after = (await listConnections(t, outage))[0];
    expect(after).toEqual(before);
  });

  it('answers 404 for an unknown connection', async () => {
    expectProblem(await syncRaw(team, unknownId('conn')), 404);
    expectProblem(await syncRaw(team, 'does-not-exist'), 404);
  });

  it("answers 404 for another team's connection and imports nothing into it", async () => {
    const other = await t.createTeam('Other');
    const connection = await connectSandbox(t.as(other), other, { consentId: 'sync-other-team' });
    const before = await listConnections(t, other);
    const response = await syncRaw(team, connection.id);
    expectProblem(response, 404);
    expect(await listAccounts(t, other)).toEqual([]);
    expect(await listAllTransactions(t, other)).toEqual([]);
    expect(await listConnections(t, other)).toEqual(before);
    expect(await listAllTransactions(t, team, { connectionId: mainId })).toEqual(firstTransactions);
  });

  it('answers 409 for a DISCONNECTED connection and keeps its imported data unchanged', async () => {
    const connection = await connectSandbox(t.as(team), team, { consentId: 'sync-disconnected' });
    await syncConnection(t, team, connection.id);
    const imported = await listAllTransactions(t, team, { connectionId: connection.id });
    expect(imported.length).toBeGreaterThan(0);
    const disconnect = await t
      .as(team)
      .post('/api/banking/disconnect', { teamId: team.teamId, connectionId: connection.id });
    expect(disconnect.statusCode, disconnect.body).toBe(200);
    const accounts = await listAccounts(t, team, connection.id);
    expect(accounts).toHaveLength(3);
    const transactions = await listAllTransactions(t, team, { connectionId: connection.id });
    expect(transactions.map((txn) => txn.id)).toEqual(imported.map((txn) => txn.id));
    const disconnected = (await listConnections(t, team)).find((c) => c.id === connection.id);

    expectProblem(await syncRaw(team, connection.id), 409);
    expect(await listAccounts(t, team, connection.id)).toEqual(accounts);
    expect(await listAllTransactions(t, team, { connectionId: connection.id })).toEqual(transactions);
    expect((await listConnections(t, team)).find((c) => c.id === connection.id)).toEqual(disconnected);
  });

  it('days later, new transactions appear and pending ones are BOOKED under the same id (or removed if a hold vanished)', async () => {
    const before = await listAllTransactions(t, team, { connectionId: mainId });
    expect(before).toEqual(firstTransactions);
    const pending = before.filter((txn) => txn.status === 'PENDING');
    expect(
      pending.length,
      'the sandbox should have pending transactions on the day of connection',
    ).toBeGreaterThan(0);

    t.clock.advanceDays(3);
    const result = await syncConnection(t, team, mainId);
    expect(result.sync.transactionsAdded).toBeGreaterThan(0);

    const after = await listAllTransactions(t, team, { connectionId: mainId });
    const afterById = new Map(after.map((txn) => [txn.id, txn]));
    expect(afterById.size).toBe(after.length);

    let booked = 0;
    for (const txn of pending) {
      const now = afterById.get(txn.id);
      if (!now) continue; // a hold that vanished
      expect(now.status, `transaction ${String(txn.id)} should have booked`).toBe('BOOKED');
      expect(now.accountId).toBe(txn.accountId);
      expect(now.description).toBe(txn.description);
      booked++;
    }
    expect(booked, 'at least one pending transaction should book in place').toBeGreaterThan(0);

    // Booked transactions never disappear; pending ones only by vanishing.
    for (const txn of before.filter((x) => x.status === 'BOOKED')) {
      expect(afterById.get(txn.id), `booked transaction ${String(txn.id)} must stay`).toEqual(txn);
    }
    const beforeIds = new Set(before.map((txn) => txn.id));
    const removed = before.filter((txn) => !afterById.has(txn.id)).length;
    const added = after.filter((txn) => !beforeIds.has(txn.id)).length;
    expect(added).toBe(result.sync.transactionsAdded);
    expect(removed).toBe(result.sync.transactionsRemoved);
    expect(after.length).toBe(before.length + added - removed);
    // What is new happened after the previous sync's newest transaction.
    const previousNewest = String(before[0]?.transactionDate);
    for (const txn of after.filter((x) => !beforeIds.has(x.id))) {
      expect(String(txn.transactionDate) >= previousNewest).toBe(true);
    }

    // And a second sync on the same day changes nothing again.
    expect((await syncConnection(t, team, mainId)).sync).toEqual(NOTHING_CHANGED);
    expect(await listAllTransactions(t, team, { connectionId: mainId })).toEqual(after);
  });

  it('answers 409 CONSENT_EXPIRED once the consent is past its expiry (90 days), and writes nothing', async () => {
    const before = await listAllTransactions(t, team, { connectionId: mainId });
    const accounts = await listAccounts(t, team, mainId);
    const listed = async () => (await listConnections(t, team)).find((c) => c.id === mainId);
    expect(await listed()).toMatchObject({ consentExpired: false });
    t.clock.advanceDays(90);
    // The connection says so before a sync is tried.
    expect(await listed()).toMatchObject({ consentExpired: true, consentExpiresSoon: false });
    expectProblem(await syncRaw(team, mainId), 409, 'CONSENT_EXPIRED');
    expect(await listAllTransactions(t, team, { connectionId: mainId })).toEqual(before);
    expect(await listAccounts(t, team, mainId)).toEqual(accounts);
  });
});
