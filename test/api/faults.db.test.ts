/**
 * Provider faults in the middle of a sync, through the real app and the real GoCardless and Plaid
 * adapters against the local fakes of their HTTP APIs: a timeout (no answer, or a body that stops
 * coming), 5xx after some transactions were served, a rate limit, a malformed answer (not JSON, or
 * JSON of the wrong shape), a connection reset part-way through an answer.
 *
 * Each fault hits a customer who was never synced, so that a sync that kept anything would show.
 * For each: the answer is the contract's 502/503/504 problem (never a 500, nothing internal in it);
 * the database afterwards equals a dump taken before, except what docs/DECISIONS.md says a rate
 * limit keeps; then, the fault gone, the next sync imports exactly what the bank holds and a
 * further sync changes nothing.
 */
import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  dailyLimitExceeded,
  FakeGoCardless,
  INSTITUTION_GB,
  SECRET_ID,
  SECRET_KEY,
} from '../providers/gocardless/fake-server.js';
import { FAKE_CLIENT_ID, FAKE_SECRET, type FakeFailure, FakePlaid } from '../providers/plaid/fake-server.js';
import {
  added,
  CARD_ID,
  CHECKING_ID,
  INSTITUTION_ID,
  initialEvents,
  type SyncEvent,
} from '../providers/plaid/fixtures.js';
import type { WireFault } from '../providers/wire-faults.js';
import { startTestApp, type Team, type TestApp, TestClock } from '../support/app.js';
import { type DatabaseDump, dumpDatabase, expectSameDump } from '../support/dump.js';
import {
  type AccountDetailsBody,
  type ConnectionBody,
  expectProblem,
  listAccounts,
  listAllTransactions,
  listConnections,
  NOTHING_CHANGED,
  type SyncBody,
  syncConnection,
} from '../support/fixtures.js';

/** Short, so that a timeout costs the suite little; far above what the local fakes take. */
const PROVIDER_TIMEOUT_MS = 1_000;
/** The shared HTTP client's attempts (one and two retries) on 5xx and network errors. */
const ATTEMPTS = 3;
/** A fault, whichever provider serves it. */
type Fault =
  | { kind: 'slow' }
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'json'; body: unknown }
  | { kind: 'wire'; wire: WireFault };

/** A bank behind a real adapter and its fake, as the scenarios use it. */
interface Bank {
  provider: 'plaid' | 'gocardless';
  /** Secrets and tokens that must never appear in an answer. */
  secrets(): string[];
  /**
   * A customer who has just consented, connected through the API and never synced: the
   * connection and how many transactions the bank holds for each account, by account name, in
   * the order the bank lists the accounts.
   */
  connectCustomer(): Promise<{ connectionId: string; holds: [string, number][] }>;
  /** The `n`-th transactions call from now (and `times - 1` after it) answers the fault. */
  failTransactions(n: number, fault: Fault, times?: number): void;
  /** The next account calls (Plaid: balances; GoCardless: balances) answer the fault. */
  failAccounts(fault: Fault): void;
  /** Statuses of the transactions calls so far. */
  transactionStatuses(): (number | undefined)[];
  clear(): void;
}

// ---------------------------------------------------------------------------------------------
// Plaid

const SYNC = '/transactions/sync';
/** Checking transactions beyond the fixture's: with them the checking account takes three pages. */
const PLAID_HISTORY = 1_000;

/** Connects the consent the fake bank issued; the connect must succeed. */
async function connectThrough(
  t: TestApp,
  team: Team,
  provider: string,
  providerId: string,
  consentId: string,
) {
  const response = await t
    .as(team)
    .post('/api/banking/connect', { teamId: team.teamId, provider, providerId, consentId });
  expect(response.statusCode, response.body).toBe(201);
  return response;
}

function plaidHistory(prefix: string): SyncEvent[] {
  const start = Date.parse('2025-09-01T00:00:00Z');
  return Array.from({ length: PLAID_HISTORY }, (_, i) =>
    added({
      id: `${prefix}-${i}`,
      account: CHECKING_ID,
      amount: (101 + ((i * 7919) % 25_000)) / 100,
      date: new Date(start + Math.floor(i / 4) * 86_400_000).toISOString().slice(0, 10),
      name: `PURCHASE ${prefix} ${i}`,
      merchant: null,
      category: null,
    }),
  );
}

