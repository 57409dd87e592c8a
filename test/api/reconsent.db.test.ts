import { describe, expect, it } from 'vitest';
import { connectSandbox } from '../support/app.js';
import {
  expectProblem,
  listAccounts,
  listAllTransactions,
  syncConnection,
  useTestApp,
} from '../support/fixtures.js';

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
