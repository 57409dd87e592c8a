import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsentContext, TransactionQuery } from '../../src/providers/provider.js';
import { SandboxProvider } from '../../src/providers/sandbox/adapter.js';
import { connectSandbox, startTestApp, type TestApp, TestClock } from '../support/app.js';

/** A sandbox bank that says when a sync first asks it for transactions. */
class WatchedSandbox extends SandboxProvider {
  private started = () => {};
  readonly syncStarted = new Promise<void>((resolve) => {
    this.started = resolve;
  });

  override async listTransactions(consent: ConsentContext, query: TransactionQuery) {
    this.started();
    return super.listTransactions(consent, query);
  }
}

describe('a long sync', () => {
  const clock = new TestClock();
  const bank = new WatchedSandbox({ clock: clock.now });
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ clock, providers: [bank] });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => t.close());

  it('leaves the process free to answer /healthz over HTTP before it ends', async () => {
    const team = await t.createTeam();
    const client = t.as(team);
    // 30 pages of the sandbox's 1,000 rows.
    const connection = await connectSandbox(client, team, {
      metadata: { sandbox: { accounts: 1, transactionsPerAccount: 30_000, days: 365 } },
    });
    const answered: string[] = [];
    const sync = client
      .post('/api/banking/sync', { teamId: team.teamId, connectionId: connection.id })
      .then((r) => {
        answered.push('sync');
        return r;
      });
    await bank.syncStarted;
    const port = (t.app.server.address() as AddressInfo).port;
    const health = await new Promise<number | undefined>((resolve, reject) =>
      get({ host: '127.0.0.1', port, path: '/healthz' }, (response) => {
        response.resume();
        answered.push('healthz');
        resolve(response.statusCode);
      }).on('error', reject),
    );
    expect(health).toBe(200);
    const synced = await sync;
    expect(synced.statusCode, synced.body).toBe(200);
    expect(synced.json().sync.transactionsAdded).toBeGreaterThan(20_000);
    expect(answered).toEqual(['healthz', 'sync']);
  });
});
