import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, connectSandbox, startTestApp, type Team, type TestApp } from '../support/app.js';
import {
  expectProblem,
  type Json,
  listAccounts,
  listAllTransactions,
  listConnections,
  syncConnection,
} from '../support/fixtures.js';
import { bearer, expectUnauthorized, issueKey, revokeKey, send, unknownId } from '../support/security.js';

/** The ids a route needs: whose team, which connection, which account. */
interface Target {
  teamId: string;
  connectionId: string;
  accountId: string;
  consentId: string;
}

interface Route {
  name: string;
  method: 'GET' | 'POST';
  url: (target: Target) => string;
  query?: (target: Target) => Record<string, string>;
  body?: (target: Target) => unknown;
  /** The route takes a connection or account id, so another team's id must be a 404. */
  takesId: boolean;
}

const FUTURE = '2027-01-15T00:00:00.000Z';

/** Every banking route, and the id-taking variants of the list routes. */
const ROUTES: Route[] = [
  {
    name: 'GET /api/banking/connections',
    method: 'GET',
    url: () => '/api/banking/connections',
    query: (x) => ({ teamId: x.teamId }),
    takesId: false,
  },
  {
    name: 'POST /api/banking/connect',
    method: 'POST',
    url: () => '/api/banking/connect',
    body: (x) => ({
      teamId: x.teamId,
      provider: 'sandbox',
      providerId: 'sandbox-gb',
      consentId: x.consentId,
    }),
    takesId: false,
  },
  {
    name: 'POST /api/banking/disconnect',
    method: 'POST',
    url: () => '/api/banking/disconnect',
    body: (x) => ({ teamId: x.teamId, connectionId: x.connectionId }),
    takesId: true,
  },
  {
    name: 'POST /api/banking/consent',
    method: 'POST',
    url: () => '/api/banking/consent',
    body: (x) => ({
      teamId: x.teamId,
      connectionId: x.connectionId,
      scopes: ['accounts', 'transactions'],
      expiresAt: FUTURE,
    }),
    takesId: true,
  },
  {
    name: 'POST /api/banking/sync',
    method: 'POST',
    url: () => '/api/banking/sync',
    body: (x) => ({ teamId: x.teamId, connectionId: x.connectionId }),
    takesId: true,
  },
  {
    name: 'GET /api/banking/accounts',
    method: 'GET',
    url: () => '/api/banking/accounts',
    query: (x) => ({ teamId: x.teamId }),
    takesId: false,
  },
  {
    name: 'GET /api/banking/accounts?connectionId',
    method: 'GET',
    url: () => '/api/banking/accounts',
    query: (x) => ({ teamId: x.teamId, connectionId: x.connectionId }),
    takesId: true,
  },
  {
    name: 'GET /api/banking/accounts/:id',
    method: 'GET',
    url: (x) => `/api/banking/accounts/${encodeURIComponent(x.accountId)}`,
    query: (x) => ({ teamId: x.teamId }),
    takesId: true,
  },
  {
    name: 'GET /api/banking/transactions',
    method: 'GET',
    url: () => '/api/banking/transactions',
    query: (x) => ({ teamId: x.teamId }),
    takesId: false,
  },
  {
    name: 'GET /api/banking/transactions?accountId',
    method: 'GET',
    url: () => '/api/banking/transactions',
    query: (x) => ({ teamId: x.teamId, accountId: x.accountId }),
    takesId: true,
  },
  {
    name: 'GET /api/banking/transactions?connectionId',
    method: 'GET',
    url: () => '/api/banking/transactions',
    query: (x) => ({ teamId: x.teamId, connectionId: x.connectionId }),
    takesId: true,
  },
];

const ID_ROUTES = ROUTES.filter((route) => route.takesId);

function call(t: TestApp, route: Route, target: Target, authorization: string | undefined) {
  return send(t, {
    method: route.method,
    url: route.url(target),
    authorization,
    ...(route.query ? { query: route.query(target) } : {}),
    ...(route.body ? { body: route.body(target) } : {}),
  });
}

/** Everything a team can see of itself through the API. */
async function snapshot(t: TestApp, team: Team) {
  return {
    connections: await listConnections(t, team),
    accounts: await listAccounts(t, team),
    transactions: await listAllTransactions(t, team),
  };
}

