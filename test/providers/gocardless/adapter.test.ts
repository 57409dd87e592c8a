import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import {
  GoCardlessProvider,
  type GoCardlessProviderOptions,
} from '../../../src/providers/gocardless/index.js';
import { type ConsentContext, linkReference, ProviderError } from '../../../src/providers/provider.js';
import {
  ACC_CURRENT,
  ACC_DEFAULT,
  ACC_EXPIRED,
  ACC_SAVINGS,
  ACC_SUSPENDED,
  AGR_LINKED,
  dailyLimitExceeded,
  FakeGoCardless,
  INSTITUTION_GB,
  REQ_CREATED,
  REQ_DEFAULT_TERMS,
  REQ_EXPIRED,
  REQ_LINKED,
  REQ_NARROW,
  REQ_REJECTED,
  REQ_SUSPENDED,
  SECRET_ID,
  SECRET_KEY,
} from './fake-server.js';

const DAY = 86_400_000;
const NOW = new Date('2026-11-26T10:15:00.000Z');
const ACCEPTED = Date.parse('2026-11-01T09:30:00.000Z');

let fake: FakeGoCardless;
let clock: { now: Date };

beforeEach(async () => {
  clock = { now: NOW };
  fake = await FakeGoCardless.start({ now: () => clock.now });
});

afterEach(async () => {
  await fake.stop();
});

function provider(overrides: Partial<GoCardlessProviderOptions> = {}) {
  return new GoCardlessProvider({
    secretId: SECRET_ID,
    secretKey: SECRET_KEY,
    baseUrl: fake.url,
    timeoutMs: 2_000,
    clock: () => clock.now,
    retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 5 },
    ...overrides,
  });
}

function consent(consentId: string, overrides: Partial<ConsentContext> = {}): ConsentContext {
  return {
    teamId: 'team_demo',
    providerId: INSTITUTION_GB,
    consentId,
    metadata: {},
    connectedAt: NOW,
    state: null,
    ...overrides,
  };
}

