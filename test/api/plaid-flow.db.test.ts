/**
 * The whole Plaid flow over HTTP, against the local fake of Plaid's API: providers and
 * institutions, a Hosted Link session, connect (one public token exchange), a first sync over
 * several /transactions/sync pages, a second sync with nothing new, crafted changes (pending to
 * posted under a new id, a modification, removals) with a mutation during pagination, errors,
 * re-consent through a new Item, disconnect, and finally the logs and the stored provider state
 * searched for secrets. Counts are exact throughout.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.js';
import { RATE_LIMIT_RETRY_SECONDS } from '../../src/providers/plaid/index.js';
import { createSecretBox } from '../../src/secrets.js';
import { FAKE_SECRET, type FakeItem, FakePlaid } from '../providers/plaid/fake-server.js';
import {
  added,
  BOOKSHOP,
  CARD_ID,
  CHECKING_ID,
  COFFEE,
  FUEL_PENDING,
  fixtureAccounts,
  GROCERY_PENDING,
  GROCERY_POSTED,
  INSTITUTION_ID,
  initialEvents,
  type Json,
  modified,
  REFUND,
  removed,
  type SyncEvent,
} from '../providers/plaid/fixtures.js';
import { startTestApp, type Team, type TestApp } from '../support/app.js';
import {
  type AccountBody,
  type AccountDetailsBody,
  type ConnectionBody,
  type ConsentBody,
  expectAccountShape,
  expectIsoUtc,
  expectNewestFirst,
  expectProblem,
  expectTransactionShape,
  listAccounts,
  listAllTransactions,
  listConnections,
  NOTHING_CHANGED,
  type SyncBody,
  syncConnection,
  type TransactionBody,
  tick,
} from '../support/fixtures.js';

const SYNC = '/transactions/sync';
/** Plaid's maximum `count` per /transactions/sync call, which the adapter asks for. */
const PAGE = 500;
/** Older checking transactions the item holds at first: with the fixtures, three pages. */
const HISTORY = 1_100;
/** Older still: what Plaid's historical update brings later, over two pages. */
const BACKFILL = 600;
const CHECKING_2 = 'chk2Xn5Wd8Qa3Lr6Zt1Ym4Vb7Kp0Hs9Gf2Ju';
const CARD_2 = 'crd2Tb6Ny3Pe8Mk1Rw5Qz0Lc4Xv7Df2Sa9Jh';
const ACCOUNT_NAMES: Record<string, string> = {
  [CHECKING_ID]: 'Everyday Checking',
  [CARD_ID]: 'Harbour Rewards Card',
  [CHECKING_2]: 'Everyday Checking',
  [CARD_2]: 'Harbour Rewards Card',
};
const ALL_SCOPES = ['accounts', 'balances', 'transactions'];
// ---------------------------------------------------------------------------------------------
// Fake data

const PFC: [string, string][] = [
  ['GENERAL_MERCHANDISE', 'GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE'],
  ['FOOD_AND_DRINK', 'FOOD_AND_DRINK_RESTAURANT'],
  ['TRANSPORTATION', 'TRANSPORTATION_PUBLIC_TRANSIT'],
  ['TRANSFER_IN', 'TRANSFER_IN_DEPOSIT'],
];

/**
 * `count` posted checking transactions, four a day from `firstDay`: exact cents, one in nine
 * money in (a negative Plaid amount), one in five without a category, every name unique.
 */
function history(prefix: string, count: number, firstDay: string): SyncEvent[] {
  const start = Date.parse(`${firstDay}T00:00:00Z`);
  return Array.from({ length: count }, (_, i) => {
    const cents = 101 + ((i * 7919) % 25_000);
    const date = new Date(start + Math.floor(i / 4) * 86_400_000).toISOString().slice(0, 10);
    return added({
      id: `${prefix}${String(i).padStart(5, '0')}`,
      account: CHECKING_ID,
      amount: (i % 9 === 0 ? -cents : cents) / 100,
      date,
      name: `${prefix.toUpperCase()} PURCHASE ${i}`,
      merchant: null,
      category: i % 5 === 0 ? null : (PFC[i % PFC.length] as [string, string]),
    });
  });
}

/**
 * The item's accounts as the fixture has them, under the given ids. Like most banks (Plaid gives
 * a `persistent_account_id` only at a few, Chase among them), without one.
 */
function itemAccounts(ids: { checking: string; card: string }): Json[] {
  return fixtureAccounts().map((account) =>
    account.account_id === CHECKING_ID
      ? { ...account, account_id: ids.checking }
      : { ...account, account_id: ids.card },
  );
}

/** What an item holds now: its log replayed (added and modified set, removed deleted). */
function liveTransactions(item: FakeItem): Json[] {
  const live = new Map<string, Json>();
  for (const event of item.log) {
    if (event.kind === 'removed') live.delete(event.transaction_id);
    else live.set(event.transaction.transaction_id as string, event.transaction);
  }
  return [...live.values()];
}

interface Row {
  account: string;
  description: string;
  amount: number;
  type: string;
  status: string;
  category: string | null;
  transactionDate: string;
}

/**
 * What the API should show for a Plaid transaction: positive amount DEBIT, negative CREDIT,
 * the magnitude; the authorised date before the posted one; merchant name before name;
 * `personal_finance_category.primary` in lower case.
 */
