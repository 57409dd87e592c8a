/**
 * Tenant isolation, generated from the route table: every team operation of the OpenAPI
 * document is called with team A's key and team B's ids (B's teamId; A's teamId with each of B's
 * object ids in each place an id goes) and must answer 403 or 404 problem+json carrying nothing
 * of B's, exactly like an id that does not exist. Admin operations take the admin token, so team
 * A's key gets 401 on every one. B's rows are compared before and after the whole matrix.
 *
 * A parameter the matrix does not know (a new route, a new field) fails the test with its name:
 * say in FIELDS or COLLECTIONS below whether it is an id, and of what, or how to fill it.
 */
import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, connectSandbox, startTestApp, type Team } from '../support/app.js';
import { type DatabaseDump, dumpDatabase, expectSameDump } from '../support/dump.js';
import {
  type AccountDetailsBody,
  expectProblem,
  listAccounts,
  listAllTransactions,
  listConnections,
  short,
  syncConnection,
} from '../support/fixtures.js';
import {
  fillPath,
  isAdminOperation,
  isTeamOperation,
  listOperations,
  type Operation,
} from '../support/operations.js';
import { bearer, issueKey, send, unknownId } from '../support/security.js';

type IdKind = 'team' | 'connection' | 'consent' | 'account' | 'transaction' | 'webhook' | 'key';

/** Each kind of id the API exposes, as one team has them. */
type Ids = Record<IdKind, string[]>;

/** Body and query fields that carry an id of this team's, by name. */
const ID_FIELDS: Record<string, IdKind> = {
  teamId: 'team',
  connectionId: 'connection',
  accountId: 'account',
  keyId: 'key',
};

/** A path parameter `{id}` is an id of what the segment before it lists (`/webhooks/{id}`). */
const COLLECTIONS: Record<string, IdKind> = {
  teams: 'team',
  connections: 'connection',
  consents: 'consent',
  accounts: 'account',
  transactions: 'transaction',
  webhooks: 'webhook',
  keys: 'key',
};

let consentCounter = 0;
/**
 * Fields that are not ids of ours: a value that makes the request valid, or `undefined` for an
 * optional field the matrix leaves out. `consentId` names a consent given at the bank, which a
 * connect or re-consent claims for the caller's own team: another team's consentId is not B's
 * object (a connect with it is A's own, independent connection; test/api/security.db.test.ts).
 */
const FIELDS: Record<string, (() => unknown) | undefined> = {
  provider: () => 'sandbox',
  providerId: () => 'sandbox-gb',
  consentId: () => `isolation-a-consent-${++consentCounter}`,
  scopes: () => ['accounts', 'balances', 'transactions'],
  expiresAt: () => '2027-01-15',
  redirectUrl: () => 'https://app.example.com/callback',
  url: () => 'https://a.example.com/hooks',
  events: () => ['sync.completed'],
  days: () => 30,
  metadata: undefined,
  async: undefined,
  from: undefined,
  to: undefined,
  type: undefined,
  category: undefined,
  limit: undefined,
  cursor: undefined,
  country: undefined,
  q: undefined,
};

type Location = 'path' | 'query' | 'body';
interface Slot {
  location: Location;
  name: string;
  required: boolean;
  /** The kind of id it takes, or how to fill it when it takes none. */
  kind?: IdKind;
  fill?: () => unknown;
}

/** Every parameter and body field of the operation, classified; unknown ones are reported. */
function slotsOf(operation: Operation): { slots: Slot[]; unknown: string[] } {
  const slots: Slot[] = [];
  const unknown: string[] = [];
  const classify = (location: Location, name: string, required: boolean) => {
    let kind: IdKind | undefined = ID_FIELDS[name];
    if (location === 'path' && !kind) {
      const segments = operation.path.split('/');
      const before = segments[segments.indexOf(`{${name}}`) - 1] ?? '';
      kind = COLLECTIONS[before];
    }
    if (kind) slots.push({ location, name, required, kind });
    else if (location !== 'path' && name in FIELDS) {
      const fill = FIELDS[name];
      if (fill) slots.push({ location, name, required, fill });
      else if (required) unknown.push(`${location} ${name} (required, but the matrix leaves it out)`);
    } else unknown.push(`${location} ${name}`);
  };
  for (const p of operation.pathParams) classify('path', p.name, true);
  for (const p of operation.queryParams) classify('query', p.name, p.required);
  for (const [name] of Object.entries(operation.body?.properties ?? {})) {
    classify('body', name, operation.body?.required.includes(name) ?? false);
  }
  return { slots, unknown };
}

