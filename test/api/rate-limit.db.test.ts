import { describe, expect, it } from 'vitest';
import {
  type ConsentContext,
  ProviderError,
  type TransactionPage,
  type TransactionQuery,
} from '../../src/providers/provider.js';
import { SandboxProvider } from '../../src/providers/sandbox/index.js';
import { startTestApp, TestClock } from '../support/app.js';
import { expectProblem, listAccounts, listAllTransactions, syncConnection } from '../support/fixtures.js';

/** The sandbox bank, rate limiting the transactions of its second account while `limited` is set. */
class RateLimitedBank extends SandboxProvider {
  limited = true;
  override async listTransactions(
    consent: ConsentContext,
    query: TransactionQuery,
  ): Promise<TransactionPage> {
    const [, second] = await this.listAccounts(consent);
    if (this.limited && query.providerAccountId === second?.providerAccountId) {
      throw new ProviderError('rate_limited', 'daily limit reached for this account', 3600);
    }
    return super.listTransactions(consent, query);
  }
}

describe('a rate limit part-way through a sync', () => {
  it('keeps the accounts already imported, answers 503 with Retry-After, and the next sync resumes', async () => {
    const clock = new TestClock();
    const bank = new RateLimitedBank({ clock: clock.now });
    const t = await startTestApp({ clock, providers: [bank] });
    try {
      const team = await t.createTeam();
      const connected = await t.as(team).post('/api/banking/connect', {
        teamId: team.teamId,
        provider: 'sandbox',
        providerId: 'sandbox-gb',
        consentId: 'limited-1',
        metadata: { sandbox: { transactionsPerAccount: 40, days: 30 } },
      });
      const connectionId = connected.json().id as string;

      const limited = await t.as(team).post('/api/banking/sync', { teamId: team.teamId, connectionId });
      expectProblem(limited, 503, 'PROVIDER_RATE_LIMITED');
      expect(limited.headers['retry-after']).toBe('3600');
      const kept = await listAccounts(t, team, connectionId);
      expect(kept.map((account) => account.accountName)).toEqual(['Current Account']);
      expect(await listAllTransactions(t, team, { connectionId })).toHaveLength(40);

      bank.limited = false;
      const resumed = await syncConnection(t, team, connectionId);
      expect(resumed.sync).toMatchObject({ accountsAdded: 2, transactionsAdded: 80, transactionsRemoved: 0 });
      expect(await listAllTransactions(t, team, { connectionId })).toHaveLength(120);
      expect((await listAccounts(t, team, connectionId))[0]?.id).toBe(kept[0]?.id);
    } finally {
      await t.close();
    }
  });
});