/** The provider as connected: the state its checkConsent returned. */
async function connected(bank: GoCardlessProvider, consentId = REQ_LINKED): Promise<ConsentContext> {
  const grant = await bank.checkConsent(consent(consentId));
  return consent(consentId, { state: grant.state ?? null });
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

const tokenCalls = () => ({
  fresh: fake.calls('POST', '/api/v2/token/new/').length,
  refresh: fake.calls('POST', '/api/v2/token/refresh/').length,
});

describe('consents', () => {
  it('checks a linked requisition: scopes and expiry from its agreement, its accounts as state', async () => {
    const grant = await provider().checkConsent(consent(REQ_LINKED));
    expect(grant.scopes).toEqual(['accounts', 'balances', 'transactions']);
    expect(grant.expiresAt).toEqual(new Date(ACCEPTED + 90 * DAY));
    expect(grant.state).toMatchObject({
      requisitionId: REQ_LINKED,
      agreementId: AGR_LINKED,
      accounts: [ACC_CURRENT, ACC_SAVINGS],
      maxHistoricalDays: 730,
    });
    expect(fake.calls('GET', `/api/v2/requisitions/${REQ_LINKED}/`)).toHaveLength(1);
    expect(fake.calls('GET', `/api/v2/agreements/enduser/${AGR_LINKED}/`)).toHaveLength(1);
    // Authenticated with the token the fake issued to our secrets, and nothing else.
    const token = fake.calls('POST', '/api/v2/token/new/')[0];
    expect(token?.body).toEqual({ secret_id: SECRET_ID, secret_key: SECRET_KEY });
    for (const call of fake.requests.filter((r) => !r.path.startsWith('/api/v2/token/'))) {
      expect(call.authorization).toMatch(/^Bearer eyJ/);
    }
  });

  it('grants only what a narrower agreement allows', async () => {
    const grant = await provider().checkConsent(consent(REQ_NARROW));
    expect(grant.scopes).toEqual(['accounts', 'balances']);
    expect(grant.expiresAt).toEqual(new Date(Date.parse('2026-11-20T08:00:00.000Z') + 30 * DAY));
    expect(grant.state).toMatchObject({ maxHistoricalDays: 90, scopes: ['accounts', 'balances'] });
  });

  it('applies the default terms to a requisition made without an agreement', async () => {
    const grant = await provider().checkConsent(consent(REQ_DEFAULT_TERMS));
    expect(grant.scopes).toEqual(['accounts', 'balances', 'transactions']);
    expect(grant.expiresAt).toEqual(new Date(Date.parse('2026-11-10T07:45:00.000Z') + 90 * DAY));
  });

  it('maps the requisition statuses: EX expired, RJ invalid, SU revoked, CR not yet authorised', async () => {
    const bank = provider();
    expect((await failure(bank.checkConsent(consent(REQ_EXPIRED)))).kind).toBe('expired');
    const rejected = await failure(bank.checkConsent(consent(REQ_REJECTED)));
    expect(rejected.kind).toBe('invalid');
    expect(rejected.message).toMatch(/rejected/);
    expect((await failure(bank.checkConsent(consent(REQ_SUSPENDED)))).kind).toBe('revoked');
    const created = await failure(bank.checkConsent(consent(REQ_CREATED)));
    expect(created).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/not yet authorised/) });
  });

  it('answers invalid for an unknown requisition, a malformed id, or another institution', async () => {
    const bank = provider();
    expect((await failure(bank.checkConsent(consent('0b9d5c3a-1111-4222-8333-944455556666')))).kind).toBe(
      'invalid',
    );
    const before = fake.requests.length;
    expect((await failure(bank.checkConsent(consent('../../token/new')))).kind).toBe('invalid');
    expect(fake.requests.length).toBe(before);
    const other = await failure(bank.checkConsent(consent(REQ_LINKED, { providerId: 'MONZO_MONZGB2L' })));
    expect(other.kind).toBe('invalid');
  });

  it('reports an agreement past its expiry as expired even while the requisition is still LN', async () => {
    clock.now = new Date(ACCEPTED + 90 * DAY + 1);
    expect((await failure(provider().checkConsent(consent(REQ_LINKED)))).kind).toBe('expired');
  });

  it('grants a narrower update and refuses a wider one (GoCardless cannot change an agreement)', async () => {
    const bank = provider();
    const ctx = await connected(bank);
    const narrower = {
      scopes: ['transactions', 'accounts'] as const,
      expiresAt: new Date(NOW.getTime() + 30 * DAY),
    };
    const grant = await bank.updateConsent(ctx, { ...narrower, scopes: [...narrower.scopes] });
    expect(grant.scopes).toEqual(['accounts', 'transactions']);
    expect(grant.expiresAt).toEqual(narrower.expiresAt);
    expect(grant.state).toMatchObject({
      scopes: ['accounts', 'transactions'],
      accounts: [ACC_CURRENT, ACC_SAVINGS],
    });

    const narrow = consent(REQ_NARROW);
    const wider = await failure(
      bank.updateConsent(narrow, {
        scopes: ['accounts', 'transactions'],
        expiresAt: new Date(NOW.getTime() + DAY),
      }),
    );
    expect(wider).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/transactions/) });
    const longer = await failure(
      bank.updateConsent(ctx, { scopes: ['accounts'], expiresAt: new Date(ACCEPTED + 91 * DAY) }),
    );
    expect(longer.kind).toBe('invalid');
    const past = await failure(
      bank.updateConsent(ctx, { scopes: ['accounts'], expiresAt: new Date(NOW.getTime() - 1) }),
    );
    expect(past.kind).toBe('invalid');
  });

  it('revokes by deleting the requisition; a requisition already gone is fine', async () => {
    const bank = provider();
    await bank.revokeConsent(consent(REQ_LINKED));
    expect(fake.calls('DELETE', `/api/v2/requisitions/${REQ_LINKED}/`)).toHaveLength(1);
    expect(fake.requisitions.has(REQ_LINKED)).toBe(false);
    await expect(bank.revokeConsent(consent(REQ_LINKED))).resolves.toBeUndefined();
    expect((await failure(bank.checkConsent(consent(REQ_LINKED)))).kind).toBe('invalid');
  });
});