/** One request of the matrix: whose id goes into each id slot. */
function request(
  operation: Operation,
  slots: Slot[],
  idOf: (slot: Slot) => string,
  apiKey: string,
  also: { query?: Record<string, string>; body?: Record<string, unknown> } = {},
) {
  const path: Record<string, string> = {};
  const query: Record<string, string> = { ...also.query };
  const body: Record<string, unknown> = { ...also.body };
  for (const slot of slots) {
    const value = slot.kind ? idOf(slot) : slot.fill?.();
    if (slot.location === 'path') path[slot.name] = String(value);
    else if (slot.location === 'query') query[slot.name] = String(value);
    else body[slot.name] = value;
  }
  return send(t, {
    method: operation.method,
    url: fillPath(operation, path),
    authorization: bearer(apiKey),
    query,
    ...(operation.body || also.body ? { body } : {}),
  });
}

// ---------------------------------------------------------------------------------------------

const t = await startTestApp({ env: { ENCRYPTION_KEY: randomBytes(32).toString('base64') } });
// Delivery attempts in the background would change the webhook tables under the dumps.
await t.app.webhooks.stop();
const operations = listOperations(t.app);
const teamOperations = operations.filter((o) => isTeamOperation(o) && !isAdminOperation(o));
const adminOperations = operations.filter(isAdminOperation);

interface Fixture {
  team: Team;
  name: string;
  ids: Ids;
  /** Strings only this team's data contain: names, account numbers, IBANs, descriptions, urls. */
  secrets: string[];
}

/** A team with a synced connection, a webhook endpoint with a delivery, and a second key. */
async function setUpTeam(label: string, providerId: string): Promise<Fixture> {
  const name = `Isolation team ${label} ${randomBytes(4).toString('hex')}`;
  const team = await t.createTeam(name);
  const client = t.as(team);
  const hookUrl = `https://${label.toLowerCase()}-${randomBytes(4).toString('hex')}.example.com/hooks`;
  const webhook = await client.post('/api/banking/webhooks', { teamId: team.teamId, url: hookUrl });
  expect(webhook.statusCode, webhook.body).toBe(201);
  const { id: webhookId, secret } = webhook.json() as { id: string; secret: string };
  const connection = await connectSandbox(client, team, { consentId: `isolation-${label}`, providerId });
  await syncConnection(t, team, connection.id);
  const second = await issueKey(t, team.teamId, ADMIN_TOKEN);
  const accounts = await listAccounts(t, team);
  const transactions = await listAllTransactions(t, team);
  const connections = await listConnections(t, team);
  const details = await Promise.all(
    accounts.map(async (account) => {
      const response = await client.get(`/api/banking/accounts/${account.id}`, { teamId: team.teamId });
      return response.json() as AccountDetailsBody;
    }),
  );
  expect(transactions.length).toBeGreaterThan(0);
  const ids: Ids = {
    team: [team.teamId],
    connection: connections.map((c) => c.id),
    consent: connections.flatMap((c) => c.consents.map((consent) => consent.id)),
    account: accounts.map((a) => a.id),
    transaction: transactions.map((x) => x.id),
    webhook: [webhookId],
    key: [team.keyId, second.keyId],
  };
  const secrets = [
    name,
    hookUrl,
    secret,
    ...Object.values(ids).flat(),
    ...details.flatMap((a) => [a.accountName, a.accountNumber ?? '', a.sortCode ?? '']),
    ...transactions.map((x) => x.description),
  ];
  return { team, name, ids, secrets };
}

