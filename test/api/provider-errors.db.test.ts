import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BankProvider,
  type ConsentContext,
  ProviderError,
  type ProviderErrorKind,
} from '../../src/providers/provider.js';
import { SandboxProvider } from '../../src/providers/sandbox/index.js';
import { startTestApp, type Team, type TestApp, TestClock } from '../support/app.js';
import { expectProblem, listAccounts } from '../support/fixtures.js';

/** The sandbox bank, renamed, that fails every call with the kind of error a test sets. */
class FailingBank implements BankProvider {
  readonly name = 'failing';
  failure: ProviderError | null = null;
  constructor(private readonly bank: SandboxProvider) {}
  private guard() {
    if (this.failure) throw this.failure;
  }
  validateConnect(input: { providerId: string; metadata: Record<string, unknown> }) {
    this.bank.validateConnect(input);
  }
  async checkConsent(consent: ConsentContext) {
    this.guard();
    return this.bank.checkConsent(consent);
  }
  async updateConsent(...args: Parameters<BankProvider['updateConsent']>) {
    this.guard();
    return this.bank.updateConsent(...args);
  }
  async revokeConsent(consent: ConsentContext) {
    this.guard();
    return this.bank.revokeConsent(consent);
  }
  async listAccounts(consent: ConsentContext) {
    this.guard();
    return this.bank.listAccounts(consent);
  }
  async listTransactions(...args: Parameters<BankProvider['listTransactions']>) {
    this.guard();
    return this.bank.listTransactions(...args);
  }
  async searchInstitutions(query: Parameters<BankProvider['searchInstitutions']>[0]) {
    this.guard();
    return this.bank.searchInstitutions(query);
  }
  async createLink(request: Parameters<BankProvider['createLink']>[0]) {
    this.guard();
    return this.bank.createLink(request);
  }
}

const FAILURES: [ProviderErrorKind, number, string][] = [
  ['expired', 422, 'PROVIDER_CONSENT_EXPIRED'],
  ['revoked', 422, 'PROVIDER_CONSENT_REVOKED'],
  ['login_required', 422, 'PROVIDER_LOGIN_REQUIRED'],
  ['invalid', 422, 'PROVIDER_CONSENT_INVALID'],
  ['unavailable', 502, 'PROVIDER_UNAVAILABLE'],
  ['rate_limited', 503, 'PROVIDER_RATE_LIMITED'],
  ['timeout', 504, 'PROVIDER_TIMEOUT'],
];

describe('provider failures map onto the contract statuses and write nothing', () => {
  let t: TestApp;
  let team: Team;
  let bank: FailingBank;
  const connect = (consentId: string) =>
    t.as(team).post('/api/banking/connect', {
      teamId: team.teamId,
      provider: 'failing',
      providerId: 'sandbox-gb',
      consentId,
    });

  beforeAll(async () => {
    const clock = new TestClock();
    bank = new FailingBank(new SandboxProvider({ clock: clock.now }));
    t = await startTestApp({ clock, providers: [bank] });
    team = await t.createTeam();
  });
  afterAll(() => t.close());

  it.each(FAILURES)(
    'a bank error "%s" at connect answers %i %s and records no connection',
    async (kind, status, code) => {
      bank.failure = new ProviderError(kind, 'bank says no', kind === 'rate_limited' ? 42 : undefined);
      const response = await connect(`connect-${kind}`);
      bank.failure = null;
      expectProblem(response, status, code);
      if (kind === 'rate_limited') expect(response.headers['retry-after']).toBe('42');
      const connections = await t.as(team).get('/api/banking/connections', { teamId: team.teamId });
      expect(connections.json()).toEqual([]);
    },
  );

  it.each(FAILURES)(
    'a bank error "%s" during sync answers %i %s and imports nothing',
    async (kind, status, code) => {
      const connected = await connect(`sync-${kind}`);
      expect(connected.statusCode).toBe(201);
      const connectionId = connected.json().id as string;
      bank.failure = new ProviderError(kind, 'bank says no');
      const response = await t.as(team).post('/api/banking/sync', { teamId: team.teamId, connectionId });
      bank.failure = null;
      expectProblem(response, status, code);
      expect(await listAccounts(t, team, connectionId)).toEqual([]);
      const transactions = await t
        .as(team)
        .get('/api/banking/transactions', { teamId: team.teamId, connectionId });
      expect(transactions.json()).toEqual([]);
    },
  );

  it('a consent update the bank refuses answers 422 and keeps the current consent', async () => {
    const connected = await connect('update-refused');
    const connectionId = connected.json().id as string;
    bank.failure = new ProviderError('invalid', 'scope not offered by this bank');
    const response = await t.as(team).post('/api/banking/consent', {
      teamId: team.teamId,
      connectionId,
      scopes: ['accounts'],
      expiresAt: '2027-06-30T00:00:00Z',
    });
    bank.failure = null;
    expectProblem(response, 422, 'PROVIDER_CONSENT_INVALID');
    const list = await t.as(team).get('/api/banking/connections', { teamId: team.teamId });
    const connection = (list.json() as { id: string; consents: { status: string }[] }[]).find(
      (c) => c.id === connectionId,
    );
    expect(connection?.consents.map((c) => c.status)).toEqual(['AUTHORIZED']);
  });

  it('a disconnect stands even when the bank cannot be told', async () => {
    const connected = await connect('disconnect-outage');
    const connectionId = connected.json().id as string;
    bank.failure = new ProviderError('unavailable', 'bank down');
    const response = await t.as(team).post('/api/banking/disconnect', { teamId: team.teamId, connectionId });
    bank.failure = null;
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id: connectionId, status: 'DISCONNECTED' });
  });
});