describe('accounts', () => {
  it('lists the accounts with their balances: one details and one balances call each', async () => {
    const bank = provider();
    const ctx = await connected(bank);
    const before = fake.requests.length;
    const accounts = await bank.listAccounts(ctx);
    expect(accounts).toEqual([
      {
        providerAccountId: ACC_CURRENT,
        name: 'Main Account',
        type: 'CHECKING',
        currency: 'GBP',
        accountNumber: '55555555',
        sortCode: '202015',
        balanceMinor: 118751,
        availableBalanceMinor: 168251,
      },
      {
        providerAccountId: ACC_SAVINGS,
        name: 'Everyday Saver',
        type: 'SAVINGS',
        currency: 'GBP',
        accountNumber: '73849120',
        sortCode: '202015',
        balanceMinor: 520000,
        availableBalanceMinor: 520000,
      },
    ]);
    const calls = fake.requests.slice(before).map((r) => `${r.method} ${r.path}`);
    expect(calls).toEqual([
      `GET /api/v2/accounts/${ACC_CURRENT}/details/`,
      `GET /api/v2/accounts/${ACC_CURRENT}/balances/`,
      `GET /api/v2/accounts/${ACC_SAVINGS}/details/`,
      `GET /api/v2/accounts/${ACC_SAVINGS}/balances/`,
    ]);
  });

  it('asks for the requisition when it has no state, and for nothing the scopes exclude', async () => {
    const bank = provider();
    const fromScratch = await bank.listAccounts(consent(REQ_NARROW));
    expect(fromScratch.map((a) => a.providerAccountId)).toEqual([ACC_CURRENT]);
    expect(fake.calls('GET', `/api/v2/requisitions/${REQ_NARROW}/`)).toHaveLength(1);

    const base = (await connected(bank)).state as Record<string, unknown>;
    const before = fake.requests.length;
    const noBalances = await bank.listAccounts(
      consent(REQ_LINKED, { state: { ...base, scopes: ['accounts'] } }),
    );
    expect(noBalances[0]).toMatchObject({
      balanceMinor: null,
      availableBalanceMinor: null,
      accountNumber: '55555555',
    });
    const noDetails = await bank.listAccounts(
      consent(REQ_LINKED, { state: { ...base, scopes: ['balances', 'transactions'] } }),
    );
    expect(noDetails[0]).toMatchObject({ currency: 'GBP', balanceMinor: 118751, accountNumber: '55555555' });
    const paths = fake.requests.slice(before).map((r) => r.path);
    expect(paths.filter((p) => p.endsWith('/balances/'))).toHaveLength(2);
    expect(paths.filter((p) => p.endsWith('/details/'))).toHaveLength(2);
    expect(paths.filter((p) => p === `/api/v2/accounts/${ACC_CURRENT}/`)).toHaveLength(1);
  });
});

describe('transactions', () => {
  it('gives booked and pending transactions in one page, over the agreement history', async () => {
    const bank = provider();
    const ctx = await connected(bank);
    const page = await bank.listTransactions(ctx, { providerAccountId: ACC_CURRENT, from: null, to: NOW });
    expect(page.nextCursor).toBeNull();
    const calls = fake.calls('GET', `/api/v2/accounts/${ACC_CURRENT}/transactions/`);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.query).toEqual({ date_from: '2024-11-26', date_to: '2026-11-26' });
    expect(page.transactions.map((t) => [t.providerTransactionId, t.status, t.type, t.amountMinor])).toEqual([
      ['BK20261125-000187', 'BOOKED', 'DEBIT', 4520],
      ['BK20261124-000042', 'BOOKED', 'CREDIT', 245000],
      ['9a4b2c7d1e8f4a3b8c5d6e7f0a1b2c3d', 'BOOKED', 'DEBIT', 999],
      [null, 'BOOKED', 'DEBIT', 310],
      [null, 'BOOKED', 'DEBIT', 310],
      [null, 'PENDING', 'DEBIT', 1200],
      ['PD20261126-000002', 'PENDING', 'DEBIT', 6000],
    ]);
    expect(page.transactions[0]).toEqual({
      providerTransactionId: 'BK20261125-000187',
      amountMinor: 4520,
      type: 'DEBIT',
      currency: 'GBP',
      description: 'TESCO STORES 2041 LONDON GB',
      transactionDate: new Date('2026-11-25T00:00:00.000Z'),
      status: 'BOOKED',
      category: 'POS',
    });
    expect(page.transactions[1]?.description).toBe('SALARY NOV 2026 ACME LTD PAYROLL');
    expect(page.transactions[2]?.description).toBe('SPOTIFY');
    expect(page.transactions[5]?.transactionDate).toEqual(new Date('2026-11-26T00:00:00.000Z'));
  });

  it('uses the given range, clamped to the history and to today', async () => {
    const bank = provider();
    const ctx = await connected(bank);
    await bank.listTransactions(ctx, {
      providerAccountId: ACC_SAVINGS,
      from: new Date('2026-10-01T12:00:00Z'),
      to: new Date('2027-01-01T00:00:00Z'),
    });
    await bank.listTransactions(ctx, {
      providerAccountId: ACC_SAVINGS,
      from: new Date('2019-01-01T00:00:00Z'),
      to: NOW,
    });
    const queries = fake.calls('GET', `/api/v2/accounts/${ACC_SAVINGS}/transactions/`).map((c) => c.query);
    expect(queries).toEqual([
      { date_from: '2026-10-01', date_to: '2026-11-26' },
      { date_from: '2024-11-26', date_to: '2026-11-26' },
    ]);
  });

  it('finds the history depth itself when there is no state, and refuses a foreign account or a cursor', async () => {
    const bank = provider();
    await bank.listTransactions(consent(REQ_NARROW), { providerAccountId: ACC_CURRENT, from: null, to: NOW });
    expect(fake.calls('GET', `/api/v2/accounts/${ACC_CURRENT}/transactions/`)[0]?.query.date_from).toBe(
      '2026-08-28',
    );
    const ctx = await connected(bank);
    const foreign = await failure(
      bank.listTransactions(ctx, { providerAccountId: ACC_EXPIRED, from: null, to: NOW }),
    );
    expect(foreign.kind).toBe('invalid');
    const cursor = await failure(
      bank.listTransactions(ctx, { providerAccountId: ACC_CURRENT, from: null, to: NOW, cursor: 'x' }),
    );
    expect(cursor.kind).toBe('invalid');
  });
});

