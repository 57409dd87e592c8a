/**
 * The whole GoCardless flow over HTTP, against the local fake of the Bank Account Data API:
 * providers and institutions, a consent link, the user's consent at the bank, connect, two syncs,
 * a pending transaction that books under a new id, re-consent with new account ids, the
 * requisition errors, a rate limit part-way through a sync and the sync that resumes, disconnect;
 * then the logs and the stored provider state are searched for secrets.
 *
 * The tests of this file run in order and share one app, one fake and one connection.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACC_CURRENT,
  ACC_SAVINGS,
  dailyLimitExceeded,
  FakeGoCardless,
  INSTITUTION_GB,
  REQ_EXPIRED,
  REQ_SUSPENDED,
  type RecordedRequest,
  SECRET_ID,
  SECRET_KEY,
} from '../providers/gocardless/fake-server.js';
import { startTestApp, type Team, type TestApp, TestClock } from '../support/app.js';
import {
  type AccountBody,
  type AccountDetailsBody,
  type ConnectionBody,
  type ConsentBody,
  DAY_MS,
  expectAccountShape,
  expectConnectionShape,
  expectNewestFirst,
  expectProblem,
  expectTransactionShape,
  expectValidationProblem,
  listAccounts,
  listAllTransactions,
  listConnections,
  syncConnection,
  type TransactionBody,
  tick,
} from '../support/fixtures.js';

const ENCRYPTION_KEY = randomBytes(32).toString('base64');
const START = new Date('2026-11-26T10:00:00.000Z');
const REDIRECT = 'https://app.example.com/banking/gocardless/callback';
const ALL_SCOPES = ['accounts', 'balances', 'transactions'];

/** What the fixture's accounts carry that must never reach a log line. */
const ACCOUNT_SECRETS = [
  'GB33BUKB20201555555555',
  '20201555555555',
  '55555555',
  'GB09BUKB20201573849120',
  '73849120',
  // The counterparty's IBAN in a transaction of the fixture.
  'GB29NWBK60161331926819',
];

/** New account ids GoCardless issues with the second requisition (same accounts at the bank). */
const ACC_CURRENT_2 = '4c6e8a0b-2d4f-4a6c-8e1a-3c5e7a9b1d2f';
const ACC_SAVINGS_2 = '5d7f9b1c-3e5a-4b7d-9f2b-4d6f8b0c2e3a';

const EMPTY_SYNC = {
  accountsAdded: 0,
  accountsUpdated: 0,
  transactionsAdded: 0,
  transactionsUpdated: 0,
  transactionsRemoved: 0,
};

type FakeAccount = NonNullable<ReturnType<FakeGoCardless['accounts']['get']>>;

/** A transaction as the test compares it: what the API says, without our ids. */
function view(transaction: TransactionBody) {
  return {
    account: transaction.account.accountName,
    description: transaction.description,
    amount: transaction.amount,
    currency: transaction.currency,
    type: transaction.type,
    status: transaction.status,
    transactionDate: transaction.transactionDate,
    category: transaction.category,
  };
}

/** Orders transaction views by their whole content, to compare lists as multisets. */
const byContent = (a: object, b: object) => {
  const [x, y] = [JSON.stringify(a), JSON.stringify(b)];
  return x < y ? -1 : x > y ? 1 : 0;
};

/** An account without `updatedAt`, which a sync may move without any field the client sees changing. */
const withoutUpdatedAt = ({ updatedAt: _ignored, ...rest }: AccountBody & { updatedAt?: string }) => rest;

const MAIN = 'Main Account';
const SAVER = 'Everyday Saver';

/** The fixture's transactions as the API must show them after the first sync. */
const FIRST_SYNC = [
  {
    account: MAIN,
    description: 'TESCO STORES 2041 LONDON GB',
    amount: 45.2,
    type: 'DEBIT',
    status: 'BOOKED',
    transactionDate: '2026-11-25T00:00:00.000Z',
    category: 'POS',
  },
  {
    account: MAIN,
    description: 'SALARY NOV 2026 ACME LTD PAYROLL',
    amount: 2450,
    type: 'CREDIT',
    status: 'BOOKED',
    transactionDate: '2026-11-24T00:00:00.000Z',
    category: 'BGC',
  },
  {
    account: MAIN,
    description: 'SPOTIFY',
    amount: 9.99,
    type: 'DEBIT',
    status: 'BOOKED',
    transactionDate: '2026-11-20T00:00:00.000Z',
    category: null,
  },
  // Two genuine identical purchases without any id: both stay.
  {
    account: MAIN,
    description: 'PRET A MANGER',
    amount: 3.1,
    type: 'DEBIT',
    status: 'BOOKED',
    transactionDate: '2026-11-18T00:00:00.000Z',
    category: null,
  },
  {
    account: MAIN,
    description: 'PRET A MANGER',
    amount: 3.1,
    type: 'DEBIT',
    status: 'BOOKED',
    transactionDate: '2026-11-18T00:00:00.000Z',
    category: null,
  },
  {
    account: MAIN,
    description: 'UBER *TRIP HELP.UBER.COM',
    amount: 12,
    type: 'DEBIT',
    status: 'PENDING',
    transactionDate: '2026-11-26T00:00:00.000Z',
    category: null,
  },
  {
    account: MAIN,
    description: 'SHELL PETROL 118',
    amount: 60,
    type: 'DEBIT',
    status: 'PENDING',
    transactionDate: '2026-11-26T00:00:00.000Z',
    category: null,
  },
  {
    account: SAVER,
    description: 'INTEREST PAID',
    amount: 3.27,
    type: 'CREDIT',
    status: 'BOOKED',
    transactionDate: '2026-10-31T00:00:00.000Z',
    category: 'INT',
  },
].map((transaction) => ({ currency: 'GBP', ...transaction }));

