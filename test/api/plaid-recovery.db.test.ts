/**
 * Plaid over HTTP where real Plaid differs from the happy path of the flow test: a re-consent
 * through a new Item at a bank without `persistent_account_id` (most banks), a Capital One
 * credit card (whose balance call needs `min_last_updated_datetime`), and a transaction Plaid
 * adds and deletes again while a pagination is under way.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeItem, FakePlaid } from '../providers/plaid/fake-server.js';
import {
  added,
  CAPITAL_ONE_ID,
  CARD_ID,
  CHECKING_ID,
  fixtureAccounts,
  INSTITUTION_ID,
  initialEvents,
  type Json,
  type SyncEvent,
} from '../providers/plaid/fixtures.js';
import { startTestApp, type Team, type TestApp } from '../support/app.js';
import {
  expectProblem,
  listAccounts,
  listAllTransactions,
  NOTHING_CHANGED,
  syncConnection,
  tick,
} from '../support/fixtures.js';

const SYNC = '/transactions/sync';
const ALL_SCOPES = ['accounts', 'balances', 'transactions'];

/** The same events as they appear in a new Item: new account and transaction ids. */
function inNewItem(events: SyncEvent[], accountIds: Record<string, string>): SyncEvent[] {
  const account = (id: string) => accountIds[id] ?? id;
  return events.map((event) =>
    event.kind === 'removed'
      ? { ...event, transaction_id: `${event.transaction_id}-item2`, account_id: account(event.account_id) }
      : {
          ...event,
          transaction: {
            ...event.transaction,
            transaction_id: `${event.transaction.transaction_id as string}-item2`,
            pending_transaction_id: null,
            account_id: account(event.transaction.account_id as string),
          },
        },
  );
}

/** `count` posted checking transactions, one a day back from 2026-05-01, every name unique. */
function olderHistory(count: number): SyncEvent[] {
  return Array.from({ length: count }, (_, i) =>
    added({
      id: `txnOlder${String(i).padStart(4, '0')}`,
      account: CHECKING_ID,
      amount: (100 + i) / 100,
      date: new Date(Date.parse('2026-05-01T00:00:00Z') - i * 86_400_000).toISOString().slice(0, 10),
      name: `OLDER PURCHASE ${i}`,
      merchant: null,
      category: null,
    }),
  );
}

/** The fixture's accounts at Capital One: Plaid last updated the card's balance at `updated`. */
function capitalOneAccounts(updated: string): Json[] {
  return fixtureAccounts().map((account) =>
    account.type === 'depository'
      ? account
      : { ...account, balances: { ...(account.balances as Json), last_updated_datetime: updated } },
  );
}

