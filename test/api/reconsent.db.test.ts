import { describe, expect, it } from 'vitest';
import type { ConsentContext, ConsentGrant, GrantedConsent } from '../../src/providers/provider.js';
import { SandboxProvider } from '../../src/providers/sandbox/index.js';
import { connectSandbox, TestClock } from '../support/app.js';
import {
  expectProblem,
  listAccounts,
  listAllTransactions,
  listConnections,
  syncConnection,
  useTestApp,
} from '../support/fixtures.js';
import { Gate } from '../support/gate.js';

describe('re-consent: a new consent at the bank keeps the connection, its accounts and its history', () => {
  const t = useTestApp();

  it('moves the connection to the new consent id and keeps every account and transaction id', async () => {
    const team = await t.createTeam();
    const client = t.as(team);
    const connection = await connectSandbox(client, team, { consentId: 'customer-a' });
    await syncConnection(t, team, connection.id);
    const accountsBefore = await listAccounts(t, team, connection.id);
    const transactionsBefore = await listAllTransactions(t, team, { connectionId: connection.id });

    const renewed = await client.post('/api/banking/consent', {
      teamId: team.teamId,
      connectionId: connection.id,
      consentId: 'customer-a~2',
      scopes: ['accounts', 'balances', 'transactions'],
      expiresAt: '2027-05-01T00:00:00Z',
    });
    expect(renewed.statusCode).toBe(200);
    expect(renewed.json()).toMatchObject({ status: 'AUTHORIZED', revokedAt: null });

    const resync = await syncConnection(t, team, connection.id);
    expect(resync.sync).toEqual({
      accountsAdded: 0,
      accountsUpdated: 0,
      transactionsAdded: 0,
      transactionsUpdated: 0,
      transactionsRemoved: 0,
    });
    expect(await listAccounts(t, team, connection.id)).toEqual(accountsBefore);
    expect(await listAllTransactions(t, team, { connectionId: connection.id })).toEqual(transactionsBefore);
  });

  it('refuses a new consent id the team has connected before, and the old one afterwards', async () => {
    const team = await t.createTeam();
    const client = t.as(team);
    const first = await connectSandbox(client, team, { consentId: 'customer-b' });
    await connectSandbox(client, team, { consentId: 'customer-c' });
    const taken = await client.post('/api/banking/consent', {
      teamId: team.teamId,
      connectionId: first.id,
      consentId: 'customer-c',
      scopes: ['accounts'],
      expiresAt: '2027-05-01T00:00:00Z',
    });
    expectProblem(taken, 409, 'CONSENT_ALREADY_CONNECTED');
    const moved = await client.post('/api/banking/consent', {
      teamId: team.teamId,
      connectionId: first.id,
      consentId: 'customer-b~2',
      scopes: ['accounts'],
      expiresAt: '2027-05-01T00:00:00Z',
    });
    expect(moved.statusCode).toBe(200);
    const reuse = await client.post('/api/banking/connect', {
      teamId: team.teamId,
      provider: 'sandbox',
      providerId: 'sandbox-gb',
      consentId: 'customer-b',
    });
    expectProblem(reuse, 409, 'CONSENT_ALREADY_CONNECTED');
  });

  it('answers 422 when the bank reports the new consent expired, and keeps the old one', async () => {
    const team = await t.createTeam();
    const client = t.as(team);
    const connection = await connectSandbox(client, team, { consentId: 'customer-d' });
    const refused = await client.post('/api/banking/consent', {
      teamId: team.teamId,
      connectionId: connection.id,
      consentId: 'sandbox-expired-d',
      scopes: ['accounts'],
      expiresAt: '2027-05-01T00:00:00Z',
    });
    expectProblem(refused, 422, 'PROVIDER_CONSENT_EXPIRED');
    const list = await client.get('/api/banking/connections', { teamId: team.teamId });
    const found = (list.json() as { id: string; consents: { status: string }[] }[]).find(
      (c) => c.id === connection.id,
    );
    expect(found?.consents.map((c) => c.status)).toEqual(['AUTHORIZED']);
  });
});