function plaidFailure(fault: Fault): FakeFailure {
  switch (fault.kind) {
    case 'slow':
      return { delayMs: PROVIDER_TIMEOUT_MS * 2.5 };
    case 'status':
      return fault.status === 429
        ? {
            code: 'RATE_LIMIT_EXCEEDED',
            ...(fault.retryAfter ? { headers: { 'retry-after': fault.retryAfter } } : {}),
          }
        : { status: fault.status, code: 'INTERNAL_SERVER_ERROR' };
    case 'json':
      return { body: fault.body };
    case 'wire':
      return { wire: fault.wire };
  }
}

function plaidBank(fake: FakePlaid, t: () => TestApp, team: () => Team): Bank {
  let customers = 0;
  return {
    provider: 'plaid',
    secrets: () => [
      FAKE_SECRET,
      FAKE_CLIENT_ID,
      ...fake.issuedTokens().access,
      ...fake.issuedTokens().public,
    ],
    async connectCustomer() {
      const events = [...initialEvents(), ...plaidHistory(`c${++customers}`)];
      const { publicToken } = fake.createItem({ events });
      const response = await connectThrough(t(), team(), 'plaid', INSTITUTION_ID, publicToken);
      const count = (account: string) =>
        events.filter((event) => event.kind === 'added' && event.transaction.account_id === account).length;
      return {
        connectionId: (response.json() as ConnectionBody).id,
        holds: [
          ['Everyday Checking', count(CHECKING_ID)],
          ['Harbour Rewards Card', count(CARD_ID)],
        ],
      };
    },
    failTransactions: (n, fault, times = 1) => fake.failAt(SYNC, n, plaidFailure(fault), times),
    failAccounts: (fault) => fake.failNext('/accounts/balance/get', plaidFailure(fault), ATTEMPTS),
    transactionStatuses: () => fake.calls(SYNC).map((call) => call.response?.status),
    clear: () => fake.clearFailures(),
  };
}

// ---------------------------------------------------------------------------------------------
// GoCardless

const GC_TRANSACTIONS = /^\/api\/v2\/accounts\/[^/]+\/transactions\/$/;
const GC_BALANCES = /^\/api\/v2\/accounts\/[^/]+\/balances\/$/;
const GC_BOOKED = 20;

function gocardlessInjection(fault: Fault) {
  switch (fault.kind) {
    case 'slow':
      return { delayMs: PROVIDER_TIMEOUT_MS * 2.5 };
    case 'status':
      return fault.status === 429
        ? dailyLimitExceeded(4, fault.retryAfter ?? '3600')
        : {
            status: fault.status,
            body: { summary: 'Service unavailable', detail: 'Try again later', status_code: fault.status },
          };
    case 'json':
      return { status: 200, body: fault.body };
    case 'wire':
      return { wire: fault.wire };
  }
}

function gocardlessBank(fake: () => FakeGoCardless, t: () => TestApp, team: () => Team): Bank {
  return {
    provider: 'gocardless',
    secrets: () => [SECRET_ID, SECRET_KEY, ...fake().issuedTokens],
    async connectCustomer() {
      const { requisitionId, accountIds } = fake().addLinkedCustomer({ accounts: 2, booked: GC_BOOKED });
      const response = await connectThrough(t(), team(), 'gocardless', INSTITUTION_GB, requisitionId);
      return {
        connectionId: (response.json() as ConnectionBody).id,
        holds: accountIds.map((id, index) => {
          const account = fake().accounts.get(id);
          return [`Account ${index + 1}`, (account?.booked.length ?? 0) + (account?.pending.length ?? 0)];
        }),
      };
    },
    failTransactions: (n, fault, times = 1) =>
      fake().inject({
        method: 'GET',
        path: GC_TRANSACTIONS,
        after: n - 1,
        times,
        ...gocardlessInjection(fault),
      }),
    failAccounts: (fault) =>
      fake().inject({ method: 'GET', path: GC_BALANCES, times: ATTEMPTS, ...gocardlessInjection(fault) }),
    transactionStatuses: () =>
      fake()
        .calls('GET', GC_TRANSACTIONS)
        .map((call) => call.status),
    clear: () => fake().clearInjections(),
  };
}