describe('Plaid over HTTP: re-consent without persistent ids, Capital One, a mutation mid-pagination', () => {
  const fake = new FakePlaid();
  let t: TestApp;
  let team: Team;

  beforeAll(async () => {
    await fake.start();
    t = await startTestApp({
      env: {
        ...fake.serviceEnv(),
        ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      },
    });
    team = await t.createTeam('Plaid recovery team');
  });

  afterAll(async () => {
    await t?.close();
    await fake.stop();
  });

  async function connect(publicToken: string, providerId = INSTITUTION_ID): Promise<string> {
    const response = await t.as(team).post('/api/banking/connect', {
      teamId: team.teamId,
      provider: 'plaid',
      providerId,
      consentId: publicToken,
    });
    expect(response.statusCode, response.body).toBe(201);
    return (response.json() as { id: string }).id;
  }

  it('matches the accounts of a new Item without persistent_account_id, keeping their ids and history', async () => {
    const first = fake.createItem();
    const connectionId = await connect(first.publicToken);
    tick(t);
    await syncConnection(t, team, connectionId);
    const accountsBefore = await listAccounts(t, team, connectionId);
    const transactionsBefore = await listAllTransactions(t, team, { connectionId });
    expect(accountsBefore).toHaveLength(2);
    expect(transactionsBefore).toHaveLength(8);

    // The user links the bank again (the way out of ITEM_LOGIN_REQUIRED here): a new Item with
    // new account and transaction ids, and, as at most banks, no persistent_account_id.
    const ids: Record<string, string> = {
      [CHECKING_ID]: 'chkItem2000000000000000000000000000000',
      [CARD_ID]: 'crdItem2000000000000000000000000000000',
    };
    const second = fake.createItem({
      accounts: fixtureAccounts().map((account) => ({
        ...account,
        account_id: ids[account.account_id as string],
      })),
      events: inNewItem(initialEvents(), ids),
    });
    expect(second.item.accounts.some((account) => 'persistent_account_id' in account)).toBe(false);
    tick(t);
    const reconsent = await t.as(team).post('/api/banking/consent', {
      teamId: team.teamId,
      connectionId,
      consentId: second.publicToken,
      scopes: ALL_SCOPES,
      expiresAt: '2027-06-01T00:00:00Z',
    });
    expect(reconsent.statusCode, reconsent.body).toBe(200);

    tick(t);
    const resync = await syncConnection(t, team, connectionId);
    expect(resync.sync).toMatchObject({ accountsAdded: 0, transactionsAdded: 0, transactionsRemoved: 0 });
    const accountsAfter = await listAccounts(t, team, connectionId);
    expect(accountsAfter.map((account) => account.id)).toEqual(accountsBefore.map((account) => account.id));
    const transactionsAfter = await listAllTransactions(t, team, { connectionId });
    expect(transactionsAfter.map((transaction) => transaction.id).sort()).toEqual(
      transactionsBefore.map((transaction) => transaction.id).sort(),
    );
    tick(t);
    expect((await syncConnection(t, team, connectionId)).sync).toEqual(NOTHING_CHANGED);
  });

  it('carries the history over at the first sync with transactions after a re-consent that left them out', async () => {
    const first = fake.createItem();
    const connectionId = await connect(first.publicToken);
    tick(t);
    await syncConnection(t, team, connectionId);
    const before = await listAllTransactions(t, team, { connectionId });
    expect(before).toHaveLength(8);
    const ids: Record<string, string> = {
      [CHECKING_ID]: 'chkItem3000000000000000000000000000000',
      [CARD_ID]: 'crdItem3000000000000000000000000000000',
    };
    const second = fake.createItem({
      accounts: fixtureAccounts().map((account) => ({
        ...account,
        account_id: ids[account.account_id as string],
      })),
      events: inNewItem(initialEvents(), ids),
    });
    const consent = (body: object) =>
      t.as(team).post('/api/banking/consent', {
        teamId: team.teamId,
        connectionId,
        expiresAt: '2027-06-01T00:00:00Z',
        ...body,
      });
    tick(t);
    const narrowed = await consent({ consentId: second.publicToken, scopes: ['accounts', 'balances'] });
    expect(narrowed.statusCode, narrowed.body).toBe(200);
    tick(t);
    expect((await syncConnection(t, team, connectionId)).sync).toMatchObject({
      accountsAdded: 0,
      transactionsAdded: 0,
    });
    tick(t);
    expect((await consent({ scopes: ALL_SCOPES })).statusCode).toBe(200);
    tick(t);
    expect((await syncConnection(t, team, connectionId)).sync).toMatchObject({ transactionsAdded: 0 });
    const after = await listAllTransactions(t, team, { connectionId });
    expect(after.map((row) => row.id).sort()).toEqual(before.map((row) => row.id).sort());
    tick(t);
    expect((await syncConnection(t, team, connectionId)).sync).toEqual(NOTHING_CHANGED);
  });

  it('syncs a Capital One credit card, whose balance Plaid gives only with min_last_updated_datetime', async () => {
    const { publicToken } = fake.createItem({
      institutionId: CAPITAL_ONE_ID,
      accounts: capitalOneAccounts('2026-11-26T04:00:00Z'),
    });
    const connectionId = await connect(publicToken, CAPITAL_ONE_ID);
    tick(t);
    const synced = await syncConnection(t, team, connectionId);
    expect(synced.sync).toMatchObject({ accountsAdded: 2, transactionsAdded: 8 });
    const accounts = await listAccounts(t, team, connectionId);
    expect(accounts.map((account) => [account.type, account.balance])).toEqual([
      ['CHECKING', 1210.57],
      ['CREDIT', -410.34],
    ]);
  });

  it('answers 502, not a refused consent, when Capital One has no card balance from the last 30 days', async () => {
    const { publicToken } = fake.createItem({
      institutionId: CAPITAL_ONE_ID,
      accounts: capitalOneAccounts('2026-10-01T00:00:00Z'),
    });
    const connectionId = await connect(publicToken, CAPITAL_ONE_ID);
    tick(t);
    const response = await t.as(team).post('/api/banking/sync', { teamId: team.teamId, connectionId });
    expectProblem(response, 502, 'PROVIDER_UNAVAILABLE');
    expect(response.body).toContain('LAST_UPDATED_DATETIME_OUT_OF_RANGE');
  });

  it('keeps no transaction that Plaid added and deleted again while a pagination was restarted', async () => {
    const { publicToken, item } = fake.createItem();
    const connectionId = await connect(publicToken);
    tick(t);
    await syncConnection(t, team, connectionId);

    // A charge arrives with a backfill of 600 older transactions (two pages of 500). The sync
    // reads the first page, which has the charge; before the second the bank deletes it again:
    // Plaid refuses the second page, and from the stored cursor the charge was never there.
    const PHANTOM = 'txnDoubleCharge01';
    fake.publish(item, [
      added({
        id: PHANTOM,
        account: CHECKING_ID,
        amount: 61.5,
        date: '2026-05-08',
        name: 'DOUBLE CHARGE',
        merchant: null,
      }),
      ...olderHistory(600),
    ]);
    fake.failNext(SYNC, {});
    fake.failNext(SYNC, { onServe: () => fake.retract(item as FakeItem, PHANTOM) });
    const syncsBefore = fake.calls(SYNC).length;
    tick(t);
    const synced = await syncConnection(t, team, connectionId);
    expect(
      fake
        .calls(SYNC)
        .slice(syncsBefore)
        .map((request) => request.response?.body.error_code ?? 'ok'),
    ).toEqual(['ok', 'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION', 'ok', 'ok', 'ok']);
    // Written on the abandoned first page, then deleted once the pagination was complete.
    expect(synced.sync).toMatchObject({ transactionsAdded: 601, transactionsRemoved: 1 });
    const transactions = await listAllTransactions(t, team, { connectionId });
    expect(transactions.filter((transaction) => transaction.description === 'DOUBLE CHARGE')).toEqual([]);
    expect(transactions).toHaveLength(8 + 600);
    tick(t);
    expect((await syncConnection(t, team, connectionId)).sync).toEqual(NOTHING_CHANGED);
  });
});