describe('GoCardless over HTTP: link, connect, sync twice, re-consent, errors, disconnect', () => {
  const clock = new TestClock(new Date(START));
  const logLines: string[] = [];
  let fake: FakeGoCardless;
  let t: TestApp;
  let team: Team;
  let connectionId: string;
  let firstRequisition: string;
  let secondRequisition: string;
  let accountIds: { main: string; saver: string };

  beforeAll(async () => {
    fake = await FakeGoCardless.start({ now: clock.now });
    t = await startTestApp({
      clock,
      logLines,
      env: {
        ...fake.serviceEnv(),
        ENCRYPTION_KEY,
      },
    });
    team = await t.createTeam('GoCardless flow');
  });

  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });

  const client = () => t.as(team);

  /** The requests the fake received from `from` on (an index into `fake.requests`). */
  const since = (from: number) => fake.requests.slice(from);

  /** `GET /api/v2/accounts/{id}/{part}/` calls among `requests`, as `id part` strings, sorted. */
  const accountCalls = (requests: RecordedRequest[]) =>
    requests
      .filter((r) => r.path.startsWith('/api/v2/accounts/'))
      .map((r) => {
        const [, id, part] = /^\/api\/v2\/accounts\/([^/]+)\/(?:([a-z]+)\/)?$/.exec(r.path) ?? [];
        return `${r.method} ${id} ${part ?? 'metadata'}`;
      })
      .sort();

  const fakeAccount = (id: string): FakeAccount => {
    const account = fake.accounts.get(id);
    if (!account) throw new Error(`the fake has no account ${id}`);
    return account;
  };

  const transactionsOf = async () => listAllTransactions(t, team, { connectionId });

  /** A requisition from the team's consent link with the defaults (every scope, the bank's maximum). */
  async function linkRequisition(): Promise<string> {
    const link = await client().post('/api/banking/consents/link', {
      teamId: team.teamId,
      provider: 'gocardless',
      providerId: INSTITUTION_GB,
      redirectUrl: REDIRECT,
    });
    expect(link.statusCode, link.body).toBe(201);
    return (link.json() as { consentId: string }).consentId;
  }

  /** Every stored provider state is sealed (`v1.`...) and shows nothing of what it holds. */
  async function expectSealedProviderState() {
    const result = (await t.database.db.execute(sql`select provider_state from connections`)) as unknown as {
      rows: { provider_state: string | null }[];
    };
    expect(result.rows.length).toBeGreaterThan(0);
    for (const { provider_state: state } of result.rows) {
      expect(typeof state).toBe('string');
      expect(state).toMatch(/^v1\./);
      for (const plain of [
        SECRET_ID,
        SECRET_KEY,
        ...fake.issuedTokens,
        ...ACCOUNT_SECRETS,
        ACC_CURRENT,
        ACC_SAVINGS,
        ACC_CURRENT_2,
        ACC_SAVINGS_2,
        'requisitionId',
        'accounts',
      ]) {
        expect(state).not.toContain(plain);
      }
    }
  }

  it('lists gocardless as available and searches its institutions by country and name', async () => {
    const providers = await client().get('/api/banking/providers', { teamId: team.teamId });
    expect(providers.statusCode).toBe(200);
    expect((providers.json() as { name: string }[]).find((p) => p.name === 'gocardless')).toEqual({
      name: 'gocardless',
      available: true,
      reason: null,
    });

    const gb = await client().get('/api/banking/institutions', {
      teamId: team.teamId,
      provider: 'gocardless',
      country: 'GB',
    });
    expect(gb.statusCode, gb.body).toBe(200);
    const institutions = gb.json() as { id: string }[];
    expect(institutions.map((i) => i.id)).toEqual([
      'BARCLAYS_BUKBGB22',
      'MONZO_MONZGB2L',
      'NATIONWIDE_NAIAGB21',
      'REVOLUT_REVOGB21',
      'N26_NTSBDEB1',
    ]);
    expect(institutions[0]).toEqual({
      id: INSTITUTION_GB,
      provider: 'gocardless',
      name: 'Barclays Personal',
      countries: ['GB'],
      logoUrl: `https://cdn-logos.gocardless.com/ais/${INSTITUTION_GB}.png`,
      maxHistoryDays: 730,
    });

    const byName = await client().get('/api/banking/institutions', {
      teamId: team.teamId,
      provider: 'gocardless',
      country: 'gb',
      q: 'bank',
    });
    expect(byName.statusCode).toBe(200);
    expect((byName.json() as { id: string }[]).map((i) => i.id)).toEqual(['MONZO_MONZGB2L', 'N26_NTSBDEB1']);
    // One country list from GoCardless served both searches.
    expect(fake.calls('GET', '/api/v2/institutions/').map((r) => r.query)).toEqual([{ country: 'GB' }]);

    expectValidationProblem(
      await client().get('/api/banking/institutions', { teamId: team.teamId, provider: 'gocardless' }),
      ['/country'],
    );
    expectProblem(
      await client().get('/api/banking/institutions', {
        teamId: team.teamId,
        provider: 'gocardless',
        country: 'US',
      }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('links: an agreement with the scopes and days asked for, then a requisition with the redirect', async () => {
    const before = fake.requests.length;
    const link = await client().post('/api/banking/consents/link', {
      teamId: team.teamId,
      provider: 'gocardless',
      providerId: INSTITUTION_GB,
      redirectUrl: REDIRECT,
      scopes: ['transactions', 'accounts', 'balances'],
      days: 60,
    });
    expect(link.statusCode, link.body).toBe(201);
    const body = link.json() as { consentId: string; url: string; expiresAt: string };
    firstRequisition = body.consentId;
    const requisition = fake.requisitions.get(firstRequisition);
    expect(requisition?.status).toBe('CR');
    expect(body).toEqual({
      consentId: requisition?.id,
      url: `https://ob.gocardless.com/psd2/start/${firstRequisition}/${INSTITUTION_GB}`,
      expiresAt: new Date(START.getTime() + DAY_MS).toISOString(),
    });

    const calls = since(before).filter((r) => !r.path.startsWith('/api/v2/token/'));
    expect(calls.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'POST /api/v2/agreements/enduser/ 201',
      'POST /api/v2/requisitions/ 201',
    ]);
    expect(calls[0]?.body).toEqual({
      institution_id: INSTITUTION_GB,
      max_historical_days: 730,
      access_valid_for_days: 60,
      access_scope: ['details', 'balances', 'transactions'],
    });
    expect(calls[1]?.body).toEqual({
      redirect: REDIRECT,
      institution_id: INSTITUTION_GB,
      reference: expect.stringMatching(new RegExp(`^${team.teamId}-[0-9a-f]{16}$`)),
      agreement: requisition?.agreement,
    });
    expect(fake.agreements.get(requisition?.agreement ?? '')?.accepted).toBeNull();

    // A narrower link: our `accounts` is GoCardless's `details`; days capped at the bank's 90.
    const narrow = await client().post('/api/banking/consents/link', {
      teamId: team.teamId,
      provider: 'gocardless',
      providerId: INSTITUTION_GB,
      redirectUrl: REDIRECT,
      scopes: ['balances', 'accounts'],
      days: 400,
    });
    expect(narrow.statusCode, narrow.body).toBe(201);
    expect(fake.calls('POST', '/api/v2/agreements/enduser/').at(-1)?.body).toEqual({
      institution_id: INSTITUTION_GB,
      max_historical_days: 730,
      access_valid_for_days: 90,
      access_scope: ['details', 'balances'],
    });
  });

  it('refuses to connect before the user has consented at the bank', async () => {
    const early = await client().post('/api/banking/connect', {
      teamId: team.teamId,
      provider: 'gocardless',
      providerId: INSTITUTION_GB,
      consentId: firstRequisition,
    });
    expectProblem(early, 422, 'PROVIDER_CONSENT_INVALID');
    expect(await listConnections(t, team)).toEqual([]);
  });

  it('connects once the requisition is linked: scopes and expiry from the agreement', async () => {
    // The user consents at the bank five minutes later and comes back.
    tick(t, 5);
    const accepted = clock.now();
    fake.linkRequisition(firstRequisition, [ACC_CURRENT, ACC_SAVINGS]);
    const before = fake.requests.length;
    const response = await client().post('/api/banking/connect', {
      teamId: team.teamId,
      provider: 'gocardless',
      providerId: INSTITUTION_GB,
      consentId: firstRequisition,
    });
    expect(response.statusCode, response.body).toBe(201);
    const connection = response.json() as ConnectionBody;
    expectConnectionShape(connection, team);
    connectionId = connection.id;
    expect(connection).toMatchObject({
      provider: 'gocardless',
      providerId: INSTITUTION_GB,
      status: 'ACTIVE',
      lastSyncedAt: null,
    });
    expect(connection.consents).toHaveLength(1);
    expect(connection.consents[0]).toMatchObject({
      status: 'AUTHORIZED',
      scopes: ALL_SCOPES,
      expiresAt: new Date(accepted.getTime() + 60 * DAY_MS).toISOString(),
      revokedAt: null,
    });
    // Connect asks for the requisition and its agreement; it spends no account call.
    const agreementId = fake.requisitions.get(firstRequisition)?.agreement;
    expect(
      since(before)
        .filter((r) => !r.path.startsWith('/api/v2/token/'))
        .map((r) => `${r.method} ${r.path}`),
    ).toEqual([
      `GET /api/v2/requisitions/${firstRequisition}/`,
      `GET /api/v2/agreements/enduser/${agreementId}/`,
    ]);
    await expectSealedProviderState();

    const again = await client().post('/api/banking/connect', {
      teamId: team.teamId,
      provider: 'gocardless',
      providerId: INSTITUTION_GB,
      consentId: firstRequisition,
    });
    expectProblem(again, 409, 'CONSENT_ALREADY_CONNECTED');
  });

  it('first sync imports exactly the fixture: accounts, balances, signs, booked and pending', async () => {
    const before = fake.requests.length;
    const synced = await syncConnection(t, team, connectionId);
    expect(synced.sync).toEqual({
      accountsAdded: 2,
      accountsUpdated: 0,
      transactionsAdded: 8,
      transactionsUpdated: 0,
      transactionsRemoved: 0,
    });
    expect(synced.lastSyncedAt).toBe(clock.now().toISOString());

    // One details, one balances and one transactions call per account, and nothing else.
    const calls = since(before);
    expect(calls.filter((r) => !r.path.startsWith('/api/v2/token/')).map((r) => r.path)).toHaveLength(6);
    expect(accountCalls(calls)).toEqual(
      [
        `GET ${ACC_CURRENT} balances`,
        `GET ${ACC_CURRENT} details`,
        `GET ${ACC_CURRENT} transactions`,
        `GET ${ACC_SAVINGS} balances`,
        `GET ${ACC_SAVINGS} details`,
        `GET ${ACC_SAVINGS} transactions`,
      ].sort(),
    );
    // All the history the agreement gives (730 days), up to today.
    for (const call of calls.filter((r) => r.path.endsWith('/transactions/'))) {
      expect(call.query).toEqual({ date_from: '2024-11-26', date_to: '2026-11-26' });
    }

    const accounts = await listAccounts(t, team, connectionId);
    for (const account of accounts) expectAccountShape(account);
    expect(accounts.map((a) => ({ ...withoutUpdatedAt(a), id: undefined, createdAt: undefined }))).toEqual([
      {
        id: undefined,
        createdAt: undefined,
        connectionId,
        accountName: MAIN,
        accountNumber: '55555555',
        sortCode: '202015',
        currency: 'GBP',
        type: 'CHECKING',
        // interimBooked (changed this morning) over yesterday's closingBooked; interimAvailable.
        balance: 1187.51,
        availableBalance: 1682.51,
        connection: { id: connectionId, provider: 'gocardless', status: 'ACTIVE' },
      },
      {
        id: undefined,
        createdAt: undefined,
        connectionId,
        accountName: SAVER,
        accountNumber: '73849120',
        sortCode: '202015',
        currency: 'GBP',
        type: 'SAVINGS',
        // No booked balance given: `expected` stands in.
        balance: 5200,
        availableBalance: 5200,
        connection: { id: connectionId, provider: 'gocardless', status: 'ACTIVE' },
      },
    ]);
    accountIds = { main: accounts[0]?.id ?? '', saver: accounts[1]?.id ?? '' };

    const transactions = await transactionsOf();
    expect(transactions).toHaveLength(8);
    for (const transaction of transactions) expectTransactionShape(transaction);
    expectNewestFirst(transactions);
    expect(transactions.map(view).sort(byContent)).toEqual([...FIRST_SYNC].sort(byContent));
    // The booked transaction of 2024-10-01 is older than the agreement's 730 days: not given.
    expect(transactions.some((tx) => tx.transactionDate.startsWith('2024-'))).toBe(false);
    expect(new Set(transactions.map((tx) => tx.id)).size).toBe(8);

    const counts = await Promise.all(
      [accountIds.main, accountIds.saver].map(async (id) => {
        const response = await client().get(`/api/banking/accounts/${id}`, { teamId: team.teamId });
        expect(response.statusCode).toBe(200);
        return (response.json() as AccountDetailsBody).transactionCount;
      }),
    );
    expect(counts).toEqual([7, 1]);
    await expectSealedProviderState();
  });

  it('second sync of unchanged data changes nothing', async () => {
    const accounts = await listAccounts(t, team, connectionId);
    const transactions = await transactionsOf();
    tick(t, 30);
    const before = fake.requests.length;
    const synced = await syncConnection(t, team, connectionId);
    expect(synced.sync).toEqual(EMPTY_SYNC);
    expect(synced.lastSyncedAt).toBe(clock.now().toISOString());
    expect(accountCalls(since(before))).toHaveLength(6);
    expect(await listAccounts(t, team, connectionId)).toEqual(accounts);
    expect(await transactionsOf()).toEqual(transactions);
  });

  it('a pending transaction that books under a new id replaces the pending row; new ones are added', async () => {
    const before = await transactionsOf();
    const pendingShell = before.find((tx) => tx.description === 'SHELL PETROL 118');
    const pendingUber = before.find((tx) => tx.description.startsWith('UBER'));
    expect(pendingShell?.status).toBe('PENDING');

    // The next day at the bank: the fuel payment books under a new transactionId, a refund
    // arrives (money in, positive amount), and the booked balance moves.
    clock.advanceDays(1);
    const main = fakeAccount(ACC_CURRENT);
    main.pending = main.pending.filter((item) => item.transactionId !== 'PD20261126-000002');
    expect(main.pending).toHaveLength(1);
    main.booked.unshift(
      {
        transactionId: 'BK20261127-000302',
        bookingDate: '2026-11-27',
        valueDate: '2026-11-27',
        transactionAmount: { amount: '15.5', currency: 'GBP' },
        creditorName: 'Jane Doe',
        debtorName: 'AMAZON EU SARL',
        proprietaryBankTransactionCode: 'RFD',
      },
      {
        transactionId: 'BK20261127-000301',
        bookingDate: '2026-11-27',
        valueDate: '2026-11-26',
        transactionAmount: { amount: '-60.00', currency: 'GBP' },
        creditorName: 'SHELL PETROL 118',
        proprietaryBankTransactionCode: 'POS',
      },
    );
    main.balances = main.balances.map((balance) =>
      balance.balanceType === 'interimBooked'
        ? {
            ...balance,
            balanceAmount: { amount: '1143.01', currency: 'GBP' },
            referenceDate: '2026-11-27',
            lastChangeDateTime: '2026-11-27T08:00:00.000Z',
          }
        : balance,
    );

    const synced = await syncConnection(t, team, connectionId);
    expect(synced.sync).toEqual({
      accountsAdded: 0,
      accountsUpdated: 1,
      transactionsAdded: 2,
      transactionsUpdated: 0,
      transactionsRemoved: 1,
    });

    const after = await transactionsOf();
    expect(after).toHaveLength(9);
    expectNewestFirst(after);
    // The pending row is gone; the booked one is a new row. Everything else keeps its id.
    expect(after.some((tx) => tx.id === pendingShell?.id)).toBe(false);
    const unchanged = before.filter((tx) => tx.id !== pendingShell?.id);
    for (const transaction of unchanged) expect(after).toContainEqual(transaction);
    expect(after.find((tx) => tx.id === pendingUber?.id)?.status).toBe('PENDING');
    const added = after.filter((tx) => !before.some((old) => old.id === tx.id)).map(view);
    expect(added.sort(byContent)).toEqual(
      [
        {
          account: MAIN,
          description: 'SHELL PETROL 118',
          amount: 60,
          currency: 'GBP',
          type: 'DEBIT',
          status: 'BOOKED',
          transactionDate: '2026-11-27T00:00:00.000Z',
          category: 'POS',
        },
        {
          // Money in: the debtor is the counterparty; 15.5 is exact to the penny.
          account: MAIN,
          description: 'AMAZON EU SARL',
          amount: 15.5,
          currency: 'GBP',
          type: 'CREDIT',
          status: 'BOOKED',
          transactionDate: '2026-11-27T00:00:00.000Z',
          category: 'RFD',
        },
      ].sort(byContent),
    );
    const mainAccount = (await listAccounts(t, team, connectionId)).find((a) => a.id === accountIds.main);
    expect(mainAccount).toMatchObject({ balance: 1143.01, availableBalance: 1682.51 });
    const details = await client().get(`/api/banking/accounts/${accountIds.main}`, { teamId: team.teamId });
    expect((details.json() as AccountDetailsBody).transactionCount).toBe(8);
  });

  it('re-consent: a new requisition with new account ids keeps our accounts and transactions', async () => {
    const accountsBefore = await listAccounts(t, team, connectionId);
    const transactionsBefore = await transactionsOf();

    secondRequisition = await linkRequisition();
    expect(secondRequisition).not.toBe(firstRequisition);
    // No days asked: the bank's maximum (90); no scopes: all three.
    expect(fake.calls('POST', '/api/v2/agreements/enduser/').at(-1)?.body).toEqual({
      institution_id: INSTITUTION_GB,
      max_historical_days: 730,
      access_valid_for_days: 90,
      access_scope: ['details', 'balances', 'transactions'],
    });

    // GoCardless issues new account ids for the same accounts (same IBANs and numbers).
    for (const [oldId, newId] of [
      [ACC_CURRENT, ACC_CURRENT_2],
      [ACC_SAVINGS, ACC_SAVINGS_2],
    ] as const) {
      const copy = structuredClone(fakeAccount(oldId));
      fake.accounts.set(newId, { ...copy, id: newId, metadata: { ...copy.metadata, id: newId } });
    }
    tick(t, 3);
    const accepted = clock.now();
    fake.linkRequisition(secondRequisition, [ACC_CURRENT_2, ACC_SAVINGS_2]);
    const expiresAt = new Date(accepted.getTime() + 90 * DAY_MS).toISOString();

    const renewed = await client().post('/api/banking/consent', {
      teamId: team.teamId,
      connectionId,
      consentId: secondRequisition,
      scopes: ALL_SCOPES,
      expiresAt,
    });
    expect(renewed.statusCode, renewed.body).toBe(200);
    expect(renewed.json()).toMatchObject({
      status: 'AUTHORIZED',
      scopes: ALL_SCOPES,
      expiresAt,
      revokedAt: null,
    });
    // The replaced requisition is deleted at GoCardless; the new one is not.
    expect(fake.calls('DELETE', `/api/v2/requisitions/${firstRequisition}/`)).toHaveLength(1);
    expect(fake.calls('DELETE', /^\/api\/v2\/requisitions\//)).toHaveLength(1);
    expect(fake.requisitions.has(firstRequisition)).toBe(false);
    expect(fake.requisitions.get(secondRequisition)?.status).toBe('LN');
    const connection = (await listConnections(t, team)).find((c) => c.id === connectionId);
    expect(connection?.consents.map((c: ConsentBody) => c.status)).toEqual(['REVOKED', 'AUTHORIZED']);
    await expectSealedProviderState();

    const before = fake.requests.length;
    const synced = await syncConnection(t, team, connectionId);
    // Both accounts matched by sort code and number: only GoCardless's account id changed on them.
    expect(synced.sync).toEqual({ ...EMPTY_SYNC, accountsUpdated: 2 });
    expect(accountCalls(since(before))).toEqual(
      [
        `GET ${ACC_CURRENT_2} balances`,
        `GET ${ACC_CURRENT_2} details`,
        `GET ${ACC_CURRENT_2} transactions`,
        `GET ${ACC_SAVINGS_2} balances`,
        `GET ${ACC_SAVINGS_2} details`,
        `GET ${ACC_SAVINGS_2} transactions`,
      ].sort(),
    );
    const accountsAfter = await listAccounts(t, team, connectionId);
    expect(accountsAfter.map(withoutUpdatedAt)).toEqual(accountsBefore.map(withoutUpdatedAt));
    expect(await listAccounts(t, team)).toHaveLength(2);
    expect(await transactionsOf()).toEqual(transactionsBefore);

    // And the sync after is quiet again.
    expect((await syncConnection(t, team, connectionId)).sync).toEqual(EMPTY_SYNC);
  });

  it('answers 422 with the contract code for a rejected, expired or suspended requisition', async () => {
    const connectionsBefore = await listConnections(t, team);

    // The user turned the bank down: GoCardless marks the requisition RJ.
    const rejectedId = await linkRequisition();
    const rejected = fake.requisitions.get(rejectedId);
    if (!rejected) throw new Error('no requisition');
    rejected.status = 'RJ';
    const connect = (consentId: string) =>
      client().post('/api/banking/connect', {
        teamId: team.teamId,
        provider: 'gocardless',
        providerId: INSTITUTION_GB,
        consentId,
      });
    expectProblem(await connect(rejectedId), 422, 'PROVIDER_CONSENT_INVALID');
    expectProblem(await connect(REQ_EXPIRED), 422, 'PROVIDER_CONSENT_EXPIRED');
    expectProblem(await connect(REQ_SUSPENDED), 422, 'PROVIDER_CONSENT_REVOKED');
    // A request that fails writes nothing.
    expect(await listConnections(t, team)).toEqual(connectionsBefore);
  });

  it("refuses another team a requisition linked for this one: 422, and that team gets nothing of this team's bank", async () => {
    const requisitionId = await linkRequisition();
    fake.linkRequisition(requisitionId, [ACC_CURRENT]);
    const other = await t.createTeam('Another GoCardless team');
    const claimed = await t.as(other).post('/api/banking/connect', {
      teamId: other.teamId,
      provider: 'gocardless',
      providerId: INSTITUTION_GB,
      consentId: requisitionId,
    });
    const unknown = await t.as(other).post('/api/banking/connect', {
      teamId: other.teamId,
      provider: 'gocardless',
      providerId: INSTITUTION_GB,
      consentId: '7f3e9a51-0000-4000-8000-000000000000',
    });
    // The same answer as for a requisition GoCardless does not know: that it is another team's,
    // or whether it is linked or expired, is not told.
    const refusal = expectProblem(claimed, 422, 'PROVIDER_CONSENT_INVALID');
    expect({ ...refusal, requestId: null }).toEqual({
      ...expectProblem(unknown, 422, 'PROVIDER_CONSENT_INVALID'),
      requestId: null,
    });
    expect(await listConnections(t, other)).toEqual([]);
  });

  it('a rate limit part-way answers 503 with Retry-After and keeps what was imported; the next sync resumes', async () => {
    const connectionBefore = (await listConnections(t, team)).find((c) => c.id === connectionId);
    const transactionsBefore = await transactionsOf();

    const main = fakeAccount(ACC_CURRENT_2);
    main.booked.unshift({
      transactionId: 'BK20261127-000410',
      bookingDate: '2026-11-27',
      valueDate: '2026-11-27',
      transactionAmount: { amount: '-4.20', currency: 'GBP' },
      remittanceInformationUnstructured: 'COSTA COFFEE',
    });
    const saver = fakeAccount(ACC_SAVINGS_2);
    saver.booked.unshift({
      transactionId: 'BK20261127-000912',
      bookingDate: '2026-11-27',
      valueDate: '2026-11-27',
      transactionAmount: { amount: '0.42', currency: 'GBP' },
      remittanceInformationUnstructured: 'INTEREST ADJUSTMENT',
    });
    saver.balances = saver.balances.map((balance) => ({
      ...balance,
      balanceAmount: { amount: '5200.42', currency: 'GBP' },
    }));
    // The bank's daily limit on the savings account's transactions is spent.
    fake.inject({
      method: 'GET',
      path: `/api/v2/accounts/${ACC_SAVINGS_2}/transactions/`,
      ...dailyLimitExceeded(4, 50400),
    });

    tick(t, 10);
    const limited = await client().post('/api/banking/sync', { teamId: team.teamId, connectionId });
    expectProblem(limited, 503, 'PROVIDER_RATE_LIMITED');
    // From the per-account reset header, not the API-wide one (under a minute) the fake also sends.
    expect(limited.headers['retry-after']).toBe('50400');
    expect(fake.calls('GET', `/api/v2/accounts/${ACC_SAVINGS_2}/transactions/`).map((r) => r.status)).toEqual(
      [200, 200, 429],
    );

    // The main account's new transaction is kept; the savings account is as it was.
    const afterLimit = await transactionsOf();
    expect(afterLimit).toHaveLength(transactionsBefore.length + 1);
    const costa = afterLimit.filter((tx) => !transactionsBefore.some((old) => old.id === tx.id));
    expect(costa.map(view)).toEqual([
      {
        account: MAIN,
        description: 'COSTA COFFEE',
        amount: 4.2,
        currency: 'GBP',
        type: 'DEBIT',
        status: 'BOOKED',
        transactionDate: '2026-11-27T00:00:00.000Z',
        category: null,
      },
    ]);
    expect((await listAccounts(t, team, connectionId)).find((a) => a.id === accountIds.saver)?.balance).toBe(
      5200,
    );
    const connectionAfter = (await listConnections(t, team)).find((c) => c.id === connectionId);
    expect(connectionAfter?.lastSyncedAt).toBe(connectionBefore?.lastSyncedAt);

    tick(t, 10);
    const resumed = await syncConnection(t, team, connectionId);
    expect(resumed.sync).toEqual({
      accountsAdded: 0,
      accountsUpdated: 1,
      transactionsAdded: 1,
      transactionsUpdated: 0,
      transactionsRemoved: 0,
    });
    expect(resumed.lastSyncedAt).toBe(clock.now().toISOString());
    const final = await transactionsOf();
    expect(final).toHaveLength(transactionsBefore.length + 2);
    expect(new Set(final.map((tx) => tx.id)).size).toBe(final.length);
    expect(final.find((tx) => tx.description === 'INTEREST ADJUSTMENT')).toMatchObject({
      accountId: accountIds.saver,
      amount: 0.42,
      type: 'CREDIT',
      status: 'BOOKED',
    });
    expect((await listAccounts(t, team, connectionId)).find((a) => a.id === accountIds.saver)).toMatchObject({
      balance: 5200.42,
      availableBalance: 5200.42,
    });
    const counts = await Promise.all(
      [accountIds.main, accountIds.saver].map(async (id) => {
        const response = await client().get(`/api/banking/accounts/${id}`, { teamId: team.teamId });
        return (response.json() as AccountDetailsBody).transactionCount;
      }),
    );
    expect(counts).toEqual([9, 2]);
  });

  it("spends at most the bank's 4 calls a day per account and scope; the 5th answers 503 until midnight", async () => {
    // Today each new account has had 4 details and 4 balances calls (re-consent sync, the quiet
    // sync, the limited sync, the resumed one): a fifth sync the same day hits the bank's limit
    // on the first call and writes nothing.
    const connectionBefore = (await listConnections(t, team)).find((c) => c.id === connectionId);
    const transactionsBefore = await transactionsOf();
    const before = fake.requests.length;
    const limited = await client().post('/api/banking/sync', { teamId: team.teamId, connectionId });
    expectProblem(limited, 503, 'PROVIDER_RATE_LIMITED');
    const now = clock.now();
    const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    expect(limited.headers['retry-after']).toBe(String(Math.ceil((midnight - now.getTime()) / 1000)));
    expect(
      since(before)
        .filter((r) => r.path.startsWith('/api/v2/accounts/'))
        .map((r) => `${r.path} ${r.status}`),
    ).toEqual([`/api/v2/accounts/${ACC_CURRENT_2}/details/ 429`]);
    expect((await listConnections(t, team)).find((c) => c.id === connectionId)).toEqual(connectionBefore);
    expect(await transactionsOf()).toEqual(transactionsBefore);

    // The next day the bank answers again, and nothing has changed.
    clock.advanceDays(1);
    expect((await syncConnection(t, team, connectionId)).sync).toEqual(EMPTY_SYNC);
    expect(await transactionsOf()).toEqual(transactionsBefore);
  });

  it('disconnect deletes the requisition at GoCardless and keeps the data', async () => {
    const accountsBefore = await listAccounts(t, team, connectionId);
    const transactionsBefore = await transactionsOf();
    tick(t, 5);
    const response = await client().post('/api/banking/disconnect', { teamId: team.teamId, connectionId });
    expect(response.statusCode, response.body).toBe(200);
    const connection = response.json() as ConnectionBody;
    expect(connection.status).toBe('DISCONNECTED');
    expect(connection.consents.map((c) => c.status)).toEqual(['REVOKED', 'REVOKED']);
    expect(connection.consents[1]?.revokedAt).toBe(clock.now().toISOString());
    expect(fake.calls('DELETE', `/api/v2/requisitions/${secondRequisition}/`).map((r) => r.status)).toEqual([
      200,
    ]);
    expect(fake.requisitions.has(secondRequisition)).toBe(false);

    const accountsAfter = await listAccounts(t, team, connectionId);
    expect(accountsAfter).toEqual(
      accountsBefore.map((account) => ({
        ...account,
        connection: { ...account.connection, status: 'DISCONNECTED' },
      })),
    );
    expect(await transactionsOf()).toEqual(transactionsBefore);

    // Idempotent: the same state. GoCardless is asked again, in case the first delete had not
    // reached it, and its 404 for a requisition already deleted is no error.
    const again = await client().post('/api/banking/disconnect', { teamId: team.teamId, connectionId });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(connection);
    const deletes = fake.calls('DELETE', /^\/api\/v2\/requisitions\//);
    expect(deletes).toHaveLength(3);
    expect(deletes.at(-1)?.status).toBe(404);
    expectProblem(
      await client().post('/api/banking/sync', { teamId: team.teamId, connectionId }),
      409,
      'CONNECTION_DISCONNECTED',
    );
  });

  it('no log line holds a secret, a token or an account number; the stored state is sealed', async () => {
    // The run used the secrets once for a token pair and refreshed the access token on each of
    // the two later days.
    expect(fake.calls('POST', '/api/v2/token/new/')).toHaveLength(1);
    expect(fake.calls('POST', '/api/v2/token/refresh/')).toHaveLength(2);
    expect(fake.issuedTokens).toHaveLength(4);
    // Every call to GoCardless beyond the token endpoints carried one of them.
    for (const call of fake.requests.filter((r) => !r.path.startsWith('/api/v2/token/'))) {
      expect(fake.issuedTokens.map((token) => `Bearer ${token}`)).toContain(call.authorization);
    }

    expect(logLines.length).toBeGreaterThan(20);
    const text = logLines.join('');
    // The log did record the run (requests, and the rate limit).
    expect(text).toContain('/api/banking/sync');
    expect(text).toContain('PROVIDER_RATE_LIMITED');
    const secrets = [SECRET_ID, SECRET_KEY, ENCRYPTION_KEY, ...fake.issuedTokens, ...ACCOUNT_SECRETS];
    for (const [index, line] of logLines.entries()) {
      for (const secret of secrets) {
        expect(line.includes(secret), `log line ${index} holds ${secret.slice(0, 12)}...: ${line}`).toBe(
          false,
        );
      }
    }
    await expectSealedProviderState();
  });
});