describe("tenant isolation: team A's key on every team operation with team B's ids", () => {
  let a: Fixture;
  let b: Fixture;
  /** B's strings that A's data do not contain too, long enough not to match by chance. */
  let onlyB: string[];
  let beforeB: DatabaseDump;

  beforeAll(async () => {
    a = await setUpTeam('A', 'sandbox-gb');
    // B banks in the euro area: its accounts carry IBANs.
    b = await setUpTeam('B', 'sandbox-eu');
    const ofA = new Set(a.secrets);
    onlyB = [...new Set(b.secrets)].filter((s) => s.length >= 6 && !ofA.has(s));
    beforeB = await dumpDatabase(t.database, { teamId: b.team.teamId });
    expect(beforeB.transactions?.length ?? 0).toBeGreaterThan(0);
  });
  afterAll(() => t.close());

  function expectNothingOfB(response: LightMyRequestResponse, what: string) {
    const text = `${JSON.stringify(response.headers)}\n${response.body}`;
    const leaked = onlyB.filter((secret) => text.includes(secret));
    expect(leaked, `${what} answered ${response.statusCode} with B's data: ${short(response.body)}`).toEqual(
      [],
    );
  }

  it('every operation of the document is a team, an admin or a public operation', () => {
    const unclassified = operations.filter(
      (o) =>
        !teamOperations.includes(o) &&
        !adminOperations.includes(o) &&
        !(o.security.length === 0 && o.tags.includes('operations')),
    );
    expect(unclassified.map((o) => o.name)).toEqual([]);
    expect(teamOperations.length).toBeGreaterThanOrEqual(14);
    expect(adminOperations.length).toBeGreaterThanOrEqual(3);
  });

  for (const operation of teamOperations) {
    it(`${operation.name} with team A's key and any of team B's ids answers 403 or 404 with nothing of B's`, async () => {
      const { slots, unknown } = slotsOf(operation);
      expect(
        unknown,
        `${operation.name} has parameters the isolation matrix does not know how to fill: ` +
          'classify them in ID_FIELDS, COLLECTIONS or FIELDS of test/api/isolation.db.test.ts',
      ).toEqual([]);
      const idSlots = slots.filter((slot) => slot.kind);
      expect(idSlots.length, `${operation.name} takes no id at all, not even teamId`).toBeGreaterThan(0);
      const takesTeam = idSlots.some((slot) => slot.kind === 'team');
      const first = (fixture: Fixture, kind: IdKind) => {
        const id = fixture.ids[kind][0];
        if (!id) throw new Error(`team has no ${kind} id`);
        return id;
      };
      const variants: {
        label: string;
        idOf: (slot: Slot) => string;
        status: number;
        unknown?: (slot: Slot) => string;
        /** A teamId named in the other place a request can carry one. */
        also?: Parameters<typeof request>[4];
      }[] = [];

      if (takesTeam) {
        variants.push({
          label: "B's teamId",
          idOf: (s) => (s.kind === 'team' ? b.team.teamId : first(a, s.kind as IdKind)),
          status: 403,
        });
        variants.push({
          label: "B's teamId and all B's ids",
          idOf: (s) => first(b, s.kind as IdKind),
          status: 403,
        });
        // A team named in the query must not be overruled by one in a JSON body, nor the other
        // way round (GET bodies are never read).
        const teamSlot = idSlots.find((slot) => slot.kind === 'team');
        const other = teamSlot?.location === 'query' ? 'body' : 'query';
        if (teamSlot?.location !== 'path' && !(other === 'body' && operation.method === 'GET')) {
          for (const [here, there] of [
            [b, a],
            [a, b],
          ] as const) {
            variants.push({
              label: `${here === a ? 'A' : 'B'}'s teamId, and ${there === a ? 'A' : 'B'}'s as ${other} teamId`,
              idOf: (s) => (s.kind === 'team' ? here.team.teamId : first(a, s.kind as IdKind)),
              status: 403,
              also: { [other]: { teamId: there.team.teamId } },
            });
          }
        }
      }
      for (const slot of idSlots.filter((s) => s.kind !== 'team')) {
        const kind = slot.kind as IdKind;
        for (const id of b.ids[kind].slice(0, 10)) {
          variants.push({
            label: `A's teamId, B's ${kind} ${id} as ${slot.location} ${slot.name}`,
            idOf: (s) => (s === slot ? id : first(a, s.kind as IdKind)),
            status: 404,
            unknown: (s) => (s === slot ? unknownId(id.split('_')[0] ?? 'x') : first(a, s.kind as IdKind)),
          });
        }
      }
      if (idSlots.filter((s) => s.kind !== 'team').length > 1) {
        variants.push({
          label: "A's teamId, all B's other ids",
          idOf: (s) => (s.kind === 'team' ? a.team.teamId : first(b, s.kind as IdKind)),
          status: 404,
        });
      }
      expect(variants.length).toBeGreaterThan(0);

      for (const variant of variants) {
        const what = `${operation.name} with ${variant.label}`;
        const response = await request(operation, slots, variant.idOf, a.team.apiKey, variant.also);
        expect([403, 404], `${what}: ${response.statusCode} ${short(response.body)}`).toContain(
          response.statusCode,
        );
        const problem = expectProblem(response, variant.status);
        expectNothingOfB(response, what);
        if (variant.unknown) {
          // Another team's id is answered exactly like an id that exists nowhere.
          const missing = await request(operation, slots, variant.unknown, a.team.apiKey);
          expectProblem(missing, response.statusCode);
          expect((missing.json() as { code: string }).code, what).toBe(problem.code);
          expect((missing.json() as { detail: string }).detail, what).toBe(problem.detail);
        }
      }
    });
  }

  for (const operation of adminOperations) {
    it(`${operation.name} (admin) answers 401 to team A's key, even naming team B`, async () => {
      const path = Object.fromEntries(
        operation.pathParams.map((p) => {
          const kind = ID_FIELDS[p.name] ?? COLLECTIONS[operation.path.split('/').at(-2) ?? ''] ?? 'team';
          return [p.name, b.ids[kind][0] ?? 'x'];
        }),
      );
      for (const key of [a.team.apiKey, b.team.apiKey]) {
        const response = await send(t, {
          method: operation.method,
          url: fillPath(operation, path),
          authorization: bearer(key),
          ...(operation.body ? { body: { name: 'Admin by a team key' } } : {}),
        });
        const problem = expectProblem(response, 401);
        expect(problem.code).toBe('UNAUTHORIZED');
        expectNothingOfB(response, operation.name);
      }
    });
  }

  it('refuses a query teamId that names B in a list or an object, on a route that reads its team from the body', async () => {
    const url = (query: string) => `/api/banking/sync?${query}`;
    const payload = { teamId: a.team.teamId, connectionId: a.ids.connection[0], async: true };
    const headers = { authorization: bearer(a.team.apiKey) };
    const [A, B] = [a.team.teamId, b.team.teamId];
    for (const query of [
      `teamId=${B}&teamId=${A}`,
      `teamId=${A}&teamId=${B}`,
      `teamId[]=${B}`,
      `teamId[x]=${B}`,
    ]) {
      const response = await t.app.inject({ method: 'POST', url: url(query), headers, payload });
      expect(response.statusCode, query).toBe(403);
    }
    const own = await t.app.inject({ method: 'POST', url: url(`teamId=${A}&teamId=${A}`), headers, payload });
    expect(own.statusCode, own.body).toBe(202);
  });

  it("team A's requests, refused and accepted, changed none of team B's rows", async () => {
    expectSameDump(await dumpDatabase(t.database, { teamId: b.team.teamId }), beforeB, "team B's rows");
  });

  it("the matrix's requests are otherwise valid: with team A's own ids every one succeeds, showing nothing of B's", async () => {
    // Run after the matrix; operations that delete or disconnect go last, so the others still find A's objects.
    const destructive = (o: Operation) => o.method === 'DELETE' || o.path.endsWith('/disconnect');
    const ordered = [...teamOperations.filter((o) => !destructive(o)), ...teamOperations.filter(destructive)];
    for (const operation of ordered) {
      const { slots } = slotsOf(operation);
      const response = await request(
        operation,
        slots,
        (s) => a.ids[s.kind as IdKind][0] ?? '',
        a.team.apiKey,
      );
      const what = `${operation.name} with A's own ids`;
      expect(response.statusCode, `${what}: ${short(response.body)}`).toBeGreaterThanOrEqual(200);
      expect(response.statusCode, `${what}: ${short(response.body)}`).toBeLessThan(300);
      // A's own answers, lists included, carry nothing of B's either.
      expectNothingOfB(response, what);
    }
    expectSameDump(await dumpDatabase(t.database, { teamId: b.team.teamId }), beforeB, "team B's rows");
  });
});
