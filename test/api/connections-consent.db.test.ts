import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { connectSandbox, type Team } from '../support/app.js';
import {
  type AccountDetailsBody,
  type ConsentBody,
  DAY_MS,
  expectIsoUtc,
  expectProblem,
  expectValidationProblem,
  listAccounts,
  listAllTransactions,
  listConnections,
  syncConnection,
  tick,
  useTestApp,
} from '../support/fixtures.js';

describe('connections: consent update and the scope rules of sync', () => {
  const t = useTestApp();

  const inDays = (days: number) => new Date(t.clock.now().getTime() + days * DAY_MS).toISOString();
  const updateConsent = (team: Team, body: Record<string, unknown>) =>
    t.as(team).post('/api/banking/consent', { teamId: team.teamId, ...body });

  /**
   * Locks the connection's row in a transaction of another connection (PostgreSQL only), as a
   * running sync does, until `release` ends it.
   */
  async function holdConnection(connectionId: string): Promise<{ release(): Promise<void> }> {
    let end = () => {};
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    let held = () => {};
    const holding = new Promise<void>((resolve) => {
      held = resolve;
    });
    const transaction = t.database.db.transaction(async (tx) => {
      await tx.execute(sql`select id from connections where id = ${connectionId} for update`);
      held();
      await ended;
    });
    await holding;
    return {
      release: () => {
        end();
        return transaction;
      },
    };
  }

  describe('update', () => {
    it('answers 200 with a new AUTHORIZED consent of the given scopes and expiry, revokedAt null', async () => {
      const team = await t.createTeam();
      const connection = await connectSandbox(t.as(team), team);
      tick(t);
      const expiresAt = inDays(30);
      const response = await updateConsent(team, {
        connectionId: connection.id,
        scopes: ['transactions', 'accounts'],
        expiresAt,
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(String(response.headers['content-type'])).toMatch(/^application\/json/);
      const consent = response.json() as ConsentBody;
      expect(typeof consent.id).toBe('string');
      expect(consent.id).not.toBe(connection.consents[0]?.id);
      expect(consent.status).toBe('AUTHORIZED');
      expect([...consent.scopes].sort()).toEqual(['accounts', 'transactions']);
      expectIsoUtc(consent.expiresAt);
      expect(consent.expiresAt).toBe(expiresAt);
      expect(consent).toHaveProperty('revokedAt', null);
    });

    it('takes expiresAt with an offset and returns it in UTC', async () => {
      const team = await t.createTeam();
      const connection = await connectSandbox(t.as(team), team);
      const response = await updateConsent(team, {
        connectionId: connection.id,
        scopes: ['accounts'],
        expiresAt: '2027-01-15T13:00:00+01:00',
      });
      expect(response.statusCode, response.body).toBe(200);
      expect((response.json() as ConsentBody).expiresAt).toBe('2027-01-15T12:00:00.000Z');
    });

    it('dates the change when it is made: a request kept waiting by a sync revokes the old consent then, not when it came', async (context) => {
      // Holding the connection's row from outside the app needs a second connection: PostgreSQL.
      if (t.testDatabase.engine !== 'postgres') return context.skip();
      const team = await t.createTeam();
      const connection = await connectSandbox(t.as(team), team);
      // As a running sync holds it.
      const sync = await holdConnection(connection.id);
      const arrivedAt = t.clock.now().toISOString();
      const update = updateConsent(team, {
        connectionId: connection.id,
        scopes: ['accounts'],
        expiresAt: inDays(30),
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      tick(t, 45);
      const changedAt = t.clock.now().toISOString();
      await sync.release();
      const response = await update;
      expect(response.statusCode, response.body).toBe(200);
      const [old, current] = (await listConnections(t, team))[0]?.consents ?? [];
      expect(changedAt).not.toBe(arrivedAt);
      expect(old).toMatchObject({ status: 'REVOKED', revokedAt: changedAt });
      expect(current).toMatchObject({ id: (response.json() as ConsentBody).id, createdAt: changedAt });
    });

    it('a sync kept waiting while a consent update narrows the scopes syncs under the new consent', async (context) => {
      if (t.testDatabase.engine !== 'postgres') return context.skip();
      const team = await t.createTeam();
      const connection = await connectSandbox(t.as(team), team);
      const holder = await holdConnection(connection.id);
      // The update waits for the connection first; the sync reads the consent of all scopes, lists
      // the accounts, and waits behind it.
      const update = updateConsent(team, {
        connectionId: connection.id,
        scopes: ['accounts'],
        expiresAt: inDays(30),
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const sync = t.as(team).post('/api/banking/sync', { teamId: team.teamId, connectionId: connection.id });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await holder.release();
      expect((await update).statusCode).toBe(200);
      const synced = await sync;
      expect(synced.statusCode, synced.body).toBe(200);
      // Under the new consent: accounts, and no transactions.
      expect(
        (synced.json() as { sync: { accountsAdded: number; transactionsAdded: number } }).sync,
      ).toMatchObject({
        transactionsAdded: 0,
      });
      expect((await listAccounts(t, team)).length).toBeGreaterThan(0);
      expect(await listAllTransactions(t, team, { connectionId: connection.id })).toEqual([]);
    });

    it('revokes the previous consent with revokedAt now and keeps the history oldest first', async () => {
      const team = await t.createTeam();
      const connection = await connectSandbox(t.as(team), team);
      const original = (await listConnections(t, team))[0]?.consents[0];
      tick(t, 5);
      const now = t.clock.now().getTime();
      const response = await updateConsent(team, {
        connectionId: connection.id,
        scopes: ['balances'],
        expiresAt: inDays(20),
      });
      expect(response.statusCode, response.body).toBe(200);
      const created = response.json() as ConsentBody;

      const [listed] = await listConnections(t, team);
      expect(listed?.status).toBe('ACTIVE');
      expect(listed?.consents).toHaveLength(2);
      const [old, current] = listed?.consents ?? [];
      expect(old?.id).toBe(original?.id);
      expect(old?.status).toBe('REVOKED');
      expect([...(old?.scopes ?? [])].sort()).toEqual([...(original?.scopes ?? [])].sort());
      expect(old?.expiresAt).toBe(original?.expiresAt);
      expectIsoUtc(old?.revokedAt);
      expect(Math.abs(Date.parse(old?.revokedAt ?? '') - now)).toBeLessThanOrEqual(60_000);
      expect(current).toMatchObject({
        id: created.id,
        status: 'AUTHORIZED',
        scopes: created.scopes,
        expiresAt: created.expiresAt,
        revokedAt: null,
      });
    });

    it('a second update revokes the first update; only the newest consent is AUTHORIZED', async () => {
      const team = await t.createTeam();
      const connection = await connectSandbox(t.as(team), team);
      const ids = [connection.consents[0]?.id];
      for (const scopes of [
        ['accounts', 'balances'],
        ['accounts', 'balances', 'transactions'],
      ]) {
        tick(t);
        const response = await updateConsent(team, {
          connectionId: connection.id,
          scopes,
          expiresAt: inDays(15),
        });
        expect(response.statusCode, response.body).toBe(200);
        ids.push((response.json() as ConsentBody).id);
      }
      const consents = (await listConnections(t, team))[0]?.consents ?? [];
      expect(consents.map((c) => c.id)).toEqual(ids);
      expect(consents.map((c) => c.status)).toEqual(['REVOKED', 'REVOKED', 'AUTHORIZED']);
      expect(consents.map((c) => c.revokedAt === null)).toEqual([false, false, true]);
      expect(Date.parse(consents[0]?.revokedAt ?? '')).toBeLessThan(Date.parse(consents[1]?.revokedAt ?? ''));
    });

    describe('400 for bad input, and nothing is written', () => {
      let team: Team;
      let connectionId: string;
      let consentsBefore: ConsentBody[];
      beforeAll(async () => {
        team = await t.createTeam('consent-validation');
        connectionId = (await connectSandbox(t.as(team), team)).id;
        consentsBefore = (await listConnections(t, team))[0]?.consents ?? [];
      });

      it('400 for empty scopes, naming /scopes', async () => {
        const response = await updateConsent(team, { connectionId, scopes: [], expiresAt: inDays(10) });
        expectValidationProblem(response, ['/scopes']);
      });

      it('400 for an unknown scope, naming it', async () => {
        const response = await updateConsent(team, {
          connectionId,
          scopes: ['accounts', 'payments'],
          expiresAt: inDays(10),
        });
        expectValidationProblem(response, ['/scopes']);
      });

      it('400 for duplicate scopes, naming /scopes', async () => {
        const response = await updateConsent(team, {
          connectionId,
          scopes: ['accounts', 'accounts'],
          expiresAt: inDays(10),
        });
        expectValidationProblem(response, ['/scopes']);
      });

      it('400 for scopes that are not an array of strings, naming /scopes', async () => {
        const response = await updateConsent(team, {
          connectionId,
          scopes: 'accounts',
          expiresAt: inDays(10),
        });
        expectValidationProblem(response, ['/scopes']);
      });

      it('400 for an expiresAt in the past, naming /expiresAt', async () => {
        const response = await updateConsent(team, {
          connectionId,
          scopes: ['accounts'],
          expiresAt: inDays(-1),
        });
        expectValidationProblem(response, ['/expiresAt']);
      });

      it.each([
        ['an impossible date', '2027-02-30T00:00:00.000Z'],
        ['a word', 'tomorrow'],
        ['a number', 1_900_000_000_000],
        ['an empty string', ''],
      ])('400 for an expiresAt that is %s, naming /expiresAt', async (_label, expiresAt) => {
        const response = await updateConsent(team, { connectionId, scopes: ['accounts'], expiresAt });
        expectValidationProblem(response, ['/expiresAt']);
      });

      it('400 for a blank new consentId, naming /consentId', async () => {
        const response = await updateConsent(team, {
          connectionId,
          scopes: ['accounts'],
          expiresAt: inDays(10),
          consentId: ' ',
        });
        expectValidationProblem(response, ['/consentId']);
      });

      it('400 for missing fields, naming each of them', async () => {
        const response = await updateConsent(team, {});
        expectValidationProblem(response, ['/connectionId', '/scopes', '/expiresAt']);
      });

      it('none of the rejected updates changed the consents', async () => {
        const [listed] = await listConnections(t, team);
        expect(listed?.status).toBe('ACTIVE');
        expect(listed?.consents).toEqual(consentsBefore);
      });
    });

    it('404 for an unknown connection', async () => {
      const team = await t.createTeam();
      const response = await updateConsent(team, {
        connectionId: 'conn_unknown',
        scopes: ['accounts'],
        expiresAt: inDays(10),
      });
      expectProblem(response, 404);
    });

    it("404 for another team's connection, whose consent stays unchanged", async () => {
      const owner = await t.createTeam('owner');
      const other = await t.createTeam('other');
      const connection = await connectSandbox(t.as(owner), owner);
      const before = (await listConnections(t, owner))[0]?.consents;
      const response = await updateConsent(other, {
        connectionId: connection.id,
        scopes: ['accounts'],
        expiresAt: inDays(10),
      });
      expectProblem(response, 404);
      expect((await listConnections(t, owner))[0]?.consents).toEqual(before);
    });

    it('409 on a DISCONNECTED connection, and its consents stay as they were', async () => {
      const team = await t.createTeam();
      const connection = await connectSandbox(t.as(team), team);
      const disconnected = await t
        .as(team)
        .post('/api/banking/disconnect', { teamId: team.teamId, connectionId: connection.id });
      expect(disconnected.statusCode).toBe(200);
      const before = (await listConnections(t, team))[0];
      const response = await updateConsent(team, {
        connectionId: connection.id,
        scopes: ['accounts'],
        expiresAt: inDays(10),
      });
      expectProblem(response, 409);
      expect((await listConnections(t, team))[0]).toEqual(before);
    });
  });

  describe('scope rules of sync', () => {
    const details = async (team: Team, accountId: string) => {
      const response = await t.as(team).get(`/api/banking/accounts/${accountId}`, { teamId: team.teamId });
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as AccountDetailsBody;
    };

    /** A fresh connection whose consent is replaced by `scopes` before any sync. */
    const freshWithScopes = async (team: Team, scopes: string[]) => {
      const connection = await connectSandbox(t.as(team), team, {
        metadata: { sandbox: { transactionsPerAccount: 15, days: 10 } },
      });
      tick(t);
      const response = await updateConsent(team, {
        connectionId: connection.id,
        scopes,
        expiresAt: inDays(30),
      });
      expect(response.statusCode, response.body).toBe(200);
      return connection.id;
    };

    it("with only 'accounts', a sync imports accounts, no transactions, and balances stay 0", async () => {
      const team = await t.createTeam();
      const connectionId = await freshWithScopes(team, ['accounts']);
      await syncConnection(t, team, connectionId);
      const accounts = await listAccounts(t, team, connectionId);
      expect(accounts).toHaveLength(3);
      expect(accounts.map((a) => a.type).sort()).toEqual(['CHECKING', 'CREDIT', 'SAVINGS']);
      for (const account of accounts) {
        expect(account.balance).toBe(0);
        const detail = await details(team, account.id);
        expect(detail.transactionCount).toBe(0);
        expect(detail.recentTransactions).toEqual([]);
      }
      expect(await listAllTransactions(t, team, { connectionId })).toEqual([]);
    });

    it("with 'accounts' and 'transactions' but no 'balances', transactions are imported and balances stay 0", async () => {
      const team = await t.createTeam();
      const connectionId = await freshWithScopes(team, ['accounts', 'transactions']);
      await syncConnection(t, team, connectionId);
      const accounts = await listAccounts(t, team, connectionId);
      expect(accounts).toHaveLength(3);
      for (const account of accounts) expect(account.balance).toBe(0);
      expect((await listAllTransactions(t, team, { connectionId })).length).toBeGreaterThanOrEqual(45);
    });

    it("with 'accounts' and 'balances' but no 'transactions', balances are synced and no transactions fetched", async () => {
      const team = await t.createTeam();
      const connectionId = await freshWithScopes(team, ['accounts', 'balances']);
      await syncConnection(t, team, connectionId);
      const accounts = await listAccounts(t, team, connectionId);
      expect(accounts).toHaveLength(3);
      expect(accounts.some((a) => a.balance !== 0)).toBe(true);
      expect(await listAllTransactions(t, team, { connectionId })).toEqual([]);
    });

    it('after the consent is widened to all three scopes, the next sync imports transactions and balances', async () => {
      const team = await t.createTeam();
      const connectionId = await freshWithScopes(team, ['accounts']);
      await syncConnection(t, team, connectionId);
      const before = await listAccounts(t, team, connectionId);
      tick(t);
      const widened = await updateConsent(team, {
        connectionId,
        scopes: ['accounts', 'balances', 'transactions'],
        expiresAt: inDays(30),
      });
      expect(widened.statusCode, widened.body).toBe(200);
      await syncConnection(t, team, connectionId);
      const after = await listAccounts(t, team, connectionId);
      expect(after.map((a) => a.id).sort()).toEqual(before.map((a) => a.id).sort());
      expect(after.some((a) => a.balance !== 0)).toBe(true);
      const transactions = await listAllTransactions(t, team, { connectionId });
      expect(transactions.length).toBeGreaterThanOrEqual(45);
      for (const account of after) {
        const count = transactions.filter((x) => x.accountId === account.id).length;
        expect((await details(team, account.id)).transactionCount).toBe(count);
      }
    });
  });
});
