import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import {
  BALANCE_MAX_AGE_DAYS,
  MAX_SYNC_RESTARTS,
  PlaidProvider,
  type PlaidProviderOptions,
} from '../../../src/providers/plaid/index.js';
import {
  type ConsentContext,
  ProviderError,
  type ProviderState,
  type TransactionPage,
} from '../../../src/providers/provider.js';
import { FAKE_CLIENT_ID, FAKE_SECRET, FakePlaid } from './fake-server.js';
import {
  added,
  BOOKSHOP,
  CAPITAL_ONE_ID,
  CARD_ID,
  CHECKING_ID,
  COFFEE,
  fixtureAccounts,
  GROCERY_PENDING,
  GROCERY_POSTED,
  INSTITUTION_ID,
  type Json,
  laterEvents,
  modified,
  PARKING,
  PAYROLL,
  REFUND,
  type SyncEvent,
  transaction,
} from './fixtures.js';

let fake: FakePlaid;
let now: Date;

beforeEach(async () => {
  fake = new FakePlaid();
  await fake.start();
  now = new Date('2026-06-01T12:00:00Z');
});

afterEach(async () => {
  await fake.stop();
});

function plaid(options: Partial<PlaidProviderOptions> = {}): PlaidProvider {
  return new PlaidProvider({
    clientId: FAKE_CLIENT_ID,
    secret: FAKE_SECRET,
    env: 'sandbox',
    baseUrl: fake.url,
    timeoutMs: 2_000,
    clock: () => now,
    retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
}

function context(consentId: string, state: ProviderState | null = null): ConsentContext {
  return {
    teamId: 'team_demo',
    providerId: INSTITUTION_ID,
    consentId,
    metadata: {},
    connectedAt: now,
    state,
  };
}

/** Connects a new item as the service does; answers the provider, its context and the fake item. */
async function connected(options: Partial<PlaidProviderOptions> = {}, itemOptions = {}) {
  const provider = plaid(options);
  const { publicToken, item } = fake.createItem(itemOptions);
  const grant = await provider.checkConsent(context(publicToken));
  return { provider, item, publicToken, grant, ctx: context(publicToken, grant.state ?? null) };
}

/** Reads every page of an account as the sync service does, carrying each page's state forward. */
async function syncAll(provider: PlaidProvider, ctx: ConsentContext, providerAccountId: string) {
  let state = ctx.state;
  const pages: TransactionPage[] = [];
  let cursor: string | null = null;
  do {
    const page: TransactionPage = await provider.listTransactions(
      { ...ctx, state },
      { providerAccountId, from: null, to: now, cursor },
    );
    pages.push(page);
    if (page.state) state = page.state;
    cursor = page.nextCursor;
  } while (cursor);
  const transactions = pages.flatMap((page) => page.transactions);
  const removed = pages.flatMap((page) => page.removed ?? []);
  return { pages, transactions, removed, state, ctx: { ...ctx, state } };
}

/** The fixture's accounts at Capital One: the card's balance is Plaid's last update, an hour ago. */
function capitalOneAccounts(): Json[] {
  return fixtureAccounts().map((account) =>
    account.type === 'depository'
      ? account
      : {
          ...account,
          balances: { ...(account.balances as Json), last_updated_datetime: '2026-06-01T11:00:00Z' },
        },
  );
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('connect', () => {
  it('exchanges the public token once and keeps the access token in the state', async () => {
    const { provider, item, publicToken, grant } = await connected();
    expect(grant.scopes).toEqual(['accounts', 'balances', 'transactions']);
    expect(grant.expiresAt).toEqual(new Date('2027-06-01T12:00:00Z'));
    expect(grant.state).toEqual({ accessToken: item.accessToken, itemId: item.itemId, cursors: {} });

    const [exchange] = fake.calls('/item/public_token/exchange');
    expect(exchange?.body).toEqual({
      public_token: publicToken,
      client_id: FAKE_CLIENT_ID,
      secret: FAKE_SECRET,
    });
    expect(exchange?.headers['plaid-version']).toBe('2020-09-14');
    expect(fake.calls('/item/get')[0]?.body.access_token).toBe(item.accessToken);

    // A re-check uses the stored access token.
    const again = await provider.checkConsent(context(publicToken, grant.state ?? null));
    expect(again.state).toEqual(grant.state);
    expect(fake.calls('/item/public_token/exchange')).toHaveLength(1);
    expect(fake.calls('/item/get')).toHaveLength(2);
  });

  it('reuses the exchange for a connect retried after it failed, but never once it was granted', async () => {
    const provider = plaid();
    const { publicToken, item } = fake.createItem();
    // Exchanged, then /item/get does not answer: the connect fails.
    fake.failNext('/item/get', { code: 'INTERNAL_SERVER_ERROR' }, 3);
    expect((await failure(provider.checkConsent(context(publicToken)))).kind).toBe('unavailable');
    // The retry does not exchange again (Plaid would refuse) and gets the item.
    const grant = await provider.checkConsent(context(publicToken));
    expect(grant.state).toEqual({ accessToken: item.accessToken, itemId: item.itemId, cursors: {} });
    expect(fake.calls('/item/public_token/exchange')).toHaveLength(1);
    // Granted: the same token presented again (another team replaying it) goes to Plaid, which
    // refuses a second exchange; the item is not handed out twice.
    const replay = await failure(provider.checkConsent(context(publicToken)));
    expect(replay.kind).toBe('invalid');
    expect(replay.message).toContain('INVALID_PUBLIC_TOKEN');
    expect(fake.calls('/item/public_token/exchange')).toHaveLength(2);
  });

  it('refuses a public token exchanged before, or unknown', async () => {
    const { publicToken } = await connected();
    const elsewhere = plaid(); // another process: no memory of the first exchange
    const twice = await failure(elsewhere.checkConsent(context(publicToken)));
    expect(twice.kind).toBe('invalid');
    expect(twice.message).toContain('INVALID_PUBLIC_TOKEN');
    expect(twice.message).not.toContain(publicToken);
    expect((await failure(elsewhere.checkConsent(context('public-sandbox-unknown')))).kind).toBe('invalid');
    expect((await failure(elsewhere.checkConsent(context('  ')))).kind).toBe('invalid');
  });

  it("takes the item's consent expiry, and refuses a consent already past it", async () => {
    const dated = await connected({}, { consentExpirationTime: '2026-09-01T00:00:00Z' });
    expect(dated.grant.expiresAt).toEqual(new Date('2026-09-01T00:00:00Z'));
    const { publicToken } = fake.createItem({ consentExpirationTime: '2026-05-01T00:00:00Z' });
    expect((await failure(plaid().checkConsent(context(publicToken)))).kind).toBe('expired');
  });

  it('grants no transactions scope to an item without the product', async () => {
    const { grant } = await connected({}, { products: ['auth'] });
    expect(grant.scopes).toEqual(['accounts', 'balances']);
  });

  it('fails a connect whose item needs the user to log in again', async () => {
    const provider = plaid();
    const { publicToken, item } = fake.createItem();
    item.error = { error_code: 'ITEM_LOGIN_REQUIRED' };
    expect((await failure(provider.checkConsent(context(publicToken)))).kind).toBe('login_required');
    item.error = { error_code: 'ITEM_LOGIN_REQUIRED', error_code_reason: 'OAUTH_CONSENT_EXPIRED' };
    expect((await failure(provider.checkConsent(context(publicToken)))).kind).toBe('expired');
  });

  it('validates the institution id', () => {
    const provider = plaid();
    expect(() => provider.validateConnect({ providerId: INSTITUTION_ID, metadata: {} })).not.toThrow();
    expect(() => provider.validateConnect({ providerId: 'harbour', metadata: {} })).toThrow(AppError);
  });
});

describe('accounts', () => {
  it('lists accounts with real-time balances in minor units', async () => {
    const { provider, ctx, item } = await connected();
    const accounts = await provider.listAccounts(ctx);
    expect(accounts).toEqual([
      {
        providerAccountId: CHECKING_ID,
        name: 'Everyday Checking',
        type: 'CHECKING',
        currency: 'USD',
        accountNumber: null,
        sortCode: null,
        // No persistent_account_id at this bank: its description stands in (unique in the Item).
        stableReference: 'plaid-described:["ins_100001","depository","checking","0000","Everyday Checking"]',
        balanceMinor: 121057,
        availableBalanceMinor: 120345,
      },
      {
        providerAccountId: CARD_ID,
        name: 'Harbour Rewards Card',
        type: 'CREDIT',
        currency: 'USD',
        accountNumber: null,
        sortCode: null,
        stableReference:
          'plaid-described:["ins_100001","credit","credit card","3333","Harbour Rewards Card"]',
        balanceMinor: -41034,
        availableBalanceMinor: 458966,
      },
    ]);
    expect(fake.calls('/accounts/balance/get')[0]?.body.access_token).toBe(item.accessToken);
  });

  it('needs an exchanged access token', async () => {
    expect((await failure(plaid().listAccounts(context('public-sandbox-x')))).kind).toBe('invalid');
  });

  it(`asks for balances no older than ${BALANCE_MAX_AGE_DAYS} days, in Plaid's date-time format`, async () => {
    const { provider, ctx } = await connected();
    await provider.listAccounts(ctx);
    expect(fake.calls('/accounts/balance/get')[0]?.body.options).toEqual({
      min_last_updated_datetime: '2026-05-02T12:00:00Z',
    });
  });

  it('reads the balance of a Capital One card, which Plaid refuses without min_last_updated_datetime', async () => {
    const { provider, ctx } = await connected(
      {},
      { institutionId: CAPITAL_ONE_ID, accounts: capitalOneAccounts() },
    );
    const accounts = await provider.listAccounts(ctx);
    expect(accounts.map((account) => [account.type, account.balanceMinor])).toEqual([
      ['CHECKING', 121057],
      ['CREDIT', -41034],
    ]);
  });

  it('fails as unavailable, not as a refused consent, when Capital One has no recent enough card balance', async () => {
    const accounts = capitalOneAccounts();
    (accounts[1]?.balances as Json).last_updated_datetime = '2026-04-20T08:00:00Z';
    const { provider, ctx } = await connected({}, { institutionId: CAPITAL_ONE_ID, accounts });
    const error = await failure(provider.listAccounts(ctx));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toContain('LAST_UPDATED_DATETIME_OUT_OF_RANGE');
  });

  it('gives each account a reference that finds it again in a new Item without persistent_account_id', async () => {
    const first = await connected();
    const second = await connected(
      {},
      {
        accounts: fixtureAccounts().map((account, index) => ({
          ...account,
          account_id: `item2-account-${index}`,
        })),
      },
    );
    const before = await first.provider.listAccounts(first.ctx);
    const after = await second.provider.listAccounts(second.ctx);
    expect(before.map((account) => account.stableReference)).toEqual([
      expect.any(String),
      expect.any(String),
    ]);
    expect(after.map((account) => account.stableReference)).toEqual(
      before.map((account) => account.stableReference),
    );
  });

  it("keeps Plaid's persistent_account_id as the reference where the institution gives one", async () => {
    const accounts = fixtureAccounts().map((account, index) => ({
      ...account,
      persistent_account_id: `pa-${index}`,
    }));
    const { provider, ctx } = await connected({}, { accounts });
    expect((await provider.listAccounts(ctx)).map((account) => account.stableReference)).toEqual([
      'pa-0',
      'pa-1',
    ]);
  });

  it('warns of an account in an unofficial currency, which it leaves out', async () => {
    const warnings: string[] = [];
    const accounts = fixtureAccounts();
    (accounts[1] as Json).balances = {
      ...((accounts[1] as Json).balances as Json),
      iso_currency_code: null,
      unofficial_currency_code: 'BTC',
    };
    const { provider, ctx } = await connected({ warn: (message) => warnings.push(message) }, { accounts });
    expect((await provider.listAccounts(ctx)).map((account) => account.providerAccountId)).toEqual([
      CHECKING_ID,
    ]);
    expect(warnings).toEqual([
      expect.stringContaining(`${CARD_ID} has no ISO 4217 currency (unofficial_currency_code BTC)`),
    ]);
  });
});

describe('transactions', () => {
  it('reads a full history over pages and saves the cursor only at the end', async () => {
    const { provider, ctx } = await connected({ pageSize: 2 });
    const checking = await syncAll(provider, ctx, CHECKING_ID);

    expect(checking.pages.map((page) => page.transactions.length)).toEqual([2, 2, 1]);
    expect(checking.pages.map((page) => page.state === undefined)).toEqual([true, true, false]);
    expect(checking.pages.map((page) => page.nextCursor === null)).toEqual([false, false, true]);
    expect(checking.transactions.map((t) => t.providerTransactionId)).toEqual([
      COFFEE.id,
      PAYROLL.id,
      GROCERY_PENDING.id,
      PARKING.id,
      BOOKSHOP.id,
    ]);
    expect(checking.removed).toEqual([]);
    expect(checking.transactions.map((t) => [t.type, t.amountMinor, t.status])).toEqual([
      ['DEBIT', 433, 'BOOKED'],
      ['CREDIT', 250000, 'BOOKED'],
      ['DEBIT', 8940, 'PENDING'],
      ['DEBIT', 30, 'BOOKED'],
      ['DEBIT', 1234, 'BOOKED'],
    ]);

    const requests = fake.calls('/transactions/sync');
    expect(requests).toHaveLength(3);
    expect(requests.map((request) => (request.body.options as { account_id: string }).account_id)).toEqual([
      CHECKING_ID,
      CHECKING_ID,
      CHECKING_ID,
    ]);
    expect(requests[0]?.body.cursor).toBeUndefined();
    expect(requests.every((request) => request.body.count === 2)).toBe(true);
    const checkingCursor = (checking.state as { cursors: Record<string, string> }).cursors[CHECKING_ID];
    expect(checkingCursor).toEqual(expect.any(String));

    // The card has its own stream and cursor; the state keeps both.
    const card = await syncAll(provider, checking.ctx, CARD_ID);
    expect(card.transactions).toHaveLength(3);
    expect(card.transactions.filter((t) => t.status === 'PENDING')).toHaveLength(1);
    expect((card.state as { cursors: Record<string, string> }).cursors).toEqual({
      [CHECKING_ID]: checkingCursor,
      [CARD_ID]: expect.any(String),
    });
  });

  it('returns only the changes on the next sync, with removed ids and the pending link', async () => {
    const { provider, ctx, item } = await connected({ pageSize: 2 });
    const first = await syncAll(provider, ctx, CHECKING_ID);
    const stored = (first.state as { cursors: Record<string, string> }).cursors[CHECKING_ID];
    fake.publish(item, laterEvents());
    const before = fake.calls('/transactions/sync').length;

    const second = await syncAll(provider, first.ctx, CHECKING_ID);
    expect(fake.calls('/transactions/sync')[before]?.body.cursor).toBe(stored);
    expect(second.pages).toHaveLength(2);
    // Per page, `added` then `modified` (Plaid's arrays): [posted] then [refund, coffee].
    expect(second.transactions.map((t) => t.providerTransactionId)).toEqual([
      GROCERY_POSTED.id,
      REFUND.id,
      COFFEE.id,
    ]);
    expect(second.removed).toEqual([GROCERY_PENDING.id]);
    const posted = second.transactions[0];
    expect(posted).toMatchObject({
      pendingTransactionId: GROCERY_PENDING.id,
      status: 'BOOKED',
      amountMinor: 9120,
    });
    expect(second.transactions[1]).toMatchObject({ type: 'CREDIT', amountMinor: 1550 });
    expect(second.transactions[2]?.description).toBe('Corner Coffee Roasters');

    // Nothing new: one empty page, and the cursor stays usable.
    const third = await syncAll(provider, second.ctx, CHECKING_ID);
    expect(third.pages).toHaveLength(1);
    expect(third.transactions).toEqual([]);
    expect(third.removed).toEqual([]);
  });

  it('re-reads from the start after a mutation on the second page, with exact counts', async () => {
    const { provider, ctx, item } = await connected({ pageSize: 2 });
    const query = { providerAccountId: CHECKING_ID, from: null, to: now };
    const first = await provider.listTransactions(ctx, { ...query, cursor: null });
    // The bank changes the payroll while we read: Plaid refuses the next page, once.
    fake.failNext('/transactions/sync', {
      code: 'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION',
      onServe: () => fake.publish(item, [modified({ ...PAYROLL, amount: -2600 })]),
    });
    const pages: TransactionPage[] = [first];
    let cursor = first.nextCursor;
    let state = ctx.state;
    while (cursor) {
      const page: TransactionPage = await provider.listTransactions({ ...ctx, state }, { ...query, cursor });
      pages.push(page);
      if (page.state) state = page.state;
      cursor = page.nextCursor;
    }

    // Page 1, page 2 refused, page 1 again from the start (no cursor), pages 2 and 3.
    const cursors = fake.calls('/transactions/sync').map((request) => request.body.cursor);
    expect(cursors).toEqual([
      undefined,
      expect.any(String),
      undefined,
      expect.any(String),
      expect.any(String),
    ]);
    expect(pages.map((page) => page.transactions.length)).toEqual([2, 2, 2, 2]);
    const ids = pages.flatMap((page) => page.transactions.map((t) => t.providerTransactionId));
    expect(ids).toEqual([
      COFFEE.id,
      PAYROLL.id,
      COFFEE.id,
      PAYROLL.id,
      GROCERY_PENDING.id,
      PARKING.id,
      BOOKSHOP.id,
      PAYROLL.id,
    ]);
    expect(pages.at(-1)?.transactions.at(-1)?.amountMinor).toBe(260000);
    expect(pages.map((page) => page.state === undefined)).toEqual([true, true, true, false]);
  });

  it('restarts an incremental pagination from the stored cursor', async () => {
    const { provider, ctx, item } = await connected({ pageSize: 2 });
    const first = await syncAll(provider, ctx, CHECKING_ID);
    const stored = (first.state as { cursors: Record<string, string> }).cursors[CHECKING_ID];
    fake.publish(item, laterEvents());
    fake.requests.length = 0;

    const page1 = await provider.listTransactions(first.ctx, {
      providerAccountId: CHECKING_ID,
      from: null,
      to: now,
      cursor: null,
    });
    fake.failNext('/transactions/sync', { code: 'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION' });
    const page2 = await provider.listTransactions(first.ctx, {
      providerAccountId: CHECKING_ID,
      from: null,
      to: now,
      cursor: page1.nextCursor,
    });
    const cursors = fake.calls('/transactions/sync').map((request) => request.body.cursor);
    expect(cursors).toEqual([stored, expect.any(String), stored]);
    expect(page2.transactions.map((t) => t.providerTransactionId)).toEqual(
      page1.transactions.map((t) => t.providerTransactionId),
    );
    expect(page2.removed).toEqual(page1.removed);
  });

  it('discards what an abandoned loop added when the restarted loop no longer lists it', async () => {
    const { provider, ctx, item } = await connected({ pageSize: 2 });
    const first = await syncAll(provider, ctx, CHECKING_ID);
    // A new charge arrives with others; our first page delivers it, then the bank deletes it
    // again before the second page: Plaid refuses that page, and from the stored cursor the
    // charge was never there (no add, no removal).
    const PHANTOM = { ...REFUND, id: 'txnPhantom01', amount: 61.5, name: 'DOUBLE CHARGE' };
    fake.publish(item, [
      added(PHANTOM),
      added(REFUND),
      modified({ ...COFFEE, merchant: 'Corner Coffee Roasters' }),
    ]);
    const query = { providerAccountId: CHECKING_ID, from: null, to: now };
    const callsBefore = fake.calls('/transactions/sync').length;
    const page1 = await provider.listTransactions(first.ctx, { ...query, cursor: null });
    expect(page1.transactions.map((t) => t.providerTransactionId)).toEqual([PHANTOM.id, REFUND.id]);
    fake.retract(item, PHANTOM.id);

    const pages = [page1];
    let cursor = page1.nextCursor;
    while (cursor) {
      const page: TransactionPage = await provider.listTransactions(first.ctx, { ...query, cursor });
      pages.push(page);
      cursor = page.nextCursor;
    }
    expect(
      fake
        .calls('/transactions/sync')
        .slice(callsBefore)
        .map((request) => request.response?.body.error_code ?? 'ok'),
    ).toEqual([
      'ok', // page 1
      'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION', // page 2
      'ok', // page 1 again, from the stored cursor: the whole change
    ]);
    // What the service keeps after upserting every page and deleting what was removed.
    const removed = new Set(pages.flatMap((page) => page.removed ?? []));
    const kept = new Set(pages.flatMap((page) => page.transactions.map((t) => t.providerTransactionId)));
    for (const ref of removed) kept.delete(ref);
    expect([...kept].sort()).toEqual([COFFEE.id, REFUND.id].sort());
    expect(pages.at(-1)?.removed).toEqual([PHANTOM.id]);
  });

  it('keeps what an abandoned loop added when the restarted loop lists it again', async () => {
    const { provider, ctx, item } = await connected({ pageSize: 2 });
    const query = { providerAccountId: CHECKING_ID, from: null, to: now };
    const page1 = await provider.listTransactions(ctx, { ...query, cursor: null });
    fake.mutate(item, () => fake.publish(item, [modified({ ...PAYROLL, amount: -2600 })]));
    const pages = [page1];
    let cursor = page1.nextCursor;
    while (cursor) {
      const page: TransactionPage = await provider.listTransactions(ctx, { ...query, cursor });
      pages.push(page);
      cursor = page.nextCursor;
    }
    expect(pages.flatMap((page) => page.removed ?? [])).toEqual([]);
  });

  it(`gives up after ${MAX_SYNC_RESTARTS} restarts in one pagination, on whichever pages`, async () => {
    const { provider, ctx, item } = await connected({ pageSize: 2 });
    const query = { providerAccountId: CHECKING_ID, from: null, to: now };
    const page1 = await provider.listTransactions(ctx, { ...query, cursor: null });
    // Every second page is overtaken by a change: page 1 again, then page 2 refused again...
    let cursor = page1.nextCursor;
    let outcome: unknown = null;
    for (let call = 0; call < 10 && cursor && !outcome; call++) {
      fake.mutate(item, () => {});
      outcome = await provider.listTransactions(ctx, { ...query, cursor }).then(
        (page) => {
          cursor = page.nextCursor;
          return null;
        },
        (error: unknown) => error,
      );
    }
    expect(outcome).toBeInstanceOf(ProviderError);
    expect((outcome as ProviderError).kind).toBe('unavailable');
    const refused = fake
      .calls('/transactions/sync')
      .filter(
        (request) => request.response?.body.error_code === 'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION',
      );
    expect(refused).toHaveLength(MAX_SYNC_RESTARTS + 1);
  });

  it('warns of transactions in an unofficial currency, which it leaves out', async () => {
    const warnings: string[] = [];
    const { provider, ctx, item } = await connected({ warn: (message) => warnings.push(message) });
    const crypto: SyncEvent = {
      kind: 'added',
      transaction: {
        ...transaction({ ...REFUND, id: 'txnCrypto01' }),
        iso_currency_code: null,
        unofficial_currency_code: 'DOGE',
      },
    };
    item.log = [crypto, ...item.log];
    const { transactions } = await syncAll(provider, ctx, CHECKING_ID);
    expect(transactions.map((t) => t.providerTransactionId)).not.toContain('txnCrypto01');
    expect(transactions).toHaveLength(5);
    expect(warnings).toEqual([
      expect.stringContaining(
        `1 transaction(s) of account ${CHECKING_ID} without an ISO 4217 currency (unofficial_currency_code DOGE)`,
      ),
    ]);
  });

  it(`gives up after ${MAX_SYNC_RESTARTS} restarts in a row`, async () => {
    const { provider, ctx } = await connected();
    fake.failNext('/transactions/sync', { code: 'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION' }, 10);
    const error = await failure(
      provider.listTransactions(ctx, { providerAccountId: CHECKING_ID, from: null, to: now }),
    );
    expect(error.kind).toBe('unavailable');
    expect(fake.calls('/transactions/sync')).toHaveLength(MAX_SYNC_RESTARTS + 1);
  });

  it('refuses a cursor that is not one of its own', async () => {
    const { provider, ctx } = await connected();
    const error = await failure(
      provider.listTransactions(ctx, { providerAccountId: CHECKING_ID, from: null, to: now, cursor: 'nope' }),
    );
    expect(error.kind).toBe('invalid');
  });
});

describe('institutions', () => {
  it('searches institutions with transactions, with logos, and caches for an hour', async () => {
    const provider = plaid();
    const found = await provider.searchInstitutions({ q: 'harbour' });
    expect(found.map((institution) => institution.id)).toEqual(['ins_100001', 'ins_100002']);
    expect(found[0]).toMatchObject({ name: 'Harbour Federal Bank', countries: ['US'], maxHistoryDays: null });
    expect(found[0]?.logoUrl).toMatch(/^data:image\/png;base64,iVBOR/);
    expect(found[1]?.logoUrl).toBeNull();
    const [search] = fake.calls('/institutions/search');
    expect(search?.body).toMatchObject({
      query: 'harbour',
      products: ['transactions'],
      options: { include_optional_metadata: true },
    });
    expect(search?.body.country_codes).toEqual(expect.arrayContaining(['US', 'GB']));

    await provider.searchInstitutions({ q: 'Harbour ' });
    expect(fake.calls('/institutions/search')).toHaveLength(1);
    now = new Date(now.getTime() + 60 * 60 * 1000);
    await provider.searchInstitutions({ q: 'harbour' });
    expect(fake.calls('/institutions/search')).toHaveLength(2);
  });

  it('filters by country, and lists without a text', async () => {
    const provider = plaid();
    const gb = await provider.searchInstitutions({ country: 'gb', q: 'harbour' });
    expect(gb.map((institution) => institution.id)).toEqual(['ins_100002']);
    expect(fake.calls('/institutions/search')[0]?.body.country_codes).toEqual(['GB']);

    const all = await provider.searchInstitutions({ country: 'US' });
    expect(all.map((institution) => institution.id)).toEqual(['ins_100001', 'ins_100003']);
    expect(fake.calls('/institutions/get')[0]?.body).toMatchObject({ count: 500, offset: 0 });

    expect(await provider.searchInstitutions({ country: 'JP', q: 'bank' })).toEqual([]);
    expect(fake.requests).toHaveLength(2);
  });
});

describe('link', () => {
  it('creates a Hosted Link session for the institution', async () => {
    const provider = plaid();
    const link = await provider.createLink({
      providerId: INSTITUTION_ID,
      redirectUrl: 'https://app.example/banks/done?x=1',
      scopes: ['accounts', 'balances', 'transactions'],
      days: 90,
      reference: 'team_1:abc123',
    });
    expect(link.consentId).toMatch(/^link-sandbox-/);
    expect(link.url).toMatch(/^https:\/\/hosted\.plaid\.com\/link\//);
    expect(link.expiresAt.getTime()).toBeGreaterThan(Date.now() + 50 * 60 * 1000);
    const body = fake.linkRequest(link.consentId);
    expect(body).toMatchObject({
      client_name: 'Open Banking',
      language: 'en',
      country_codes: ['US'],
      user: { client_user_id: 'team_1:abc123' },
      products: ['transactions'],
      hosted_link: {
        completion_redirect_uri: 'https://app.example/banks/done?x=1',
        url_lifetime_seconds: 3600,
      },
    });
    expect(body?.redirect_uri).toBeUndefined();
    expect(fake.calls('/institutions/get_by_id')[0]?.body.institution_id).toBe(INSTITUTION_ID);

    // Before the user finishes Link there is nothing to connect.
    expect((await failure(provider.checkConsent(context(link.consentId)))).kind).toBe('invalid');
    // Once they have, the link token itself connects (its public token is read server-side).
    const item = fake.completeLink(link.consentId);
    const grant = await plaid().checkConsent(context(link.consentId));
    expect(grant.state).toMatchObject({ accessToken: item.accessToken, itemId: item.itemId });
  });

  it('sends a registered OAuth redirect URI when configured', async () => {
    const provider = plaid({ oauthRedirectUri: 'https://app.example/oauth' });
    const link = await provider.createLink({
      providerId: INSTITUTION_ID,
      redirectUrl: 'https://app.example/done',
      scopes: ['accounts'],
      days: null,
      reference: 'ref',
    });
    expect(fake.linkRequest(link.consentId)?.redirect_uri).toBe('https://app.example/oauth');
  });

  it('answers 400 for an unknown or malformed institution', async () => {
    const provider = plaid();
    const request = { redirectUrl: 'https://app.example/done', scopes: [], days: null, reference: 'r' };
    await expect(provider.createLink({ ...request, providerId: 'ins_999999' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(provider.createLink({ ...request, providerId: 'bank' })).rejects.toBeInstanceOf(AppError);
    expect(fake.calls('/link/token/create')).toHaveLength(0);
  });
});

describe('consent update and revocation', () => {
  it('grants an update within the item, refuses one beyond it', async () => {
    const { provider, ctx } = await connected({}, { consentExpirationTime: '2026-09-01T00:00:00Z' });
    const granted = await provider.updateConsent(ctx, {
      scopes: ['accounts', 'transactions'],
      expiresAt: new Date('2026-08-01T00:00:00Z'),
    });
    expect(granted).toEqual({
      scopes: ['accounts', 'transactions'],
      expiresAt: new Date('2026-08-01T00:00:00Z'),
      state: ctx.state,
    });
    const later = await failure(
      provider.updateConsent(ctx, { scopes: ['accounts'], expiresAt: new Date('2026-10-01T00:00:00Z') }),
    );
    expect(later.kind).toBe('invalid');
  });

  it('refuses scopes the item lacks, and allows any expiry where the item has none', async () => {
    const { provider, ctx } = await connected({}, { products: ['auth'] });
    const error = await failure(
      provider.updateConsent(ctx, { scopes: ['transactions'], expiresAt: new Date('2026-07-01T00:00:00Z') }),
    );
    expect(error.kind).toBe('invalid');
    const far = new Date('2030-01-01T00:00:00Z');
    expect((await provider.updateConsent(ctx, { scopes: ['balances'], expiresAt: far })).expiresAt).toEqual(
      far,
    );
  });

  it('removes the item; a removed item is revoked, and removing again is fine', async () => {
    const { provider, ctx, item } = await connected();
    await provider.revokeConsent(ctx);
    expect(fake.calls('/item/remove')[0]?.body.access_token).toBe(item.accessToken);
    expect(item.removed).toBe(true);
    expect((await failure(provider.listAccounts(ctx))).kind).toBe('revoked');
    await expect(provider.revokeConsent(ctx)).resolves.toBeUndefined();
    fake.failNext('/item/remove', { code: 'ITEM_NOT_FOUND' });
    await expect(provider.revokeConsent(ctx)).resolves.toBeUndefined();
    await expect(provider.revokeConsent(context('public-sandbox-never-exchanged'))).resolves.toBeUndefined();
    expect(fake.calls('/item/remove')).toHaveLength(3);
  });
});

describe('errors', () => {
  it('maps each Plaid failure onto its kind', async () => {
    const { provider, ctx } = await connected();
    const cases: [Parameters<FakePlaid['failNext']>[1], string][] = [
      [{ code: 'ITEM_LOGIN_REQUIRED' }, 'login_required'],
      [{ code: 'ITEM_LOGIN_REQUIRED', error: { error_code_reason: 'OAUTH_CONSENT_EXPIRED' } }, 'expired'],
      [{ code: 'INVALID_ACCESS_TOKEN' }, 'revoked'],
      [{ code: 'ITEM_NOT_FOUND' }, 'revoked'],
      [{ code: 'INSTITUTION_DOWN' }, 'unavailable'],
      [{ code: 'INSTITUTION_NOT_RESPONDING' }, 'unavailable'],
      [{ code: 'PRODUCT_NOT_READY' }, 'unavailable'],
      [{ code: 'INVALID_FIELD' }, 'invalid'],
    ];
    for (const [injected, kind] of cases) {
      fake.failNext('/accounts/balance/get', injected);
      expect((await failure(provider.listAccounts(ctx))).kind, injected.code).toBe(kind);
    }
  });

  it('reports a rate limit with its Retry-After, without retrying', async () => {
    const { provider, ctx } = await connected();
    fake.failNext('/transactions/sync', { code: 'RATE_LIMIT_EXCEEDED', headers: { 'retry-after': '30' } });
    const error = await failure(
      provider.listTransactions(ctx, { providerAccountId: CHECKING_ID, from: null, to: now }),
    );
    expect(error.kind).toBe('rate_limited');
    expect(error.retryAfterSeconds).toBe(30);
    expect(fake.calls('/transactions/sync')).toHaveLength(1);
  });

  it('retries a 500 and succeeds; gives up after the bounded retries', async () => {
    const { provider, ctx } = await connected();
    fake.failNext('/accounts/balance/get', { code: 'INTERNAL_SERVER_ERROR' });
    expect(await provider.listAccounts(ctx)).toHaveLength(2);
    expect(fake.calls('/accounts/balance/get')).toHaveLength(2);

    fake.failNext('/accounts/balance/get', { status: 503 }, 3);
    expect((await failure(provider.listAccounts(ctx))).kind).toBe('unavailable');
    expect(fake.calls('/accounts/balance/get')).toHaveLength(5);
  });

  it('times out a slow answer without retrying it', async () => {
    const { provider, ctx } = await connected({ timeoutMs: 100 });
    fake.failNext('/accounts/balance/get', { delayMs: 500 });
    const error = await failure(provider.listAccounts(ctx));
    expect(error.kind).toBe('timeout');
    expect(fake.calls('/accounts/balance/get')).toHaveLength(1);
  });

  it('reports bad credentials as unavailable, never echoing them', async () => {
    const { publicToken } = fake.createItem();
    const wrong = plaid({ secret: 'wrong-secret-abcdef' });
    const error = await failure(wrong.checkConsent(context(publicToken)));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toContain('INVALID_API_KEYS');
    expect(error.message).not.toContain('wrong-secret-abcdef');
  });

  it('puts no secret, access token or public token in any error message', async () => {
    const { provider, ctx, item, publicToken } = await connected({ timeoutMs: 100 });
    const messages: string[] = [];
    const collect = async (promise: Promise<unknown>) => messages.push((await failure(promise)).message);
    for (const code of [
      'ITEM_LOGIN_REQUIRED',
      'INVALID_ACCESS_TOKEN',
      'RATE_LIMIT_EXCEEDED',
      'INSTITUTION_DOWN',
    ]) {
      fake.failNext('/accounts/balance/get', { code });
      await collect(provider.listAccounts(ctx));
    }
    fake.failNext('/accounts/balance/get', { status: 500 }, 3);
    await collect(provider.listAccounts(ctx));
    fake.failNext('/accounts/balance/get', { delayMs: 400 });
    await collect(provider.listAccounts(ctx));
    await collect(plaid().checkConsent(context(publicToken)));
    await collect(provider.listTransactions(ctx, { providerAccountId: 'unknown', from: null, to: now }));
    expect(messages).toHaveLength(8);
    for (const message of messages) {
      expect(message).not.toContain(FAKE_SECRET);
      expect(message).not.toContain(item.accessToken);
      expect(message).not.toContain(publicToken);
    }
  });
});