describe('security: authentication, team scoping and tenant isolation of every banking route', () => {
  let t: TestApp;
  let teamA: Team;
  let teamB: Team;
  let targetA: Target;
  let targetB: Target;
  let revokedKeyOfA: string;
  let beforeA: Awaited<ReturnType<typeof snapshot>>;
  let beforeB: Awaited<ReturnType<typeof snapshot>>;

  beforeAll(async () => {
    t = await startTestApp();
    teamA = await t.createTeam('Team A');
    teamB = await t.createTeam('Team B');
    const connA = await connectSandbox(t.as(teamA), teamA, { consentId: 'security-consent-a' });
    const connB = await connectSandbox(t.as(teamB), teamB, { consentId: 'security-consent-b' });
    await syncConnection(t, teamA, connA.id);
    await syncConnection(t, teamB, connB.id);
    const accountA = (await listAccounts(t, teamA))[0];
    const accountB = (await listAccounts(t, teamB))[0];
    if (!accountA || !accountB) throw new Error('sync imported no account');
    targetA = {
      teamId: teamA.teamId,
      connectionId: connA.id,
      accountId: String(accountA.id),
      consentId: 'security-new-consent',
    };
    targetB = {
      teamId: teamB.teamId,
      connectionId: connB.id,
      accountId: String(accountB.id),
      consentId: 'security-new-consent',
    };
    const revoked = await issueKey(t, teamA.teamId, ADMIN_TOKEN);
    const revocation = await revokeKey(t, teamA.teamId, revoked.keyId, ADMIN_TOKEN);
    expect(revocation.statusCode).toBe(204);
    revokedKeyOfA = revoked.apiKey;
    beforeA = await snapshot(t, teamA);
    beforeB = await snapshot(t, teamB);
    expect(beforeA.transactions.length).toBeGreaterThan(0);
    expect(beforeB.transactions.length).toBeGreaterThan(0);
  });
  afterAll(() => t.close());

  describe('401 without valid credentials', () => {
    const credentials: [string, () => string | undefined][] = [
      ['no Authorization header', () => undefined],
      ['an empty Authorization header', () => ''],
      ['a Basic scheme', () => `Basic ${Buffer.from(`${teamA.teamId}:x`).toString('base64')}`],
      ['a Bearer scheme with no token', () => 'Bearer '],
      ['a malformed token', () => bearer('not-an-api-key')],
      ['a well-formed unknown key', () => bearer(`obk_${'0'.repeat(16)}${'A'.repeat(43)}`)],
      ['a known key id with a wrong secret', () => bearer(`obk_${teamA.keyId}${'A'.repeat(43)}`)],
      ['a valid key with a character appended', () => bearer(`${teamA.apiKey}x`)],
      ['the admin token', () => bearer(ADMIN_TOKEN)],
      ['a revoked key', () => bearer(revokedKeyOfA)],
    ];
    for (const route of ROUTES) {
      it.each(credentials)(
        `${route.name} with %s answers 401 problem+json with WWW-Authenticate`,
        async (_, auth) => {
          expectUnauthorized(await call(t, route, targetA, auth()));
        },
      );
    }

    it('rejected requests wrote nothing: the team sees exactly what it saw before', async () => {
      expect(await snapshot(t, teamA)).toEqual(beforeA);
    });
  });

  describe("403 for a key used with another team's teamId", () => {
    for (const route of ROUTES) {
      it(`${route.name} with team A's key and team B's teamId and ids answers 403`, async () => {
        expectProblem(await call(t, route, targetB, bearer(teamA.apiKey)), 403);
      });
      it(`${route.name} with team A's key, team B's teamId and team A's ids answers 403`, async () => {
        expectProblem(await call(t, route, { ...targetA, teamId: teamB.teamId }, bearer(teamA.apiKey)), 403);
      });
    }

    it("forbidden requests changed nothing of team B's", async () => {
      expect(await snapshot(t, teamB)).toEqual(beforeB);
    });
  });

  describe("404 for another team's ids, never revealing they exist", () => {
    for (const route of ID_ROUTES) {
      it(`${route.name} with team A's key and teamId but team B's ids answers 404`, async () => {
        const target = { ...targetA, connectionId: targetB.connectionId, accountId: targetB.accountId };
        const foreign = await call(t, route, target, bearer(teamA.apiKey));
        expectProblem(foreign, 404);
        // The same answer as for an id that does not exist at all.
        const missing = await call(
          t,
          route,
          { ...targetA, connectionId: unknownId('conn'), accountId: unknownId('acct') },
          bearer(teamA.apiKey),
        );
        expectProblem(missing, 404);
        expect((foreign.json() as Json).code).toBe((missing.json() as Json).code);
      });
    }

    it("a team's lists never contain another team's connections, accounts or transactions", async () => {
      const a = await snapshot(t, teamA);
      const b = await snapshot(t, teamB);
      const connectionsOfA = new Set(a.connections.map((c) => c.id));
      const accountsOfA = new Set(a.accounts.map((account) => account.id));
      expect(a.connections.every((c) => c.teamId === teamA.teamId)).toBe(true);
      expect(a.accounts.every((account) => connectionsOfA.has(account.connectionId))).toBe(true);
      expect(a.transactions.every((txn) => accountsOfA.has(txn.accountId))).toBe(true);

      const idsOfB = new Set([
        ...b.connections.map((c) => c.id),
        ...b.accounts.map((account) => account.id),
        ...b.transactions.map((txn) => txn.id),
      ]);
      const idsOfA = [
        ...a.connections.map((c) => c.id),
        ...a.accounts.map((account) => account.id),
        ...a.transactions.map((txn) => txn.id),
      ];
      expect(idsOfA.filter((id) => idsOfB.has(id))).toEqual([]);
      expect(JSON.stringify(a)).not.toContain(targetB.connectionId);
      expect(JSON.stringify(a)).not.toContain(targetB.accountId);
    });

    it("requests on team B's ids by team A changed nothing of team B's", async () => {
      expect(await snapshot(t, teamB)).toEqual(beforeB);
    });

    it("connecting the consentId another team has connected is that team's own, independent connection", async () => {
      const connection = await connectSandbox(t.as(teamA), teamA, { consentId: 'security-consent-b' });
      expect(connection.id).not.toBe(targetB.connectionId);
      const connections = await listConnections(t, teamA);
      expect(connections.map((c) => c.id)).toContain(connection.id);
      expect(await snapshot(t, teamB)).toEqual(beforeB);
    });
  });

  describe('a second key of the same team', () => {
    it('works on every banking route, alongside the first key', async () => {
      const second = await issueKey(t, teamA.teamId, ADMIN_TOKEN);
      expect(second.apiKey).not.toBe(teamA.apiKey);
      expect(second.keyId).not.toBe(teamA.keyId);
      const key = bearer(second.apiKey);
      const fresh: Target = { ...targetA, consentId: 'security-second-key-consent' };

      const connect = await call(t, ROUTES[1] as Route, fresh, key);
      expect(connect.statusCode, connect.body).toBe(201);
      const connectionId = (connect.json() as Json).id as string;
      const sync = await send(t, {
        method: 'POST',
        url: '/api/banking/sync',
        authorization: key,
        body: { teamId: teamA.teamId, connectionId },
      });
      expect(sync.statusCode, sync.body).toBe(200);
      const accounts = await send(t, {
        method: 'GET',
        url: '/api/banking/accounts',
        authorization: key,
        query: { teamId: teamA.teamId, connectionId },
      });
      expect(accounts.statusCode, accounts.body).toBe(200);
      const accountId = ((accounts.json() as Json[])[0]?.id as string) ?? '';
      const target: Target = {
        ...fresh,
        connectionId,
        accountId,
        consentId: 'security-second-key-consent-2',
      };

      // Every route, in an order that keeps the connection usable until it is disconnected.
      const order = [
        'GET /api/banking/connections',
        'GET /api/banking/accounts',
        'GET /api/banking/accounts?connectionId',
        'GET /api/banking/accounts/:id',
        'GET /api/banking/transactions',
        'GET /api/banking/transactions?accountId',
        'GET /api/banking/transactions?connectionId',
        'POST /api/banking/sync',
        'POST /api/banking/consent',
        'POST /api/banking/connect',
        'POST /api/banking/disconnect',
      ];
      expect([...order].sort()).toEqual(ROUTES.map((route) => route.name).sort());
      for (const name of order) {
        const route = ROUTES.find((r) => r.name === name) as Route;
        const response = await call(t, route, target, key);
        expect(response.statusCode, `${name}: ${response.body}`).toBe(
          name === 'POST /api/banking/connect' ? 201 : 200,
        );
        const first = await call(
          t,
          route,
          { ...target, consentId: `${target.consentId}-first-key` },
          bearer(teamA.apiKey),
        );
        expect(first.statusCode, `${name} with the first key: ${first.body}`).toBeLessThan(300);
      }
    });

    it('revoking one key of a team leaves its other key working', async () => {
      const second = await issueKey(t, teamA.teamId, ADMIN_TOKEN);
      const list = {
        method: 'GET' as const,
        url: '/api/banking/connections',
        query: { teamId: teamA.teamId },
      };
      expect((await send(t, { ...list, authorization: bearer(second.apiKey) })).statusCode).toBe(200);
      expect((await revokeKey(t, teamA.teamId, second.keyId, ADMIN_TOKEN)).statusCode).toBe(204);
      expectUnauthorized(await send(t, { ...list, authorization: bearer(second.apiKey) }));
      expect((await send(t, { ...list, authorization: bearer(teamA.apiKey) })).statusCode).toBe(200);
    });
  });
});