describe('consent updates that overlap on one connection', () => {
  const clock = new TestClock();
  const bank = new GatedSandbox(clock);
  const t = useTestApp({ clock, providers: [bank] });

  it('starts an update again when another moved the connection to a new consent meanwhile', async () => {
    const team = await t.createTeam();
    const client = t.as(team);
    const connection = await connectSandbox(client, team, { consentId: 'overtaken' });
    const held = bank.hold((consentId) => consentId === 'overtaken');
    const plain = client.post('/api/banking/consent', {
      teamId: team.teamId,
      connectionId: connection.id,
      scopes: ['balances'],
      expiresAt: '2027-01-01T00:00:00Z',
    });
    await held.reached;
    const renewed = await client.post('/api/banking/consent', {
      teamId: team.teamId,
      connectionId: connection.id,
      consentId: 'overtaken~2',
      scopes: ['accounts', 'balances', 'transactions'],
      expiresAt: '2027-05-01T00:00:00Z',
    });
    expect(renewed.statusCode, renewed.body).toBe(200);
    held.release();

    // The update that was overtaken narrows the new consent; it is not refused as a reused consent.
    const updated = await plain;
    expect(updated.statusCode, updated.body).toBe(200);
    expect(updated.json()).toMatchObject({ status: 'AUTHORIZED', scopes: ['balances'] });
    const [listed] = (await listConnections(t, team)).filter((c) => c.id === connection.id);
    expect(listed?.consents.map((c) => [c.status, c.scopes])).toEqual([
      ['REVOKED', ['accounts', 'balances', 'transactions']],
      ['REVOKED', ['accounts', 'balances', 'transactions']],
      ['AUTHORIZED', ['balances']],
    ]);
    expect(bank.revoked).toEqual(['overtaken']);
  });

  it('ends at the bank the consent each re-consent replaced, when two overlap', async () => {
    const team = await t.createTeam();
    const client = t.as(team);
    const connection = await connectSandbox(client, team, { consentId: 'twice' });
    bank.revoked.length = 0;
    const held = bank.hold((consentId) => consentId === 'twice~x');
    const renew = (consentId: string) =>
      client.post('/api/banking/consent', {
        teamId: team.teamId,
        connectionId: connection.id,
        consentId,
        scopes: ['accounts', 'balances', 'transactions'],
        expiresAt: '2027-05-01T00:00:00Z',
      });
    const first = renew('twice~x');
    await held.reached;
    expect((await renew('twice~y')).statusCode).toBe(200);
    held.release();
    expect((await first).statusCode).toBe(200);

    // y replaced the original and x replaced y: each ended at the bank, and x is the connection's.
    expect(bank.revoked).toEqual(['twice', 'twice~y']);
    await syncConnection(t, team, connection.id);
    expect(bank.listedWith.at(-1)).toBe('twice~x');
  });
});

/**
 * The sandbox bank, which can hold a consent update at the provider (after the connection was
 * read, before it is locked) and records which consents it ended and which it listed accounts of.
 */
class GatedSandbox extends SandboxProvider {
  readonly revoked: string[] = [];
  readonly listedWith: string[] = [];
  private readonly update = new Gate();
  private holdUpdateOf: ((consentId: string) => boolean) | null = null;

  constructor(clock: TestClock) {
    super({ clock: clock.now });
  }

  /** Holds the next update of a consent `matches` picks until `release`. */
  hold(matches: (consentId: string) => boolean) {
    this.holdUpdateOf = matches;
    return this.update.hold();
  }

  override async updateConsent(consent: ConsentContext, requested: GrantedConsent): Promise<ConsentGrant> {
    if (this.holdUpdateOf?.(consent.consentId)) {
      this.holdUpdateOf = null;
      await this.update.pass();
    }
    return super.updateConsent(consent, requested);
  }

  override async revokeConsent(consent: ConsentContext): Promise<void> {
    this.revoked.push(consent.consentId);
    return super.revokeConsent(consent);
  }

  override async listAccounts(consent: ConsentContext) {
    this.listedWith.push(consent.consentId);
    return super.listAccounts(consent);
  }
}