describe('institutions', () => {
  it('requires a country, as GoCardless does', async () => {
    const bank = provider();
    for (const country of [undefined, '', 'GBR', '1A']) {
      const error = await bank.searchInstitutions({ country, q: 'bank' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('VALIDATION_FAILED');
      expect((error as AppError).extra.errors?.[0]?.path).toBe('/country');
    }
    const uncovered = await bank.searchInstitutions({ country: 'US' }).catch((e: unknown) => e);
    expect((uncovered as AppError).extra.errors?.[0]).toMatchObject({ path: '/country', in: 'query' });
  });

  it('searches a country by name and maps logo and history days', async () => {
    const found = await provider().searchInstitutions({ country: 'gb', q: 'BARCLAYS' });
    expect(found).toEqual([
      {
        id: 'BARCLAYS_BUKBGB22',
        name: 'Barclays Personal',
        countries: ['GB'],
        logoUrl: 'https://cdn-logos.gocardless.com/ais/BARCLAYS_BUKBGB22.png',
        maxHistoryDays: 730,
      },
    ]);
    expect(fake.calls('GET', '/api/v2/institutions/')[0]?.query).toEqual({ country: 'GB' });
  });

  it('keeps a country list an hour', async () => {
    const bank = provider();
    expect(await bank.searchInstitutions({ country: 'GB' })).toHaveLength(5);
    expect(await bank.searchInstitutions({ country: 'GB', q: 'monzo' })).toHaveLength(1);
    expect(await bank.searchInstitutions({ country: 'DE', q: 'n26' })).toHaveLength(1);
    expect(fake.calls('GET', '/api/v2/institutions/')).toHaveLength(2);
    clock.now = new Date(NOW.getTime() + 59 * 60_000);
    await bank.searchInstitutions({ country: 'GB' });
    expect(fake.calls('GET', '/api/v2/institutions/')).toHaveLength(2);
    clock.now = new Date(NOW.getTime() + 61 * 60_000);
    await bank.searchInstitutions({ country: 'GB' });
    expect(fake.calls('GET', '/api/v2/institutions/')).toHaveLength(3);
  });
});

describe('links', () => {
  const link = {
    providerId: 'MONZO_MONZGB2L',
    redirectUrl: 'https://app.example.com/banking/callback',
    scopes: ['accounts', 'transactions'] as ('accounts' | 'transactions')[],
    days: 60,
    reference: 'team_demo-7f3a9c',
  };

  it('creates an agreement then a requisition, and answers its id, link and expiry', async () => {
    const bank = provider();
    const created = await bank.createLink(link);
    const agreementCall = fake.calls('POST', '/api/v2/agreements/enduser/')[0];
    expect(agreementCall?.body).toEqual({
      institution_id: 'MONZO_MONZGB2L',
      max_historical_days: 730,
      access_valid_for_days: 60,
      access_scope: ['details', 'transactions'],
    });
    const requisitionCall = fake.calls('POST', '/api/v2/requisitions/')[0];
    const agreementId = [...fake.agreements.values()].find((a) => a.institution_id === 'MONZO_MONZGB2L')?.id;
    expect(requisitionCall?.body).toEqual({
      redirect: link.redirectUrl,
      institution_id: 'MONZO_MONZGB2L',
      reference: link.reference,
      agreement: agreementId,
    });
    expect(created.url).toBe(`https://ob.gocardless.com/psd2/start/${created.consentId}/MONZO_MONZGB2L`);
    expect(created.expiresAt).toEqual(new Date(NOW.getTime() + DAY));

    // Before the user consents the requisition is not authorised; after, it grants what was asked.
    const ctx = consent(created.consentId, { providerId: 'MONZO_MONZGB2L' });
    expect((await failure(bank.checkConsent(ctx))).kind).toBe('invalid');
    clock.now = new Date(NOW.getTime() + 60_000);
    fake.linkRequisition(created.consentId, [ACC_DEFAULT]);
    const grant = await bank.checkConsent(ctx);
    expect(grant.scopes).toEqual(['accounts', 'transactions']);
    expect(grant.expiresAt).toEqual(new Date(clock.now.getTime() + 60 * DAY));
  });

  it("refuses a requisition that our link made for another team, so its bank data stay that team's", async () => {
    const bank = provider();
    const created = await bank.createLink({ ...link, reference: linkReference('team_owner') });
    fake.linkRequisition(created.consentId, [ACC_DEFAULT]);
    const claimed = consent(created.consentId, { providerId: 'MONZO_MONZGB2L', teamId: 'team_other' });
    const refused = await failure(bank.checkConsent(claimed));
    // Told as a requisition GoCardless does not know, its status unread: nothing of the owner's.
    const unknown = await failure(
      bank.checkConsent(consent('7f3e9a51-0000-4000-8000-000000000000', { teamId: 'team_other' })),
    );
    expect(refused).toEqual(unknown);
    expect(refused.kind).toBe('invalid');
    const owned = consent(created.consentId, { providerId: 'MONZO_MONZGB2L', teamId: 'team_owner' });
    expect((await bank.checkConsent(owned)).scopes).toEqual(['accounts', 'transactions']);
    // A requisition made elsewhere (another reference) is the caller's to claim, as before.
    expect(
      (await bank.checkConsent(consent(REQ_LINKED, { teamId: 'team_other' }))).scopes.length,
    ).toBeGreaterThan(0);
  });

  it('asks the bank maximum for days null, and never more than it or 180', async () => {
    const bank = provider();
    await bank.createLink({ ...link, days: null, reference: 'r1' });
    await bank.createLink({ ...link, days: 400, reference: 'r2' });
    await bank.createLink({ ...link, providerId: INSTITUTION_GB, days: null, reference: 'r3' });
    const days = fake
      .calls('POST', '/api/v2/agreements/enduser/')
      .map((c) => (c.body as Record<string, unknown>).access_valid_for_days);
    expect(days).toEqual([180, 180, 90]);
    // The institution is looked up once (GET /institutions/{id}/) and then kept.
    expect(fake.calls('GET', '/api/v2/institutions/MONZO_MONZGB2L/')).toHaveLength(1);
  });

  it('uses a searched country list for the institution', async () => {
    const bank = provider();
    await bank.searchInstitutions({ country: 'GB' });
    await bank.createLink(link);
    expect(fake.calls('GET', /^\/api\/v2\/institutions\/[A-Z]/)).toHaveLength(0);
  });

  it('answers 400 for an unknown institution, and removes the agreement when the requisition fails', async () => {
    const bank = provider();
    const unknown = await bank.createLink({ ...link, providerId: 'NOPE_NOPEGB00' }).catch((e: unknown) => e);
    expect((unknown as AppError).extra.errors?.[0]?.path).toBe('/providerId');
    const empty = await bank.createLink({ ...link, scopes: [] }).catch((e: unknown) => e);
    expect((empty as AppError).extra.errors?.[0]?.path).toBe('/scopes');

    await bank.createLink({ ...link, reference: 'taken' });
    const agreementsBefore = fake.agreements.size;
    const duplicate = await failure(bank.createLink({ ...link, reference: 'taken' }));
    expect(duplicate.kind).toBe('invalid');
    expect(duplicate.message).toMatch(/reference/);
    expect(fake.calls('DELETE', /^\/api\/v2\/agreements\/enduser\//)).toHaveLength(1);
    expect(fake.agreements.size).toBe(agreementsBefore);
  });
});

describe('errors', () => {
  it('maps the bank daily limit to rate_limited with the reset of the per-account limit', async () => {
    const bank = provider();
    const ctx = await connected(bank);
    for (let sync = 0; sync < 4; sync++) await bank.listAccounts(ctx);
    const limited = await failure(bank.listAccounts(ctx));
    const midnight = Date.UTC(2026, 10, 27);
    expect(limited).toMatchObject({
      kind: 'rate_limited',
      retryAfterSeconds: Math.ceil((midnight - NOW.getTime()) / 1000),
    });
    expect(limited.message).toMatch(/4\/day/);
  });

  it('maps an injected 429 with rate-limit headers', async () => {
    const bank = provider();
    const ctx = await connected(bank);
    fake.inject({
      path: `/api/v2/accounts/${ACC_CURRENT}/transactions/`,
      ...dailyLimitExceeded(4, 3600),
    });
    const error = await failure(
      bank.listTransactions(ctx, { providerAccountId: ACC_CURRENT, from: null, to: NOW }),
    );
    expect(error).toMatchObject({ kind: 'rate_limited', retryAfterSeconds: 3600 });
    // A 4xx is not retried.
    expect(fake.calls('GET', `/api/v2/accounts/${ACC_CURRENT}/transactions/`)).toHaveLength(1);
  });

  it('maps an expired agreement on the account endpoints to expired', async () => {
    const bank = provider();
    const ctx = consent(REQ_EXPIRED, {
      state: {
        requisitionId: REQ_EXPIRED,
        accounts: [ACC_EXPIRED],
        scopes: ['accounts', 'balances', 'transactions'],
        maxHistoricalDays: 90,
      },
    });
    expect((await failure(bank.listAccounts(ctx))).kind).toBe('expired');
    expect(
      (await failure(bank.listTransactions(ctx, { providerAccountId: ACC_EXPIRED, from: null, to: NOW })))
        .kind,
    ).toBe('expired');
    // An agreement that ran out while its requisition still says LN.
    const linked = await connected(bank);
    clock.now = new Date(ACCEPTED + 90 * DAY + 60_000);
    expect((await failure(bank.listAccounts(linked))).kind).toBe('expired');
  });

  it('maps a suspended account to revoked, access expired at the bank to login_required, unknown to invalid', async () => {
    const bank = provider();
    const suspended = consent(REQ_SUSPENDED, {
      state: { requisitionId: REQ_SUSPENDED, accounts: [ACC_SUSPENDED], maxHistoricalDays: 90 },
    });
    expect((await failure(bank.listAccounts(suspended))).kind).toBe('revoked');

    const ctx = await connected(bank);
    fake.inject({
      path: `/api/v2/accounts/${ACC_CURRENT}/details/`,
      status: 401,
      body: {
        summary: 'Access has expired or it has been revoked',
        detail:
          'The end user has revoked access or it has expired at the institution; reconnect the account.',
        type: 'AccessExpiredError',
      },
    });
    const tokensBefore = tokenCalls();
    expect((await failure(bank.listAccounts(ctx))).kind).toBe('login_required');
    // An account's 401 is not a token problem: no token renewal.
    expect(tokenCalls()).toEqual(tokensBefore);

    fake.inject({
      path: `/api/v2/accounts/${ACC_CURRENT}/balances/`,
      status: 401,
      body: {
        summary: 'Account has been deactivated or it no longer exists',
        detail: 'Account is inactive',
        type: 'AccountInactiveError',
      },
    });
    expect((await failure(bank.listAccounts(ctx))).kind).toBe('revoked');

    const gone = consent(REQ_LINKED, {
      state: {
        requisitionId: REQ_LINKED,
        accounts: ['4d4d4d4d-0000-4000-8000-000000000000'],
        maxHistoricalDays: 90,
      },
    });
    expect((await failure(bank.listAccounts(gone))).kind).toBe('invalid');
  });

  it('retries a 500 and succeeds; gives up as unavailable after the retries', async () => {
    const bank = provider();
    fake.inject({
      path: `/api/v2/requisitions/${REQ_LINKED}/`,
      status: 500,
      body: { summary: 'Server Error' },
    });
    await expect(bank.checkConsent(consent(REQ_LINKED))).resolves.toMatchObject({
      scopes: expect.any(Array),
    });
    expect(fake.calls('GET', `/api/v2/requisitions/${REQ_LINKED}/`)).toHaveLength(2);

    fake.inject({
      path: `/api/v2/agreements/enduser/${AGR_LINKED}/`,
      status: 503,
      times: 3,
      body: { summary: 'Institution service unavailable', type: 'ServiceError' },
    });
    expect((await failure(bank.checkConsent(consent(REQ_LINKED)))).kind).toBe('unavailable');
    expect(fake.calls('GET', `/api/v2/agreements/enduser/${AGR_LINKED}/`)).toHaveLength(4);
  });

  it('calls a failing account endpoint once per sync, as GoCardless suspends an account after 10 failures', async () => {
    const bank = provider();
    const ctx = await connected(bank);
    for (const part of ['details/', 'transactions/']) {
      fake.inject({
        path: `/api/v2/accounts/${ACC_CURRENT}/${part}`,
        status: 500,
        body: { summary: 'Unknown request error', type: 'UnknownRequestError' },
      });
    }
    expect((await failure(bank.listAccounts(ctx))).kind).toBe('unavailable');
    expect(
      (await failure(bank.listTransactions(ctx, { providerAccountId: ACC_CURRENT, from: null, to: NOW })))
        .kind,
    ).toBe('unavailable');
    expect(fake.calls('GET', `/api/v2/accounts/${ACC_CURRENT}/details/`)).toHaveLength(1);
    expect(fake.calls('GET', `/api/v2/accounts/${ACC_CURRENT}/transactions/`)).toHaveLength(1);
  });

  it('does not create a requisition twice when the answer to the first is lost', async () => {
    let requisitionPosts = 0;
    const losing: typeof fetch = async (url, init) => {
      const answer = await fetch(url, init);
      if (String(url).endsWith('/api/v2/requisitions/') && init?.method === 'POST') {
        requisitionPosts++;
        throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
      }
      return answer;
    };
    const error = await failure(
      provider({ fetch: losing }).createLink({
        providerId: 'BARCLAYS_BUKBGB22',
        redirectUrl: 'https://app.example.com/cb',
        scopes: ['accounts', 'balances', 'transactions'],
        days: null,
        reference: 'team_a-lost-answer',
      }),
    );
    expect(error.kind).toBe('unavailable');
    expect(requisitionPosts).toBe(1);
  });

  it('answers timeout for a slow answer, without retrying it', async () => {
    const bank = provider({ timeoutMs: 100 });
    await bank.checkConsent(consent(REQ_LINKED));
    fake.inject({ path: `/api/v2/requisitions/${REQ_LINKED}/`, delayMs: 400 });
    expect((await failure(bank.checkConsent(consent(REQ_LINKED)))).kind).toBe('timeout');
    expect(fake.calls('GET', `/api/v2/requisitions/${REQ_LINKED}/`)).toHaveLength(2);
  });

  it('answers unavailable for wrong secrets, naming neither', async () => {
    const error = await failure(
      provider({ secretId: 'wrong-id-123', secretKey: 'wrong-key-456' }).checkConsent(consent(REQ_LINKED)),
    );
    expect(error.kind).toBe('unavailable');
    expect(error.message).not.toMatch(/wrong-id-123|wrong-key-456/);
  });

  it('puts no secret, token or account number in any error message', async () => {
    const bank = provider();
    const ctx = await connected(bank);
    const messages: string[] = [];
    const collect = async (promise: Promise<unknown>) => messages.push((await failure(promise)).message);

    fake.inject({
      path: `/api/v2/accounts/${ACC_CURRENT}/details/`,
      status: 400,
      body: {
        summary: `Bad request for GB33BUKB20201555555555 with ${SECRET_KEY}`,
        detail: `secret_id ${SECRET_ID} token ${fake.issuedTokens[0]} account 55555555`,
        status_code: 400,
      },
    });
    await collect(bank.listAccounts(ctx));
    fake.inject({ path: /\/transactions\/$/, status: 429, body: { summary: 'Rate limit exceeded' } });
    await collect(bank.listTransactions(ctx, { providerAccountId: ACC_CURRENT, from: null, to: NOW }));
    await collect(bank.checkConsent(consent(REQ_EXPIRED)));
    await collect(provider({ secretKey: 'not-the-key' }).checkConsent(consent(REQ_LINKED)));
    fake.inject({ path: `/api/v2/requisitions/${REQ_LINKED}/`, status: 500, times: 3 });
    await collect(bank.checkConsent(consent(REQ_LINKED)));

    expect(messages).toHaveLength(5);
    const secrets = [
      SECRET_ID,
      SECRET_KEY,
      'not-the-key',
      ...fake.issuedTokens,
      'GB33BUKB20201555555555',
      '55555555',
    ];
    for (const message of messages) {
      for (const secret of secrets) {
        expect(message).not.toContain(secret);
        // Not even a fragment of one.
        for (let at = 0; at + 10 <= secret.length; at++)
          expect(message).not.toContain(secret.slice(at, at + 10));
      }
    }
  });
});

describe('tokens', () => {
  it('gets one token pair for concurrent calls and keeps using it', async () => {
    const bank = provider();
    await Promise.all([
      bank.checkConsent(consent(REQ_LINKED)),
      bank.checkConsent(consent(REQ_NARROW)),
      bank.searchInstitutions({ country: 'GB' }),
    ]);
    await bank.checkConsent(consent(REQ_LINKED));
    expect(tokenCalls()).toEqual({ fresh: 1, refresh: 0 });
  });

  it('refreshes once and retries when GoCardless refuses an expired access token', async () => {
    const bank = provider();
    const ctx = await connected(bank);
    fake.expireAccessTokens();
    await expect(bank.listAccounts(ctx)).resolves.toHaveLength(2);
    expect(tokenCalls()).toEqual({ fresh: 1, refresh: 1 });
    const refused = fake.requests.filter((r) => r.status === 401);
    expect(refused).toHaveLength(1);
    expect(fake.calls('POST', '/api/v2/token/refresh/')[0]?.body).toEqual({
      refresh: expect.stringMatching(/^eyJ/),
    });
  });

  it('gets a new pair when the refresh is refused too', async () => {
    const bank = provider();
    await bank.checkConsent(consent(REQ_LINKED));
    fake.expireAccessTokens();
    fake.expireRefreshTokens();
    await expect(bank.checkConsent(consent(REQ_LINKED))).resolves.toBeDefined();
    expect(tokenCalls()).toEqual({ fresh: 2, refresh: 1 });
  });

  it('renews before expiry: refresh after a day, a new pair after the refresh token ran out', async () => {
    const bank = provider();
    await bank.checkConsent(consent(REQ_NARROW));
    clock.now = new Date(NOW.getTime() + DAY - 30_000);
    await bank.checkConsent(consent(REQ_NARROW));
    expect(tokenCalls()).toEqual({ fresh: 1, refresh: 1 });
    clock.now = new Date(NOW.getTime() + 31 * DAY);
    await expect(bank.searchInstitutions({ country: 'GB' })).resolves.toHaveLength(5);
    expect(tokenCalls()).toEqual({ fresh: 2, refresh: 1 });
    expect(fake.requests.filter((r) => r.status === 401)).toHaveLength(0);
  });

  it('does not loop when GoCardless keeps refusing the token', async () => {
    const bank = provider();
    await bank.checkConsent(consent(REQ_LINKED));
    fake.inject({
      path: `/api/v2/requisitions/${REQ_LINKED}/`,
      status: 401,
      times: 5,
      body: { summary: 'Invalid token', detail: 'Token is invalid or expired', status_code: 401 },
    });
    expect((await failure(bank.checkConsent(consent(REQ_LINKED)))).kind).toBe('unavailable');
    expect(fake.calls('GET', `/api/v2/requisitions/${REQ_LINKED}/`)).toHaveLength(3);
  });
});

describe('validateConnect', () => {
  it('accepts a GoCardless institution id and refuses anything else as a 400 on providerId', () => {
    const bank = provider();
    expect(() => bank.validateConnect({ providerId: 'MONZO_MONZGB2L', metadata: {} })).not.toThrow();
    for (const providerId of ['', 'has space', '../x']) {
      try {
        bank.validateConnect({ providerId, metadata: {} });
        expect.unreachable();
      } catch (error) {
        expect((error as AppError).extra.errors?.[0]?.path).toBe('/providerId');
      }
    }
  });
});