function expectedRow(transaction: Json): Row {
  const amount = transaction.amount as number;
  const day = (transaction.authorized_datetime ??
    transaction.authorized_date ??
    transaction.datetime ??
    transaction.date) as string;
  const category = transaction.personal_finance_category as { primary: string } | null;
  return {
    account: ACCOUNT_NAMES[transaction.account_id as string] as string,
    description: (transaction.merchant_name ?? transaction.name) as string,
    amount: Math.round(Math.abs(amount) * 100) / 100,
    type: amount > 0 ? 'DEBIT' : 'CREDIT',
    status: transaction.pending ? 'PENDING' : 'BOOKED',
    category: category ? category.primary.toLowerCase() : null,
    transactionDate: new Date(day.length === 10 ? `${day}T00:00:00Z` : day).toISOString(),
  };
}

const rowOf = (transaction: TransactionBody): Row => ({
  account: transaction.account.accountName,
  description: transaction.description,
  amount: transaction.amount,
  type: transaction.type,
  status: transaction.status,
  category: transaction.category,
  transactionDate: transaction.transactionDate,
});

const sorted = (rows: Row[]) => rows.map((row) => JSON.stringify(row)).sort();

// ---------------------------------------------------------------------------------------------

describe('Plaid over HTTP: link, connect, sync twice, changes, errors, re-consent, disconnect', () => {
  const fake = new FakePlaid();
  const logLines: string[] = [];
  let t: TestApp;
  let team: Team;
  let connectionId: string;
  let item: FakeItem;
  let linkToken: string;
  /** Values of `connections.provider_state` seen along the way. */
  const storedStates: string[] = [];

  const encryptionKey = randomBytes(32);
  const box = createSecretBox(encryptionKey);
  /** A stored provider state, opened with the test's key. */
  const open = (sealed: string | undefined) => JSON.parse(box.open(sealed ?? '')) as Json;

  beforeAll(async () => {
    await fake.start();
    t = await startTestApp({
      env: {
        ...fake.serviceEnv(),
        ENCRYPTION_KEY: encryptionKey.toString('base64'),
      },
      logLines,
    });
    team = await t.createTeam('Plaid team');
  });

  afterAll(async () => {
    await t?.close();
    await fake.stop();
  });

  const client = () => t.as(team);

  async function providerStates(): Promise<string[]> {
    const result = await t.database.db.execute(sql`select provider_state from connections`);
    const states = rowsOf<{ provider_state: string | null }>(result).map((row) => row.provider_state);
    for (const state of states) {
      expect(state).toEqual(expect.any(String));
      storedStates.push(state as string);
    }
    return states as string[];
  }

  async function snapshot() {
    const accounts = await listAccounts(t, team, connectionId);
    const transactions = await listAllTransactions(t, team, { connectionId });
    return { accounts, transactions };
  }

  async function connection(): Promise<ConnectionBody> {
    const found = (await listConnections(t, team)).find((c) => c.id === connectionId);
    if (!found) throw new Error('connection not listed');
    return found;
  }

  /** The /transactions/sync requests made from the `from`-th on, as [account, cursor]. */
  function syncRequests(from: number) {
    return fake
      .calls(SYNC)
      .slice(from)
      .map((request) => [(request.body.options as { account_id: string }).account_id, request.body.cursor]);
  }

  /** The `next_cursor` of the last complete page (has_more false) the fake served an account. */
  function finalCursor(accountId: string): string {
    const pages = fake
      .calls(SYNC)
      .filter(
        (request) =>
          (request.body.options as { account_id: string }).account_id === accountId &&
          request.response?.status === 200 &&
          request.response.body.has_more === false,
      );
    const cursor = pages.at(-1)?.response?.body.next_cursor;
    if (typeof cursor !== 'string') throw new Error(`no complete pagination for ${accountId}`);
    return cursor;
  }

  function expectExactly(transactions: TransactionBody[], fakeItem: FakeItem) {
    expect(transactions).toHaveLength(liveTransactions(fakeItem).length);
    expect(new Set(transactions.map((transaction) => transaction.id)).size).toBe(transactions.length);
    expect(sorted(transactions.map(rowOf))).toEqual(sorted(liveTransactions(fakeItem).map(expectedRow)));
  }

  it('lists plaid as available and searches the fake institutions by country and name', async () => {
    const providers = await client().get('/api/banking/providers', { teamId: team.teamId });
    expect(providers.statusCode).toBe(200);
    expect(providers.json()).toContainEqual({ name: 'plaid', available: true, reason: null });

    const gb = await client().get('/api/banking/institutions', {
      teamId: team.teamId,
      provider: 'plaid',
      country: 'GB',
      q: 'harbour',
    });
    expect(gb.statusCode).toBe(200);
    expect(gb.json()).toEqual([
      {
        id: 'ins_100002',
        provider: 'plaid',
        name: 'Harbourside Building Society',
        countries: ['GB'],
        logoUrl: null,
        maxHistoryDays: null,
      },
    ]);
    expect(fake.calls('/institutions/search')[0]?.body).toMatchObject({
      query: 'harbour',
      country_codes: ['GB'],
      products: ['transactions'],
    });

    const us = await client().get('/api/banking/institutions', {
      teamId: team.teamId,
      provider: 'plaid',
      country: 'US',
    });
    expect(us.statusCode).toBe(200);
    const institutions = us.json() as { id: string; name: string; logoUrl: string | null }[];
    // Only institutions with the transactions product: not ins_100004 (auth and balance only).
    expect(institutions.map((institution) => [institution.id, institution.name])).toEqual([
      [INSTITUTION_ID, 'Harbour Federal Bank'],
      ['ins_100003', 'Northern Lights Credit Union'],
    ]);
    expect(institutions[0]?.logoUrl).toMatch(/^data:image\/png;base64,iVBOR/);
    expect(fake.calls('/institutions/get')[0]?.body).toMatchObject({ country_codes: ['US'], offset: 0 });

    // Cached: the same search again does not reach Plaid.
    const before = fake.requests.length;
    const again = await client().get('/api/banking/institutions', {
      teamId: team.teamId,
      provider: 'plaid',
      country: 'US',
    });
    expect(again.json()).toEqual(institutions);
    expect(fake.requests).toHaveLength(before);
  });

  it('creates a Hosted Link session, and connects its link token once the user finished Link', async () => {
    const redirectUrl = 'https://app.example.com/banks/plaid/done';
    const link = await client().post('/api/banking/consents/link', {
      teamId: team.teamId,
      provider: 'plaid',
      providerId: INSTITUTION_ID,
      redirectUrl,
    });
    expect(link.statusCode, link.body).toBe(201);
    const body = link.json() as { consentId: string; url: string; expiresAt: string };
    expect(Object.keys(body).sort()).toEqual(['consentId', 'expiresAt', 'url']);
    linkToken = body.consentId;
    expect(linkToken).toMatch(/^link-sandbox-/);
    expect(body.url).toMatch(/^https:\/\/hosted\.plaid\.com\/link\/[A-Za-z0-9-]+$/);
    expectIsoUtc(body.expiresAt);
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now());
    expect(fake.linkRequest(linkToken)).toMatchObject({
      country_codes: ['US'],
      products: ['transactions'],
      user: { client_user_id: expect.stringContaining(team.teamId) },
      hosted_link: { completion_redirect_uri: redirectUrl },
    });

    // Before the user has finished Link there is nothing to connect, and nothing is written.
    const early = await client().post('/api/banking/connect', {
      teamId: team.teamId,
      provider: 'plaid',
      providerId: INSTITUTION_ID,
      consentId: linkToken,
    });
    expectProblem(early, 422, 'PROVIDER_CONSENT_INVALID');
    expect(await listConnections(t, team)).toEqual([]);
    expect(fake.calls('/item/public_token/exchange')).toHaveLength(0);

    // The user finishes Link at the bank: Plaid creates the Item.
    item = fake.completeLink(linkToken, {
      accounts: itemAccounts({ checking: CHECKING_ID, card: CARD_ID }),
      consentExpirationTime: '2027-08-01T00:00:00Z',
      events: [...initialEvents(), ...history('hist', HISTORY, '2025-07-01')],
    });

    tick(t);
    const connected = await client().post('/api/banking/connect', {
      teamId: team.teamId,
      provider: 'plaid',
      providerId: INSTITUTION_ID,
      consentId: linkToken,
    });
    expect(connected.statusCode, connected.body).toBe(201);
    const view = connected.json() as ConnectionBody;
    connectionId = view.id;
    expect(view).toMatchObject({
      provider: 'plaid',
      providerId: INSTITUTION_ID,
      status: 'ACTIVE',
      lastSyncedAt: null,
    });
    // Scopes from the item's products, expiry from its consent_expiration_time (/item/get).
    expect(view.consents).toEqual([
      expect.objectContaining({
        status: 'AUTHORIZED',
        scopes: ALL_SCOPES,
        expiresAt: '2027-08-01T00:00:00.000Z',
        revokedAt: null,
      }),
    ]);

    // The session's public token was read server-side and exchanged exactly once.
    const exchanges = fake.calls('/item/public_token/exchange');
    expect(exchanges).toHaveLength(1);
    expect(fake.issuedTokens().public).toContain(exchanges[0]?.body.public_token);
    expect(fake.calls('/link/token/get').at(-1)?.body.link_token).toBe(linkToken);
    expect(fake.calls('/item/get').at(-1)?.body.access_token).toBe(item.accessToken);

    // The same consent again: 409, and Plaid is not asked to exchange anything.
    const twice = await client().post('/api/banking/connect', {
      teamId: team.teamId,
      provider: 'plaid',
      providerId: INSTITUTION_ID,
      consentId: linkToken,
    });
    expectProblem(twice, 409, 'CONSENT_ALREADY_CONNECTED');
    expect(fake.calls('/item/public_token/exchange')).toHaveLength(1);

    // Another team presenting the same link token does not get this Item: its public token is
    // spent, and Plaid refuses a second exchange.
    const other = await t.createTeam('Another team');
    const replay = await t.as(other).post('/api/banking/connect', {
      teamId: other.teamId,
      provider: 'plaid',
      providerId: INSTITUTION_ID,
      consentId: linkToken,
    });
    expectProblem(replay, 422, 'PROVIDER_CONSENT_INVALID');
    expect(await listConnections(t, other)).toEqual([]);
    expect(fake.calls('/item/public_token/exchange').map((request) => request.response?.status)).toEqual([
      200, 400,
    ]);

    const [state] = await providerStates();
    expect(state?.startsWith('v1.')).toBe(true);
    expect(state).not.toContain(item.accessToken);
  });

  it('imports the whole history over several pages with exact counts, signs and minor units', async () => {
    const syncsBefore = fake.calls(SYNC).length;
    tick(t);
    const first = await syncConnection(t, team, connectionId);
    expect(first.sync).toEqual({
      accountsAdded: 2,
      accountsUpdated: 0,
      transactionsAdded: 5 + HISTORY + 3,
      transactionsUpdated: 0,
      transactionsRemoved: 0,
    });
    expect(first.lastSyncedAt).toBe(t.clock.now().toISOString());

    // Checking: 1,105 updates in pages of 500 (no cursor, then Plaid's cursors); card: one page.
    const requests = syncRequests(syncsBefore);
    expect(requests).toEqual([
      [CHECKING_ID, undefined],
      [CHECKING_ID, expect.any(String)],
      [CHECKING_ID, expect.any(String)],
      [CARD_ID, undefined],
    ]);
    expect(
      fake
        .calls(SYNC)
        .slice(syncsBefore)
        .map((request) => request.body.count),
    ).toEqual([PAGE, PAGE, PAGE, PAGE]);
    expect(
      fake
        .calls(SYNC)
        .slice(syncsBefore)
        .map((request) => (request.response?.body.added as unknown[] | undefined)?.length),
    ).toEqual([PAGE, PAGE, 5 + HISTORY - 2 * PAGE, 3]);
    expect(fake.calls('/accounts/balance/get')).toHaveLength(1);

    const { accounts, transactions } = await snapshot();
    expect(accounts).toHaveLength(2);
    for (const account of accounts) expectAccountShape(account);
    const [checking, card] = accounts;
    expect(checking).toMatchObject({
      accountName: 'Everyday Checking',
      type: 'CHECKING',
      currency: 'USD',
      accountNumber: null,
      sortCode: null,
      balance: 1210.57,
      availableBalance: 1203.45,
      connection: { id: connectionId, provider: 'plaid', status: 'ACTIVE' },
    });
    // A credit card's balance is what is owed, negative; available is the credit left.
    expect(card).toMatchObject({
      accountName: 'Harbour Rewards Card',
      type: 'CREDIT',
      currency: 'USD',
      balance: -410.34,
      availableBalance: 4589.66,
    });

    expect(transactions).toHaveLength(5 + HISTORY + 3);
    for (const transaction of transactions) expectTransactionShape(transaction);
    expectNewestFirst(transactions);
    expectExactly(transactions, item);

    // The crafted fixtures, literally: Plaid's positive amount is money out (DEBIT), negative
    // money in (CREDIT); magnitudes exact to the cent, even 0.1 + 0.2 on the wire.
    const byDescription = (description: string) => transactions.filter((x) => x.description === description);
    const literal = (transaction: TransactionBody | undefined) => transaction && rowOf(transaction);
    const expected: [string, Row][] = [
      [
        'Corner Coffee',
        {
          account: 'Everyday Checking',
          description: 'Corner Coffee',
          amount: 4.33,
          type: 'DEBIT',
          status: 'BOOKED',
          category: 'food_and_drink',
          transactionDate: '2026-05-01T00:00:00.000Z',
        },
      ],
      [
        'ACME CORP PAYROLL',
        {
          account: 'Everyday Checking',
          description: 'ACME CORP PAYROLL',
          amount: 2500,
          type: 'CREDIT',
          status: 'BOOKED',
          category: 'income',
          transactionDate: '2026-05-03T06:00:00.000Z',
        },
      ],
      [
        'Greenleaf Market',
        {
          account: 'Everyday Checking',
          description: 'Greenleaf Market',
          amount: 89.4,
          type: 'DEBIT',
          status: 'PENDING',
          category: 'food_and_drink',
          transactionDate: '2026-05-04T00:00:00.000Z',
        },
      ],
      [
        'CITY PARKING METER',
        {
          account: 'Everyday Checking',
          description: 'CITY PARKING METER',
          amount: 0.3,
          type: 'DEBIT',
          status: 'BOOKED',
          category: 'transportation',
          transactionDate: '2026-05-05T00:00:00.000Z',
        },
      ],
      [
        'PAPER LANTERN BOOKS',
        {
          account: 'Everyday Checking',
          description: 'PAPER LANTERN BOOKS',
          amount: 12.34,
          type: 'DEBIT',
          status: 'BOOKED',
          category: null,
          transactionDate: '2026-05-06T00:00:00.000Z',
        },
      ],
      [
        'Streamflix',
        {
          account: 'Harbour Rewards Card',
          description: 'Streamflix',
          amount: 54.99,
          type: 'DEBIT',
          status: 'BOOKED',
          category: 'entertainment',
          transactionDate: '2026-05-02T00:00:00.000Z',
        },
      ],
      [
        'PAYMENT THANK YOU',
        {
          account: 'Harbour Rewards Card',
          description: 'PAYMENT THANK YOU',
          amount: 200,
          type: 'CREDIT',
          status: 'BOOKED',
          category: 'loan_payments',
          transactionDate: '2026-05-03T00:00:00.000Z',
        },
      ],
      [
        'Fuel Stop',
        {
          account: 'Harbour Rewards Card',
          description: 'Fuel Stop',
          amount: 15,
          type: 'DEBIT',
          status: 'PENDING',
          category: 'transportation',
          transactionDate: '2026-05-06T00:00:00.000Z',
        },
      ],
    ];
    for (const [description, row] of expected) {
      expect(byDescription(description)).toHaveLength(1);
      expect(literal(byDescription(description)[0]), description).toEqual(row);
    }
    // Exact sums in minor units over the whole history, by direction.
    const cents = (type: string) =>
      transactions.filter((x) => x.type === type).reduce((sum, x) => sum + Math.round(x.amount * 100), 0);
    const expectedCents = (type: string) =>
      liveTransactions(item)
        .map(expectedRow)
        .filter((row) => row.type === type)
        .reduce((sum, row) => sum + Math.round(row.amount * 100), 0);
    expect(cents('DEBIT')).toBe(expectedCents('DEBIT'));
    expect(cents('CREDIT')).toBe(expectedCents('CREDIT'));
    expect(transactions.filter((x) => x.status === 'PENDING')).toHaveLength(2);

    // transactionCount agrees with the rows.
    for (const account of accounts) {
      const details = await client().get(`/api/banking/accounts/${account.id}`, { teamId: team.teamId });
      expect(details.statusCode).toBe(200);
      expect((details.json() as AccountDetailsBody).transactionCount).toBe(
        transactions.filter((x) => x.accountId === account.id).length,
      );
    }

    const [state] = await providerStates();
    expect(state?.startsWith('v1.')).toBe(true);
    expect(state).not.toContain(item.accessToken);
  });

  it('changes nothing on a second sync with nothing new, reading from the stored cursors', async () => {
    const before = await snapshot();
    const [stateBefore] = await providerStates();
    const cursors = { checking: finalCursor(CHECKING_ID), card: finalCursor(CARD_ID) };
    const syncsBefore = fake.calls(SYNC).length;
    tick(t);
    const second = await syncConnection(t, team, connectionId);
    expect(second.sync).toEqual(NOTHING_CHANGED);
    expect(syncRequests(syncsBefore)).toEqual([
      [CHECKING_ID, cursors.checking],
      [CARD_ID, cursors.card],
    ]);
    const after = await snapshot();
    expect(after.accounts).toEqual(before.accounts);
    expect(after.transactions).toEqual(before.transactions);
    // The stored state still holds the same access token and the cursors Plaid handed out last.
    const [stateAfter] = await providerStates();
    expect(open(stateAfter)).toEqual(open(stateBefore));
    expect(open(stateAfter)).toEqual({
      accessToken: item.accessToken,
      itemId: item.itemId,
      cursors: { [CHECKING_ID]: cursors.checking, [CARD_ID]: cursors.card },
    });
  });

  it('applies crafted changes exactly, through a mutation during pagination', async () => {
    const before = await snapshot();
    const grocery = before.transactions.find((x) => x.description === 'Greenleaf Market');
    const coffee = before.transactions.find((x) => x.description === 'Corner Coffee');
    const bookshop = before.transactions.find((x) => x.description === 'PAPER LANTERN BOOKS');
    const fuel = before.transactions.find((x) => x.description === 'Fuel Stop');
    expect(grocery?.status).toBe('PENDING');

    // A day at the bank: the pending grocery posts under a new id with a higher amount, the
    // coffee's merchant is cleaned up, a refund arrives, the bookshop charge is reversed away,
    // the card's fuel hold vanishes, the balance moves; and Plaid's historical update delivers
    // 600 older transactions.
    const cursors = { checking: finalCursor(CHECKING_ID), card: finalCursor(CARD_ID) };
    fake.publish(item, [
      removed(GROCERY_PENDING.id, CHECKING_ID),
      added(GROCERY_POSTED),
      modified({ ...COFFEE, merchant: 'Corner Coffee Roasters' }),
      added(REFUND),
      removed(BOOKSHOP.id, CHECKING_ID),
      ...history('back', BACKFILL, '2024-12-01'),
      removed(FUEL_PENDING.id, CARD_ID),
    ]);
    const checking = item.accounts.find((account) => account.account_id === CHECKING_ID) as Json;
    checking.balances = { ...(checking.balances as Json), current: 1132.14, available: 1120.14 };

    // While the sync reads checking's second page, another transaction lands: Plaid refuses the
    // page once with TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION.
    const LATE = {
      id: 'txnLate01',
      account: CHECKING_ID,
      amount: 7.25,
      date: '2026-05-08',
      name: 'LATE NIGHT DELI',
      merchant: 'Late Night Deli',
      category: ['FOOD_AND_DRINK', 'FOOD_AND_DRINK_RESTAURANT'] as [string, string],
    };
    fake.failNext(SYNC, {}); // the first page is served as usual
    fake.failNext(SYNC, {
      code: 'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION',
      onServe: () => fake.publish(item, [added(LATE)]),
    });

    const syncsBefore = fake.calls(SYNC).length;
    tick(t);
    const third = await syncConnection(t, team, connectionId);
    expect(third.sync).toEqual({
      accountsAdded: 0,
      accountsUpdated: 1, // checking's balance
      transactionsAdded: 1 + BACKFILL + 1, // refund, backfill, the late one
      transactionsUpdated: 2, // grocery posted, coffee modified
      transactionsRemoved: 2, // bookshop, fuel hold
    });

    // Checking: page 1 from the stored cursor, page 2 refused, page 1 again from the same stored
    // cursor, then page 2; the card from its own stored cursor.
    const requests = syncRequests(syncsBefore);
    expect(requests).toEqual([
      [CHECKING_ID, cursors.checking],
      [CHECKING_ID, expect.any(String)],
      [CHECKING_ID, cursors.checking],
      [CHECKING_ID, expect.any(String)],
      [CARD_ID, cursors.card],
    ]);
    expect(fake.calls(SYNC)[syncsBefore + 1]?.response?.body.error_code).toBe(
      'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION',
    );

    const after = await snapshot();
    expectExactly(after.transactions, item);
    expect(after.transactions).toHaveLength(before.transactions.length + 1 + BACKFILL + 1 - 2);

    // Pending to posted under a new Plaid id: our id stays, now BOOKED with the posted amount.
    const posted = after.transactions.find((x) => x.id === grocery?.id);
    expect(posted).toMatchObject({
      description: 'Greenleaf Market',
      status: 'BOOKED',
      amount: 91.2,
      type: 'DEBIT',
      transactionDate: '2026-05-04T00:00:00.000Z',
    });
    expect(after.transactions.filter((x) => x.description === 'Greenleaf Market')).toHaveLength(1);
    // Modified in place.
    expect(after.transactions.find((x) => x.id === coffee?.id)?.description).toBe('Corner Coffee Roasters');
    // Removed.
    expect(after.transactions.find((x) => x.id === bookshop?.id)).toBeUndefined();
    expect(after.transactions.find((x) => x.id === fuel?.id)).toBeUndefined();
    // Refund and late arrival: money in and money out.
    expect(after.transactions.find((x) => x.description === 'Paper Lantern Books')).toMatchObject({
      amount: 15.5,
      type: 'CREDIT',
      category: 'general_merchandise',
    });
    expect(after.transactions.filter((x) => x.description === 'Late Night Deli')).toHaveLength(1);
    // Every other row is unchanged, with its id.
    const untouched = new Set([grocery?.id, coffee?.id, bookshop?.id, fuel?.id]);
    const afterById = new Map(after.transactions.map((x) => [x.id, x]));
    for (const transaction of before.transactions.filter((x) => !untouched.has(x.id))) {
      expect(afterById.get(transaction.id)).toEqual(transaction);
    }

    const accountsAfter = await listAccounts(t, team, connectionId);
    expect(accountsAfter.map((account) => account.id)).toEqual(before.accounts.map((account) => account.id));
    expect(accountsAfter[0]).toMatchObject({ balance: 1132.14, availableBalance: 1120.14 });
    for (const account of accountsAfter) {
      const details = await client().get(`/api/banking/accounts/${account.id}`, { teamId: team.teamId });
      expect((details.json() as AccountDetailsBody).transactionCount).toBe(
        after.transactions.filter((x) => x.accountId === account.id).length,
      );
    }

    // And a sync straight after finds nothing more.
    tick(t);
    expect((await syncConnection(t, team, connectionId)).sync).toEqual(NOTHING_CHANGED);
  });

  it('answers a login required mid-sync with 422 and writes nothing', async () => {
    const before = await snapshot();
    const connectionBefore = await connection();
    const [stateBefore] = await providerStates();

    fake.publish(item, [
      added({
        id: 'txnNewCharge01',
        account: CHECKING_ID,
        amount: 23.1,
        date: '2026-05-09',
        name: 'HARDWARE STORE',
        merchant: 'Hammer & Nail',
        category: ['HOME_IMPROVEMENT', 'HOME_IMPROVEMENT_HARDWARE'],
      }),
    ]);
    const checking = item.accounts.find((account) => account.account_id === CHECKING_ID) as Json;
    checking.balances = { ...(checking.balances as Json), current: 1109.04, available: 1097.04 };
    // Checking's transactions are read, then the card's call fails: the user must log in again.
    fake.failNext(SYNC, {});
    fake.failNext(SYNC, { code: 'ITEM_LOGIN_REQUIRED' });
    tick(t);
    const response = await client().post('/api/banking/sync', { teamId: team.teamId, connectionId });
    expectProblem(response, 422, 'PROVIDER_LOGIN_REQUIRED');
    expect(response.body).not.toContain(item.accessToken);

    const after = await snapshot();
    expect(after.accounts).toEqual(before.accounts);
    expect(after.transactions).toEqual(before.transactions);
    expect(await connection()).toEqual(connectionBefore);
    // Checking's pagination had completed at Plaid, but its new cursor was not kept.
    expect(fake.calls(SYNC).at(-2)?.response?.body.has_more).toBe(false);
    const [stateAfter] = await providerStates();
    expect(stateAfter).toBe(stateBefore);
  });

  it('answers a Plaid rate limit with 503 and Retry-After, writes nothing, and the next sync catches up', async () => {
    const before = await snapshot();
    const connectionBefore = await connection();
    const [stateBefore] = await providerStates();
    // The cursor stored by the last sync that committed (not the failed one before this test).
    const cursor = (open(stateBefore).cursors as Record<string, string>)[CHECKING_ID];
    expect(cursor).toEqual(expect.any(String));

    // Plaid's 429 as its reference shows it: a RATE_LIMIT_EXCEEDED error, no Retry-After header.
    fake.failNext(SYNC, { code: 'RATE_LIMIT_EXCEEDED' });
    tick(t);
    const limited = await client().post('/api/banking/sync', { teamId: team.teamId, connectionId });
    expectProblem(limited, 503, 'PROVIDER_RATE_LIMITED');
    // Plaid's limits are per minute: the adapter answers a minute's wait.
    expect(limited.headers['retry-after']).toBe(String(RATE_LIMIT_RETRY_SECONDS));
    const after = await snapshot();
    expect(after.accounts).toEqual(before.accounts);
    expect(after.transactions).toEqual(before.transactions);
    expect(await connection()).toEqual(connectionBefore);
    expect((await providerStates())[0]).toBe(stateBefore);

    // Later: the new charge and the new balance arrive, from the same stored cursor.
    const syncsBefore = fake.calls(SYNC).length;
    tick(t);
    const caughtUp = await syncConnection(t, team, connectionId);
    expect(caughtUp.sync).toEqual({ ...NOTHING_CHANGED, accountsUpdated: 1, transactionsAdded: 1 });
    expect(syncRequests(syncsBefore)[0]).toEqual([CHECKING_ID, cursor]);
    const now = await snapshot();
    expectExactly(now.transactions, item);
    expect(now.transactions.find((x) => x.description === 'Hammer & Nail')).toMatchObject({
      amount: 23.1,
      type: 'DEBIT',
      category: 'home_improvement',
      status: 'BOOKED',
    });
    expect(now.accounts[0]).toMatchObject({ balance: 1109.04, availableBalance: 1097.04 });
  });

  it('answers 422 for a public token Plaid refuses, and writes nothing', async () => {
    const connectionsBefore = await listConnections(t, team);
    const exchangesBefore = fake.calls('/item/public_token/exchange').length;
    // A token Plaid never issued, and the Link session's own public token (already exchanged:
    // a public token is good for one exchange).
    const sessionToken = fake.calls('/item/public_token/exchange')[0]?.body.public_token as string;
    for (const consentId of [`public-sandbox-${randomUUID()}`, sessionToken]) {
      const refused = await client().post('/api/banking/connect', {
        teamId: team.teamId,
        provider: 'plaid',
        providerId: INSTITUTION_ID,
        consentId,
      });
      expectProblem(refused, 422, 'PROVIDER_CONSENT_INVALID');
      expect(refused.body).not.toContain(consentId);
    }
    const exchanges = fake.calls('/item/public_token/exchange').slice(exchangesBefore);
    expect(exchanges.map((request) => request.response?.body.error_code)).toEqual([
      'INVALID_PUBLIC_TOKEN',
      'INVALID_PUBLIC_TOKEN',
    ]);
    expect(await listConnections(t, team)).toEqual(connectionsBefore);
  });

  let reconsentBefore: { accounts: AccountBody[]; transactions: TransactionBody[] };
  let newItem: FakeItem;

  it('re-consents through a new Item: the old Item is removed and the accounts keep their ids', async () => {
    reconsentBefore = await snapshot();
    const oldItem = item;
    // The user links the same bank again: a new Item, new account ids (still no
    // persistent_account_id), and (as Plaid issues them per Item) new transaction ids for the
    // same transactions.
    const reissued = liveTransactions(oldItem).map((transaction) => ({
      kind: 'added' as const,
      transaction: {
        ...transaction,
        transaction_id: `${transaction.transaction_id as string}-item2`,
        account_id: transaction.account_id === CHECKING_ID ? CHECKING_2 : CARD_2,
        pending_transaction_id: null,
      },
    }));
    const renewed = fake.createItem({
      accounts: itemAccounts({ checking: CHECKING_2, card: CARD_2 }).map((account) => {
        const old = oldItem.accounts.find((candidate) => candidate.mask === account.mask) as Json;
        return { ...account, balances: old.balances };
      }),
      consentExpirationTime: '2027-11-26T00:00:00Z',
      events: reissued,
    });
    newItem = renewed.item;

    tick(t);
    const response = await client().post('/api/banking/consent', {
      teamId: team.teamId,
      connectionId,
      consentId: renewed.publicToken,
      scopes: ALL_SCOPES,
      expiresAt: '2027-06-01T00:00:00Z',
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      status: 'AUTHORIZED',
      scopes: ALL_SCOPES,
      expiresAt: '2027-06-01T00:00:00.000Z',
      revokedAt: null,
    });
    const consents = (await connection()).consents as ConsentBody[];
    expect(consents.map((consent) => consent.status)).toEqual(['REVOKED', 'AUTHORIZED']);

    // The new public token was exchanged once; the old Item was removed at Plaid, not the new one.
    const exchanges = fake
      .calls('/item/public_token/exchange')
      .filter((request) => request.body.public_token === renewed.publicToken);
    expect(exchanges).toHaveLength(1);
    expect(fake.calls('/item/remove').map((request) => request.body.access_token)).toEqual([
      oldItem.accessToken,
    ]);
    expect(oldItem.removed).toBe(true);
    expect(newItem.removed).toBe(false);
    item = newItem;

    const states = await providerStates();
    expect(states[0]?.startsWith('v1.')).toBe(true);
    expect(states[0]).not.toContain(newItem.accessToken);
    expect(states[0]).not.toContain(oldItem.accessToken);

    // The next sync reads the new Item from its start and matches its accounts by their
    // description in the Item (type, subtype, mask, name, each unique there): same account ids
    // (their provider ids change underneath).
    const syncsBefore = fake.calls(SYNC).length;
    tick(t);
    const resync = await syncConnection(t, team, connectionId);
    expect(syncRequests(syncsBefore)).toEqual([
      [CHECKING_2, undefined],
      [CHECKING_2, expect.any(String)],
      [CHECKING_2, expect.any(String)],
      [CHECKING_2, expect.any(String)],
      [CARD_2, undefined],
    ]);
    expect(
      fake
        .calls(SYNC)
        .slice(syncsBefore)
        .every((request) => request.body.access_token === newItem.accessToken),
    ).toBe(true);
    // No account added; both rows updated, as their Plaid account ids changed underneath.
    expect(resync.sync).toMatchObject({ accountsAdded: 0, accountsUpdated: 2 });
    const withoutUpdatedAt = ({ updatedAt: _, ...account }: AccountBody & { updatedAt?: string }) => account;
    const accounts = await listAccounts(t, team, connectionId);
    expect(accounts.map(withoutUpdatedAt)).toEqual(reconsentBefore.accounts.map(withoutUpdatedAt));
    expect(open((await providerStates())[0])).toMatchObject({
      accessToken: newItem.accessToken,
      itemId: newItem.itemId,
      cursors: { [CHECKING_2]: finalCursor(CHECKING_2), [CARD_2]: finalCursor(CARD_2) },
    });
  });

  it('keeps the transactions after re-consent without duplicating them under the new Item ids', async () => {
    // Plaid gives the same transactions new ids in the new Item; the history must not double.
    const after = await snapshot();
    expect(after.transactions).toHaveLength(reconsentBefore.transactions.length);
    expect(after.transactions).toEqual(reconsentBefore.transactions);
    tick(t);
    expect((await syncConnection(t, team, connectionId)).sync).toEqual(NOTHING_CHANGED);
  });

  it('disconnects: removes the Item at Plaid, keeps the data, and refuses further syncs', async () => {
    const before = await snapshot();
    const removesBefore = fake.calls('/item/remove').length;
    tick(t);
    const response = await client().post('/api/banking/disconnect', { teamId: team.teamId, connectionId });
    expect(response.statusCode, response.body).toBe(200);
    const view = response.json() as SyncBody;
    expect(view.status).toBe('DISCONNECTED');
    expect(view.consents.map((consent) => consent.status)).toEqual(['REVOKED', 'REVOKED']);
    expect(view.consents[1]?.revokedAt).toBe(t.clock.now().toISOString());
    expect(
      fake
        .calls('/item/remove')
        .slice(removesBefore)
        .map((request) => request.body.access_token),
    ).toEqual([newItem.accessToken]);
    expect(newItem.removed).toBe(true);

    const after = await snapshot();
    expect(after.accounts).toEqual(
      before.accounts.map((account) => ({
        ...account,
        connection: { ...account.connection, status: 'DISCONNECTED' },
      })),
    );
    expect(after.transactions).toEqual(before.transactions);

    // Idempotent: the same answer. Plaid is asked again, in case the first removal had not
    // reached it, and its "no such Item" is no error.
    const again = await client().post('/api/banking/disconnect', { teamId: team.teamId, connectionId });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(response.json());
    expect(fake.calls('/item/remove')).toHaveLength(removesBefore + 2);

    const requestsBefore = fake.requests.length;
    expectProblem(
      await client().post('/api/banking/sync', { teamId: team.teamId, connectionId }),
      409,
      'CONNECTION_DISCONNECTED',
    );
    expect(fake.requests).toHaveLength(requestsBefore);
  });

  it('never logged or stored in plain text the secret, an access token or a public token', async () => {
    const issued = fake.issuedTokens();
    expect(issued.access.length).toBeGreaterThanOrEqual(2);
    expect(issued.public.length).toBeGreaterThanOrEqual(2);
    const secrets = [FAKE_SECRET, ...issued.access, ...issued.public, ...issued.link];

    // The logs of the whole run, at debug level, including the failed requests.
    expect(logLines.length).toBeGreaterThan(20);
    expect(logLines.some((line) => line.includes('/api/banking/sync'))).toBe(true);
    expect(logLines.some((line) => line.includes('PROVIDER_LOGIN_REQUIRED'))).toBe(true);
    for (const line of logLines) {
      for (const secret of secrets)
        expect(line.includes(secret), `log line holds a secret: ${line}`).toBe(false);
    }

    // The provider state as stored, now and at every step: sealed, never an access token.
    const states = [...storedStates, ...(await providerStates())];
    expect(states.length).toBeGreaterThan(5);
    for (const state of states) {
      expect(state.startsWith('v1.')).toBe(true);
      for (const token of [...issued.access, ...issued.public]) expect(state.includes(token)).toBe(false);
    }
  });
});