// ---------------------------------------------------------------------------------------------
// Scenarios

interface Scenario {
  name: string;
  /** Where the fault is: the `n`-th transactions call of the sync (`times` in a row), or the accounts. */
  at: { transactions: number; times?: number } | 'accounts';
  fault: Fault;
  status: number;
  code: string;
}

/**
 * The scenarios of a bank. "After some transactions were served" is the checking account's third
 * page at Plaid (two pages of 500 served), and the second account at GoCardless (which answers an
 * account's transactions in one call). A rate limit on the last account is a test of its own:
 * there the design keeps the first account.
 */
function scenarios(bank: 'plaid' | 'gocardless'): Scenario[] {
  const afterSomePages = bank === 'plaid' ? 3 : 2;
  const wrongShapes: [string, unknown][] =
    bank === 'plaid'
      ? [
          [
            'lists that are not lists',
            { added: 'none', modified: [], removed: [], next_cursor: 'x', has_more: false },
          ],
          [
            'a null transaction',
            { added: [null], modified: [], removed: [], next_cursor: 'x', has_more: false },
          ],
          [
            'a transaction with an amount that is not a number',
            {
              added: [
                {
                  transaction_id: 'odd',
                  account_id: CHECKING_ID,
                  amount: 'lots',
                  iso_currency_code: 'USD',
                  date: '2026-11-20',
                },
              ],
              modified: [],
              removed: [],
              next_cursor: 'x',
              has_more: false,
            },
          ],
        ]
      : [
          ['lists that are not lists', { transactions: { booked: 'none', pending: [] } }],
          ['a null transaction', { transactions: { booked: [null], pending: [] } }],
          [
            'a transaction with an amount that is not a number',
            {
              transactions: {
                booked: [
                  { bookingDate: '2026-11-20', transactionAmount: { amount: 'lots', currency: 'GBP' } },
                ],
                pending: [],
              },
            },
          ],
        ];
  const accountsShape =
    bank === 'plaid' ? { accounts: [{ account_id: 'acc-without-anything' }] } : { balances: 'none' };
  return [
    {
      name: 'no answer within PROVIDER_TIMEOUT_MS',
      at: { transactions: 2 },
      fault: { kind: 'slow' },
      status: 504,
      code: 'PROVIDER_TIMEOUT',
    },
    {
      name: 'an answer whose body stops coming',
      at: { transactions: 2 },
      fault: { kind: 'wire', wire: { kind: 'stall' } },
      status: 504,
      code: 'PROVIDER_TIMEOUT',
    },
    {
      name: '5xx after some transactions were served, on every retry',
      at: { transactions: afterSomePages, times: ATTEMPTS },
      fault: { kind: 'status', status: 503 },
      status: 502,
      code: 'PROVIDER_UNAVAILABLE',
    },
    {
      name: 'a connection reset part-way through an answer, on every retry',
      at: { transactions: 2, times: ATTEMPTS },
      fault: { kind: 'wire', wire: { kind: 'reset' } },
      status: 502,
      code: 'PROVIDER_UNAVAILABLE',
    },
    {
      name: 'a 200 whose body is not JSON',
      at: { transactions: 2 },
      fault: { kind: 'wire', wire: { kind: 'raw', text: '{"added": [{"transaction_id": "cut sh' } },
      status: 502,
      code: 'PROVIDER_UNAVAILABLE',
    },
    {
      name: 'a 200 with an empty body',
      at: { transactions: 2 },
      fault: { kind: 'wire', wire: { kind: 'raw', text: '' } },
      status: 502,
      code: 'PROVIDER_UNAVAILABLE',
    },
    ...wrongShapes.map(
      ([what, body]): Scenario => ({
        name: `JSON of the wrong shape: ${what}`,
        at: { transactions: 2 },
        fault: { kind: 'json', body },
        status: 502,
        code: 'PROVIDER_UNAVAILABLE',
      }),
    ),
    {
      name: 'accounts of the wrong shape',
      at: 'accounts',
      fault: { kind: 'json', body: accountsShape },
      status: 502,
      code: 'PROVIDER_UNAVAILABLE',
    },
    {
      name: '5xx on the accounts, on every retry',
      at: 'accounts',
      fault: { kind: 'status', status: 500 },
      status: 502,
      code: 'PROVIDER_UNAVAILABLE',
    },
    {
      name: 'a rate limit on the first account',
      at: { transactions: 1 },
      fault: { kind: 'status', status: 429, retryAfter: '120' },
      status: 503,
      code: 'PROVIDER_RATE_LIMITED',
    },
  ];
}

