import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsentContext } from '../../src/providers/provider.js';
import { SandboxProvider } from '../../src/providers/sandbox/adapter.js';
import { connectSandbox, startTestApp, type Team, type TestApp, TestClock } from '../support/app.js';
import { Gate } from '../support/gate.js';

/** A sandbox bank that counts its account listings and can hold the next one until released. */
class HeldSandbox extends SandboxProvider {
  listings = 0;
  private readonly listing = new Gate();

  constructor(clock: TestClock) {
    super({ clock: clock.now });
  }

  holdNextListing() {
    return this.listing.hold();
  }

  override async listAccounts(consent: ConsentContext) {
    this.listings++;
    await this.listing.pass();
    return super.listAccounts(consent);
  }
}

/**
 * Sends a sync over a real socket; `leave` closes the socket unanswered and resolves once the
 * server has seen it closed (the connection gone from its count), with whether an answer came.
 */
function syncOverSocket(app: FastifyInstance, team: Team, connectionId: string) {
  const body = JSON.stringify({ teamId: team.teamId, connectionId });
  const sent = httpRequest({
    host: '127.0.0.1',
    port: (app.server.address() as AddressInfo).port,
    method: 'POST',
    path: '/api/banking/sync',
    headers: {
      authorization: `Bearer ${team.apiKey}`,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    },
  });
  let answered = false;
  sent.on('response', () => {
    answered = true;
  });
  sent.on('error', () => {});
  sent.end(body);
  const openConnections = () =>
    new Promise<number>((resolve, reject) =>
      app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
    );
  return {
    async leave() {
      sent.destroy();
      while ((await openConnections()) > 0) await sleep(5);
      return answered;
    },
  };
}

describe('an explicit sync whose client has gone', () => {
  const clock = new TestClock();
  const bank = new HeldSandbox(clock);
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ clock, providers: [bank] });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => t.close());

  it('is not run when its client closed the connection while it waited for another sync', async () => {
    const team = await t.createTeam();
    const client = t.as(team);
    const connection = await connectSandbox(client, team, { consentId: 'abandoned' });
    const held = bank.holdNextListing();
    const first = client.post('/api/banking/sync', { teamId: team.teamId, connectionId: connection.id });
    await held.reached;
    const listingsBefore = bank.listings;

    // Two clients give up while the first sync runs; a third waits for its answer.
    for (const _ of ['first', 'second']) {
      const left = syncOverSocket(t.app, team, connection.id);
      await sleep(100);
      expect(await left.leave()).toBe(false);
    }
    const waiting = client.post('/api/banking/sync', { teamId: team.teamId, connectionId: connection.id });
    held.release();

    const [firstAnswer, waitingAnswer] = await Promise.all([first, waiting]);
    expect(firstAnswer.statusCode, firstAnswer.body).toBe(200);
    expect(firstAnswer.json().sync.transactionsAdded).toBeGreaterThan(0);
    expect(waitingAnswer.statusCode, waitingAnswer.body).toBe(200);
    expect(waitingAnswer.json().sync).toMatchObject({ accountsAdded: 0, transactionsAdded: 0 });
    // The bank was asked once more, for the client that waited: the two that left cost nothing.
    expect(bank.listings - listingsBefore).toBe(1);
  });

  it('that had started runs to its end, and its work is kept', async () => {
    const team = await t.createTeam();
    const client = t.as(team);
    const connection = await connectSandbox(client, team, { consentId: 'left-running' });
    const held = bank.holdNextListing();
    const leaving = syncOverSocket(t.app, team, connection.id);
    await held.reached;
    expect(await leaving.leave()).toBe(false);
    held.release();

    // The next sync waits for the one that was left, which imported everything.
    const next = await client.post('/api/banking/sync', { teamId: team.teamId, connectionId: connection.id });
    expect(next.statusCode, next.body).toBe(200);
    expect(next.json().sync).toMatchObject({ accountsAdded: 0, transactionsAdded: 0 });
    const accounts = await client.get('/api/banking/accounts', { teamId: team.teamId });
    expect(accounts.json()).toHaveLength(3);
  });
});
