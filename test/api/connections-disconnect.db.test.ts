import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsentContext, ProviderError } from '../../src/providers/provider.js';
import { SandboxProvider } from '../../src/providers/sandbox/index.js';
import { connectSandbox, startTestApp, type Team, type TestApp, TestClock } from '../support/app.js';
import {
  type ConnectionBody,
  DAY_MS,
  expectIsoUtc,
  expectProblem,
  expectValidationProblem,
  listAccounts,
  listAllTransactions,
  listConnections,
  syncConnection,
  tick,
  useTestApp,
} from '../support/fixtures.js';

describe('connections: disconnect', () => {
  const t = useTestApp();

  const disconnect = (team: Team, connectionId: string) =>
    t.as(team).post('/api/banking/disconnect', { teamId: team.teamId, connectionId });

  it('answers 200 with the connection DISCONNECTED and every consent REVOKED with revokedAt now', async () => {
    const team = await t.createTeam();
    const connection = await connectSandbox(t.as(team), team);
    tick(t, 5);
    const now = t.clock.now().getTime();
    const response = await disconnect(team, connection.id);
    expect(response.statusCode, response.body).toBe(200);
    expect(String(response.headers['content-type'])).toMatch(/^application\/json/);
    const body = response.json() as ConnectionBody;
    expect(body.id).toBe(connection.id);
    expect(body.status).toBe('DISCONNECTED');
    expect(body.consents.map((c) => c.id)).toEqual(connection.consents.map((c) => c.id));
    for (const consent of body.consents) {
      expect(consent.status).toBe('REVOKED');
      expectIsoUtc(consent.revokedAt);
      expect(Math.abs(Date.parse(consent.revokedAt) - now)).toBeLessThanOrEqual(60_000);
    }
  });

  it('the list shows the disconnected connection with its revoked consents', async () => {
    const team = await t.createTeam();
    const connection = await connectSandbox(t.as(team), team);
    const body = (await disconnect(team, connection.id)).json() as ConnectionBody;
    const [listed] = await listConnections(t, team);
    expect(listed?.status).toBe('DISCONNECTED');
    expect(listed?.consents).toEqual(body.consents);
  });

  it('revokes every AUTHORIZED consent and keeps the revokedAt of consents revoked before', async () => {
    const team = await t.createTeam();
    const connection = await connectSandbox(t.as(team), team);
    tick(t);
    const update = await t.as(team).post('/api/banking/consent', {
      teamId: team.teamId,
      connectionId: connection.id,
      scopes: ['accounts', 'balances'],
      expiresAt: new Date(t.clock.now().getTime() + 10 * DAY_MS).toISOString(),
    });
    expect(update.statusCode, update.body).toBe(200);
    const [beforeDisconnect] = await listConnections(t, team);
    const firstRevokedAt = beforeDisconnect?.consents[0]?.revokedAt;
    expectIsoUtc(firstRevokedAt);
    tick(t, 10);
    const body = (await disconnect(team, connection.id)).json() as ConnectionBody;
    expect(body.consents).toHaveLength(2);
    expect(body.consents.every((c) => c.status === 'REVOKED')).toBe(true);
    expect(body.consents[0]?.revokedAt).toBe(firstRevokedAt);
    expect(Date.parse(body.consents[1]?.revokedAt ?? '')).toBeGreaterThan(Date.parse(firstRevokedAt));
  });

  it('is idempotent: a second disconnect answers 200 with the same body and the same revokedAt', async () => {
    const team = await t.createTeam();
    const connection = await connectSandbox(t.as(team), team);
    const first = await disconnect(team, connection.id);
    expect(first.statusCode).toBe(200);
    tick(t, 30);
    const second = await disconnect(team, connection.id);
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json()).toEqual(first.json());
    const consentsAfter = (await listConnections(t, team))[0]?.consents;
    expect(consentsAfter?.map((c) => c.revokedAt)).toEqual(
      (first.json() as ConnectionBody).consents.map((c) => c.revokedAt),
    );
  });

  it('404 for an unknown connection id', async () => {
    const team = await t.createTeam();
    expectProblem(await disconnect(team, 'conn_does_not_exist'), 404);
  });

  it("404 for another team's connection, which stays ACTIVE", async () => {
    const owner = await t.createTeam('owner');
    const other = await t.createTeam('other');
    const connection = await connectSandbox(t.as(owner), owner);
    expectProblem(await disconnect(other, connection.id), 404);
    expect((await listConnections(t, owner))[0]?.status).toBe('ACTIVE');
  });

  it('400 for a missing connectionId', async () => {
    const team = await t.createTeam();
    const response = await t.as(team).post('/api/banking/disconnect', { teamId: team.teamId });
    expectValidationProblem(response, ['/connectionId']);
  });

  it('keeps the imported data: accounts and transactions are still listed after disconnect', async () => {
    const team = await t.createTeam();
    const connection = await connectSandbox(t.as(team), team, {
      metadata: { sandbox: { transactionsPerAccount: 12, days: 10 } },
    });
    await syncConnection(t, team, connection.id);
    const accountsBefore = await listAccounts(t, team);
    const transactionsBefore = await listAllTransactions(t, team);
    expect(accountsBefore.length).toBeGreaterThan(0);
    expect(transactionsBefore.length).toBeGreaterThan(0);

    expect((await disconnect(team, connection.id)).statusCode).toBe(200);

    const accountsAfter = await listAccounts(t, team);
    expect(accountsAfter.map((a) => a.id)).toEqual(accountsBefore.map((a) => a.id));
    for (const account of accountsAfter) expect(account.connection.status).toBe('DISCONNECTED');
    const transactionsAfter = await listAllTransactions(t, team);
    expect(transactionsAfter.map((x) => x.id)).toEqual(transactionsBefore.map((x) => x.id));
    const byConnection = await listAllTransactions(t, team, { connectionId: connection.id });
    expect(byConnection).toHaveLength(transactionsBefore.length);
  });

  it('409 for a sync of a disconnected connection', async () => {
    const team = await t.createTeam();
    const connection = await connectSandbox(t.as(team), team);
    await disconnect(team, connection.id);
    const response = await t
      .as(team)
      .post('/api/banking/sync', { teamId: team.teamId, connectionId: connection.id });
    expectProblem(response, 409);
  });
});

describe('connections: disconnect when the bank cannot be told', () => {
  /** A sandbox bank whose revoke fails while `down`, and that counts the revokes it took. */
  class FlakyRevokeBank extends SandboxProvider {
    down = true;
    revoked: string[] = [];
    override async revokeConsent(consent: ConsentContext): Promise<void> {
      if (this.down) throw new ProviderError('unavailable', 'the bank is down');
      this.revoked.push(consent.consentId);
    }
  }
  const clock = new TestClock();
  const bank = new FlakyRevokeBank({ clock: clock.now });
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ clock, providers: [bank] });
  });
  afterAll(() => t.close());

  it('disconnects here at once, and tells the bank again when the disconnect is repeated', async () => {
    const team = await t.createTeam();
    const connection = await connectSandbox(t.as(team), team, { consentId: 'told-later' });
    const disconnect = () =>
      t.as(team).post('/api/banking/disconnect', { teamId: team.teamId, connectionId: connection.id });
    const first = await disconnect();
    expect(first.statusCode, first.body).toBe(200);
    expect(bank.revoked).toEqual([]);
    bank.down = false;
    const again = await disconnect();
    expect(again.json()).toEqual(first.json());
    expect(bank.revoked).toEqual(['told-later']);
  });
});