// ---------------------------------------------------------------------------------------------

/** Asserts the problem answer, and that it names no secret, token, host or internal of ours. */
function expectCleanProblem(bank: Bank, response: LightMyRequestResponse, status: number, code: string) {
  expectProblem(response, status, code);
  for (const secret of bank.secrets()) expect(response.body).not.toContain(secret);
  expect(response.body).not.toMatch(/127\.0\.0\.1|localhost|TypeError|SyntaxError|ECONNRESET|undici/i);
}

for (const provider of ['plaid', 'gocardless'] as const) {
  describe(`${provider}: a provider fault during a sync writes nothing, and the next sync is exact`, () => {
    const clock = new TestClock();
    let plaid: FakePlaid | undefined;
    let gocardless: FakeGoCardless | undefined;
    let t: TestApp;
    let team: Team;
    let bank: Bank;

    beforeAll(async () => {
      let env: Record<string, string>;
      if (provider === 'plaid') {
        plaid = new FakePlaid();
        await plaid.start();
        env = plaid.serviceEnv();
      } else {
        gocardless = await FakeGoCardless.start({ now: clock.now, dailyAccountLimit: 1_000 });
        env = gocardless.serviceEnv();
      }
      t = await startTestApp({
        clock,
        env: {
          ...env,
          ENCRYPTION_KEY: randomBytes(32).toString('base64'),
          PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS),
        },
      });
      team = await t.createTeam(`${provider} faults`);
      bank =
        provider === 'plaid'
          ? plaidBank(
              plaid as FakePlaid,
              () => t,
              () => team,
            )
          : gocardlessBank(
              () => gocardless as FakeGoCardless,
              () => t,
              () => team,
            );
    });

    // A scenario that failed part-way must not leave its fault to the next one.
    afterEach(() => bank?.clear());

    afterAll(async () => {
      await t?.close();
      await plaid?.stop();
      await gocardless?.stop();
    });

    const sync = (connectionId: string) =>
      t.as(team).post('/api/banking/sync', { teamId: team.teamId, connectionId });

    async function connection(connectionId: string): Promise<ConnectionBody> {
      const found = (await listConnections(t, team)).find((c) => c.id === connectionId);
      if (!found) throw new Error(`connection ${connectionId} not listed`);
      return found;
    }

    /**
     * The connection's accounts and transactions over HTTP are exactly `holds`: the accounts by
     * name in the bank's order, the number of transactions of each (no duplicate), and each
     * account's `transactionCount` agreeing with its rows.
     */
    async function expectHolds(connectionId: string, holds: [string, number][]) {
      const accounts = await listAccounts(t, team, connectionId);
      expect(accounts.map((account) => account.accountName)).toEqual(holds.map(([name]) => name));
      const transactions = await listAllTransactions(t, team, { connectionId });
      expect(new Set(transactions.map((transaction) => transaction.id)).size).toBe(transactions.length);
      const counted = holds.map(
        ([name]) => [name, transactions.filter((tx) => tx.account.accountName === name).length] as const,
      );
      expect(counted).toEqual(holds);
      for (const account of accounts) {
        const details = await t.as(team).get(`/api/banking/accounts/${account.id}`, { teamId: team.teamId });
        expect(details.statusCode, details.body).toBe(200);
        const held = holds.find(([name]) => name === account.accountName)?.[1];
        expect((details.json() as AccountDetailsBody).transactionCount).toBe(held);
      }
    }

    /** The fault gone, a sync imports exactly what the bank holds, and another changes nothing. */
    async function expectExactRecovery(
      connectionId: string,
      holds: [string, number][],
      expected: Partial<SyncBody['sync']>,
    ) {
      bank.clear();
      const recovered = await syncConnection(t, team, connectionId);
      expect(recovered.sync).toEqual({ ...NOTHING_CHANGED, ...expected });
      expect(recovered.lastSyncStatus).toBe('SUCCEEDED');
      await expectHolds(connectionId, holds);
      const again = await syncConnection(t, team, connectionId);
      expect(again.sync).toEqual(NOTHING_CHANGED);
      await expectHolds(connectionId, holds);
    }

    for (const scenario of scenarios(provider)) {
      it(`${scenario.name}: answers ${scenario.status} ${scenario.code}, writes nothing, then syncs exactly`, async () => {
        const { connectionId, holds } = await connectCustomer();
        const before: DatabaseDump = await dumpDatabase(t.database);
        const callsBefore = bank.transactionStatuses().length;
        if (scenario.at === 'accounts') bank.failAccounts(scenario.fault);
        else bank.failTransactions(scenario.at.transactions, scenario.fault, scenario.at.times);

        const response = await sync(connectionId);
        expectCleanProblem(bank, response, scenario.status, scenario.code);
        if (scenario.status === 503) expect(response.headers['retry-after']).toBe('120');
        if (scenario.at !== 'accounts') {
          // The fault came where it was meant to: after the calls before it were answered.
          const statuses = bank.transactionStatuses().slice(callsBefore);
          expect(statuses.slice(0, scenario.at.transactions - 1)).toEqual(
            Array(scenario.at.transactions - 1).fill(200),
          );
          expect(statuses.length).toBeGreaterThanOrEqual(scenario.at.transactions);
        }

        expectSameDump(await dumpDatabase(t.database), before, `the database after ${scenario.name}`);
        expect(await connection(connectionId)).toMatchObject({
          lastSyncedAt: null,
          lastSyncStatus: null,
          lastSyncError: null,
        });

        await expectExactRecovery(connectionId, holds, {
          accountsAdded: holds.length,
          transactionsAdded: holds.reduce((sum, [, count]) => sum + count, 0),
        });
      });
    }

    it('a rate limit on the last account keeps the accounts finished before it, as documented, and the next sync adds only the rest', async () => {
      const { connectionId, holds } = await connectCustomer();
      const [first, last] = holds as [[string, number], [string, number]];
      const before = await dumpDatabase(t.database);
      const viewBefore = await connection(connectionId);
      bank.failTransactions(provider === 'plaid' ? 4 : 2, { kind: 'status', status: 429, retryAfter: '120' });

      const response = await sync(connectionId);
      expectCleanProblem(bank, response, 503, 'PROVIDER_RATE_LIMITED');
      expect(response.headers['retry-after']).toBe('120');

      // docs/DECISIONS.md: "A rate limit part-way through a sync keeps the accounts already
      // written (each account is written under a savepoint) ... and leaves lastSyncedAt as it
      // was". So exactly the first account and its transactions are new, the connection row
      // changed (its updatedAt, and the provider state with the first account's cursor), and
      // nothing else did.
      const after = await dumpDatabase(t.database);
      const grew = (table: string) => (after[table]?.length ?? 0) - (before[table]?.length ?? 0);
      expect(grew('accounts')).toBe(1);
      expect(grew('transactions')).toBe(first[1]);
      for (const table of ['accounts', 'transactions']) {
        const rows = new Set(after[table]);
        expect((before[table] ?? []).filter((row) => !rows.has(row))).toEqual([]);
      }
      const { accounts: _a, transactions: _t, connections: _c, ...otherAfter } = after;
      const { accounts: _ab, transactions: _tb, connections: _cb, ...otherBefore } = before;
      expectSameDump(otherAfter, otherBefore, 'the tables a rate limit does not touch');
      expect(after.connections?.length).toBe(before.connections?.length);
      const viewAfter = await connection(connectionId);
      expect(viewAfter).toMatchObject({
        lastSyncedAt: viewBefore.lastSyncedAt,
        lastSyncStatus: null,
        lastSyncError: null,
      });
      await expectHolds(connectionId, [first]);

      await expectExactRecovery(connectionId, holds, { accountsAdded: 1, transactionsAdded: last[1] });
    });

    /** A customer connected through the API, checked to hold nothing yet. */
    async function connectCustomer() {
      const customer = await bank.connectCustomer();
      expect(await listAccounts(t, team, customer.connectionId)).toEqual([]);
      return customer;
    }
  });
}
