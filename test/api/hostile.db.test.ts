import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, connectSandbox, startTestApp, type Team, type TestApp } from '../support/app.js';
import {
  type AccountBody,
  type ConnectionBody,
  expectNoStackTrace,
  expectProblem,
  expectValidationProblem,
  type Json,
  listAccounts,
  listAllTransactions,
  listConnections,
  short,
  syncConnection,
  type TransactionBody,
} from '../support/fixtures.js';
import { createOpenApiChecker } from '../support/openapi.js';
import { bearer, type RawRequest, send } from '../support/security.js';

const POST_ROUTES = [
  '/api/banking/connect',
  '/api/banking/disconnect',
  '/api/banking/consent',
  '/api/banking/sync',
];
const FUTURE = '2027-01-15T00:00:00.000Z';
const MiB = 1024 * 1024;

const SQL_INJECTIONS = [
  "' OR 1=1 --",
  "'; DROP TABLE accounts; --",
  '" OR ""="',
  "%' OR '1'='1",
  '1 UNION SELECT id, key_hash FROM api_keys --',
  '$1',
];

const WEIRD_STRINGS = [
  'x'.repeat(100_000),
  '💳💸 ünïcødé 中文 עברית',
  'conn_\u0000nul',
  '\ud800 lone surrogate',
  '../../etc/passwd',
  ['$', '{jndi:ldap://x}'].join(''),
  '<script>alert(1)</script>',
  ' ',
];

/** An error response of any 4xx status, as problem+json. */
function expectClientError(response: LightMyRequestResponse, allowed?: number[]) {
  expect(response.statusCode, short(response.body)).toBeGreaterThanOrEqual(400);
  expect(response.statusCode, short(response.body)).toBeLessThan(500);
  if (allowed)
    expect(allowed, `status ${response.statusCode}: ${short(response.body)}`).toContain(response.statusCode);
  return expectProblem(response, response.statusCode);
}

describe('hostile input: every bad request is a 4xx problem+json, never a 500, and writes nothing', () => {
  let t: TestApp;
  /** A team whose every attempt to connect fails: its connection list must stay empty. */
  let empty: Team;
  /** A team with one synced connection, the target of id probes. */
  let team: Team;
  let connectionId: string;
  let accountId: string;
  let before: { connections: ConnectionBody[]; accounts: AccountBody[]; transactions: TransactionBody[] };
  /** Every request of this file with its answer. */
  const exchanges: { request: RawRequest; response: LightMyRequestResponse }[] = [];
  const responses = () => exchanges.map((exchange) => exchange.response);
  /** Connections of `empty` that a hostile-looking but acceptable consentId created. */
  const connectedByEmpty: string[] = [];

  const hit = async (request: RawRequest) => {
    const response = await send(t, request);
    exchanges.push({ request, response });
    return response;
  };
  const post = (url: string, body: unknown, headers: Record<string, string> = {}, who: Team = team) =>
    hit({ method: 'POST', url, authorization: bearer(who.apiKey), body, headers });
  const get = (url: string, query: Record<string, string> = {}, who: Team = team) =>
    hit({ method: 'GET', url, authorization: bearer(who.apiKey), query: { teamId: who.teamId, ...query } });
  /** A JSON body sent as is, byte for byte. */
  const postRaw = (
    url: string,
    payload: string | Buffer,
    who: Team = team,
    contentType = 'application/json',
  ) =>
    hit({
      method: 'POST',
      url,
      authorization: bearer(who.apiKey),
      body: payload,
      headers: { 'content-type': contentType },
    });
  const validBody = (url: string, who: Team = team): Json => {
    switch (url) {
      case '/api/banking/connect':
        return {
          teamId: who.teamId,
          provider: 'sandbox',
          providerId: 'sandbox-gb',
          consentId: 'hostile-valid',
        };
      case '/api/banking/consent':
        return { teamId: who.teamId, connectionId, scopes: ['accounts'], expiresAt: FUTURE };
      default:
        return { teamId: who.teamId, connectionId };
    }
  };
  const snapshot = async () => ({
    connections: await listConnections(t, team),
    accounts: await listAccounts(t, team),
    transactions: await listAllTransactions(t, team),
  });

  beforeAll(async () => {
    t = await startTestApp();
    empty = await t.createTeam('Empty');
    team = await t.createTeam('Target');
    connectionId = (await connectSandbox(t.as(team), team, { consentId: 'hostile-main' })).id;
    await syncConnection(t, team, connectionId);
    accountId = String((await listAccounts(t, team))[0]?.id);
    before = await snapshot();
  });
  afterAll(() => t.close());

  describe('bodies that are not a JSON object', () => {
    for (const url of POST_ROUTES) {
      it(`${url}: malformed JSON answers 400`, async () => {
        expectProblem(await postRaw(url, '{"teamId": "x", '), 400);
        expectProblem(await postRaw(url, "{'teamId': 'single quotes'}"), 400);
        expectProblem(await postRaw(url, '{"teamId": "x"} trailing'), 400);
      });

      it(`${url}: an empty body with content-type application/json answers 400 saying a body is needed`, async () => {
        expect(expectProblem(await postRaw(url, ''), 400).detail).toBe('body / must be object');
      });

      it.each([
        ['a JSON array', '[]'],
        ['an array of the valid body', null],
        ['JSON null', 'null'],
        ['a JSON string', '"teamId"'],
        ['a JSON number', '42'],
        ['JSON true', 'true'],
      ])(`${url}: %s answers 400`, async (_, payload) => {
        const body = payload ?? JSON.stringify([validBody(url)]);
        expectProblem(await postRaw(url, body), 400);
      });

      it.each([
        ['text/plain', 'text/plain'],
        ['application/xml', 'application/xml'],
        ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
        ['multipart/form-data', 'multipart/form-data; boundary=x'],
      ])(`${url}: content-type %s answers 415`, async (_, contentType) => {
        const body =
          contentType === 'application/x-www-form-urlencoded'
            ? `teamId=${team.teamId}&connectionId=${connectionId}`
            : JSON.stringify(validBody(url));
        expectProblem(await postRaw(url, body, team, contentType), 415);
      });

      it(`${url}: a body over 1 MiB answers 413`, async () => {
        const body = { ...validBody(url), metadata: { padding: 'x'.repeat(MiB + 10) } };
        expectProblem(await postRaw(url, JSON.stringify(body)), 413);
      });
    }

    it.each([
      'application/json; charset=utf-8',
      'application/json;charset="UTF-8"',
      'application/json; charset=utf8',
    ])('a JSON body with an explicit UTF-8 charset is accepted (%s)', async (contentType) => {
      const response = await postRaw(
        '/api/banking/sync',
        JSON.stringify(validBody('/api/banking/sync')),
        team,
        contentType,
      );
      expect(response.statusCode, short(response.body)).toBe(200);
    });

    it.each([
      'application/json; charset=latin1',
      'application/json; charset="utf-16"',
      'application/json;charset=iso-8859-1',
    ])('a JSON body in another charset (%s) answers 415 and writes nothing', async (contentType) => {
      const body = { ...validBody('/api/banking/connect', empty), consentId: 'charset-caf\u00e9' };
      const response = await postRaw('/api/banking/connect', JSON.stringify(body), empty, contentType);
      expect(expectProblem(response, 415).code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect((await listConnections(t, empty)).map((c) => c.id).sort()).toEqual([...connectedByEmpty].sort());
    });
  });

  it.each(['gzip', 'br', 'deflate, gzip'])(
    'a body with Content-Encoding: %s answers 415 and writes nothing',
    async (coding) => {
      const body = JSON.stringify({
        ...validBody('/api/banking/connect', empty),
        consentId: `coded-${coding}`,
      });
      const response = await hit({
        method: 'POST',
        url: '/api/banking/connect',
        authorization: bearer(empty.apiKey),
        body,
        headers: { 'content-type': 'application/json', 'content-encoding': coding },
      });
      expect(expectProblem(response, 415).detail).toMatch(/uncompressed/);
      expect((await listConnections(t, empty)).map((c) => c.id).sort()).toEqual([...connectedByEmpty].sort());
    },
  );

  describe('bytes that are not UTF-8', () => {
    it.each([
      ['a byte that never occurs in UTF-8', [0xff]],
      ['a lead byte without its continuation', [0xc3]],
      ['an overlong encoding of "/"', [0xc0, 0xaf]],
      ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ])('a JSON body holding %s answers 400 and writes nothing', async (_, bytes) => {
      // Decoded leniently, each would become U+FFFD, and two different consent ids one.
      const text = JSON.stringify({ ...validBody('/api/banking/connect', empty), consentId: 'utf8-#' });
      const [head, tail] = text.split('#') as [string, string];
      const payload = Buffer.concat([Buffer.from(head), Buffer.from(bytes), Buffer.from(tail)]);
      const response = await postRaw('/api/banking/connect', payload, empty);
      expect(expectProblem(response, 400).code).toBe('MALFORMED_REQUEST');
      expect((await listConnections(t, empty)).map((c) => c.id).sort()).toEqual([...connectedByEmpty].sort());
    });
  });

  describe('fields of the wrong type or shape', () => {
    it('connect with every field of the wrong type answers 400 naming each field', async () => {
      const response = await post(
        '/api/banking/connect',
        { teamId: 123, provider: 5, providerId: ['sandbox-gb'], consentId: { id: 'c' }, metadata: 'meta' },
        {},
        empty,
      );
      expectValidationProblem(response, ['/teamId', '/provider', '/providerId', '/consentId', '/metadata']);
    });

    it('errors found after the schema (a value, not a type) say which part of the request holds the field', async () => {
      const connect = validBody('/api/banking/connect', empty);
      const consent = validBody('/api/banking/consent');
      for (const [response, path, where] of [
        [await post('/api/banking/consent', { ...consent, expiresAt: '2020-01-01' }), '/expiresAt', 'body'],
        [await post('/api/banking/consent', { ...consent, expiresAt: '2027-02-30' }), '/expiresAt', 'body'],
        [
          await post('/api/banking/connect', { ...connect, provider: 'nope' }, {}, empty),
          '/provider',
          'body',
        ],
        [
          await post('/api/banking/connect', { ...connect, providerId: 'sandbox-xx' }, {}, empty),
          '/providerId',
          'body',
        ],
        [
          await post(
            '/api/banking/connect',
            { ...connect, metadata: { sandbox: { accounts: 0 } } },
            {},
            empty,
          ),
          '/metadata/sandbox/accounts',
          'body',
        ],
        [await get('/api/banking/transactions', { from: '2026-11-02', to: '2026-11-01' }), '/to', 'query'],
        [await get('/api/banking/transactions', { cursor: 'abc' }), '/cursor', 'query'],
        [await get('/api/banking/institutions', { provider: 'nope' }), '/provider', 'query'],
      ] as const) {
        const body = expectValidationProblem(response, [path]);
        expect(body.errors).toContainEqual(expect.objectContaining({ path, in: where }));
      }
    });

    it('connect with teamId: 123 (a number for a string) answers 400 naming /teamId, not a coerced match', async () => {
      const body = { ...validBody('/api/banking/connect', empty), teamId: 123 };
      expectValidationProblem(await post('/api/banking/connect', body, {}, empty), ['/teamId']);
    });

    it('connect with no fields answers 400 naming every required field', async () => {
      expectValidationProblem(await post('/api/banking/connect', {}, {}, empty), [
        '/teamId',
        '/provider',
        '/providerId',
        '/consentId',
      ]);
    });

    it('consent with scopes: "accounts" and other wrong types answers 400 naming each field', async () => {
      const response = await post('/api/banking/consent', {
        teamId: team.teamId,
        connectionId: 7,
        scopes: 'accounts',
        expiresAt: 12,
      });
      expectValidationProblem(response, ['/connectionId', '/scopes', '/expiresAt']);
    });

    it.each<[string, Json, string]>([
      ['an unknown scope', { scopes: ['accounts', 'payments'] }, '/scopes'],
      ['an empty scope list', { scopes: [] }, '/scopes'],
      ['an expiresAt that is not a date', { expiresAt: 'next tuesday' }, '/expiresAt'],
      ['an expiresAt in the past', { expiresAt: '2020-01-01T00:00:00.000Z' }, '/expiresAt'],
    ])('consent with %s answers 400 naming the field and changes no consent', async (_, patch, path) => {
      const body = { ...validBody('/api/banking/consent'), ...patch };
      expectValidationProblem(await post('/api/banking/consent', body), [path]);
      expect(await listConnections(t, team)).toEqual(before.connections);
    });

    it.each<[string, Record<string, string>, string]>([
      ['limit=0', { limit: '0' }, '/limit'],
      ['limit=5001', { limit: '5001' }, '/limit'],
      ['limit=abc', { limit: 'abc' }, '/limit'],
      ['from=not-a-date', { from: 'not-a-date' }, '/from'],
      ['to=2026-13-45', { to: '2026-13-45' }, '/to'],
      ['type=TRANSFER', { type: 'TRANSFER' }, '/type'],
      ['a malformed cursor', { cursor: "' OR 1=1 --" }, '/cursor'],
    ])('GET /transactions with %s answers 400 naming the parameter', async (_, query, path) => {
      expectValidationProblem(await get('/api/banking/transactions', query), [path]);
    });
  });

  describe('numbers JSON cannot carry back', () => {
    it.each(['1e400', '-1e309'])(
      'a metadata number of %s answers 400 at its pointer and writes nothing',
      async (n) => {
        const body = JSON.stringify({ ...validBody('/api/banking/connect', empty), consentId: `huge-${n}` });
        const payload = `${body.slice(0, -1)}, "metadata": {"limits": {"max": ${n}}}}`;
        expectValidationProblem(await postRaw('/api/banking/connect', payload, empty), [
          '/metadata/limits/max',
        ]);
        expect((await listConnections(t, empty)).map((c) => c.id).sort()).toEqual(
          [...connectedByEmpty].sort(),
        );
      },
    );
  });

  describe('prototype pollution', () => {
    it.each([
      [
        '__proto__ at the top',
        (body: Json) => `{"__proto__": {"teamId": "evil", "polluted": true}, ${inner(body)}}`,
      ],
      [
        'constructor.prototype at the top',
        (body: Json) => `{"constructor": {"prototype": {"polluted": true}}, ${inner(body)}}`,
      ],
      [
        '__proto__ in metadata',
        (body: Json) => `{${inner(body)}, "metadata": {"__proto__": {"polluted": true}}}`,
      ],
      [
        'constructor.prototype in metadata.sandbox',
        (body: Json) =>
          `{${inner(body)}, "metadata": {"sandbox": {"constructor": {"prototype": {"polluted": true}}}}}`,
      ],
    ])('%s answers a 400 saying so, not a 500, and pollutes nothing', async (_, build) => {
      for (const url of POST_ROUTES) {
        const response = await postRaw(url, build(validBody(url, empty)), empty);
        const problem = expectClientError(response, [400]);
        // Valid JSON, refused for its key, and the answer says so rather than "not valid JSON".
        expect(problem.detail).toMatch(/__proto__/);
      }
      expect(({} as Json).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
      expect(Object.prototype).not.toHaveProperty('teamId');
      expect(await listConnections(t, empty)).toEqual([]);
    });

    it('__proto__ and constructor in the query string are ignored or refused, never a 500', async () => {
      for (const query of [
        '__proto__=x',
        '__proto__[teamId]=evil',
        '__proto__.teamId=evil',
        'constructor[prototype][polluted]=yes',
        'constructor.prototype.polluted=yes',
        `teamId=${team.teamId}&teamId[__proto__]=x`,
      ]) {
        const response = await hit({
          method: 'GET',
          url: `/api/banking/connections?teamId=${team.teamId}&${query}`,
          authorization: bearer(team.apiKey),
        });
        expect(response.statusCode, short(response.body)).toBeLessThan(500);
        if (response.statusCode === 200) expect(response.json()).toEqual(before.connections);
        else expectClientError(response);
      }
      expect(Object.prototype).not.toHaveProperty('polluted');
    });
  });

  describe('hostile ids and strings', () => {
    for (const value of [...SQL_INJECTIONS, ...WEIRD_STRINGS]) {
      const label = JSON.stringify(
        value.length > 40 ? `${value.slice(0, 20)}... (${value.length} chars)` : value,
      );

      it(`connectionId ${label} answers 400 or 404 on every route taking it`, async () => {
        for (const url of ['/api/banking/disconnect', '/api/banking/consent', '/api/banking/sync']) {
          expectClientError(await post(url, { ...validBody(url), connectionId: value }), [400, 404]);
        }
        for (const url of ['/api/banking/accounts', '/api/banking/transactions']) {
          expectClientError(await get(url, { connectionId: value }), [400, 404]);
        }
      });

      it(`accountId ${label} answers 400 or 404 in the path and in the query`, async () => {
        // A path is bytes: a lone surrogate cannot be percent-encoded, so it goes as U+FFFD there.
        const path = `/api/banking/accounts/${encodeURIComponent(wellFormed(value))}`;
        expectClientError(await get(path), [400, 404, 414]);
        expectClientError(await get('/api/banking/transactions', { accountId: value }), [400, 404]);
      });

      it(`teamId ${label} answers 400 or 403, never data`, async () => {
        expectClientError(await get('/api/banking/connections', { teamId: value }), [400, 403]);
        expectClientError(await post('/api/banking/sync', { teamId: value, connectionId }), [400, 403]);
      });

      it(`category ${label} is a filter that matches nothing, or a 400`, async () => {
        const response = await get('/api/banking/transactions', { category: value });
        if (response.statusCode === 200) expect(response.json()).toEqual([]);
        else expectClientError(response, [400]);
      });

      it(`connect with consentId or providerId ${label} never answers a 5xx`, async () => {
        const body = validBody('/api/banking/connect', empty);
        const asConsent = await post('/api/banking/connect', { ...body, consentId: value }, {}, empty);
        expect(asConsent.statusCode, short(asConsent.body)).toBeLessThan(500);
        if (asConsent.statusCode !== 201) expectClientError(asConsent);
        else connectedByEmpty.push((asConsent.json() as Json).id as string);
        expectClientError(
          await post('/api/banking/connect', { ...body, providerId: value }, {}, empty),
          [400],
        );
        expectClientError(await post('/api/banking/connect', { ...body, provider: value }, {}, empty), [400]);
      });
    }

    it('a malformed percent-encoding in the path answers 400 problem+json', async () => {
      const url = `/api/banking/accounts/%E0%A4%A?teamId=${team.teamId}`;
      expectProblem(await hit({ method: 'GET', url, authorization: bearer(team.apiKey) }), 400);
    });

    it('a malformed percent-encoding in the query answers 400 naming the parameter, as in the path', async () => {
      for (const category of ['%ff', '%E0%A4%A', '100%']) {
        const url = `/api/banking/transactions?teamId=${team.teamId}&category=${category}`;
        const response = await hit({ method: 'GET', url, authorization: bearer(team.apiKey) });
        expect(expectProblem(response, 400).errors).toEqual([
          { path: '/category', in: 'query', message: 'is not valid percent-encoded UTF-8' },
        ]);
      }
    });

    it('an encoded NUL or quote in the path answers 400 or 404', async () => {
      for (const url of [
        `/api/banking/accounts/%00?teamId=${team.teamId}`,
        `/api/banking/accounts/acct_%00x?teamId=${team.teamId}`,
        `/api/banking/accounts/%25%27%20OR%201%3D1?teamId=${team.teamId}`,
      ]) {
        expectClientError(await hit({ method: 'GET', url, authorization: bearer(team.apiKey) }), [400, 404]);
      }
    });

    it('a 10 kB Authorization header answers 401', async () => {
      const response = await hit({
        method: 'GET',
        url: '/api/banking/connections',
        authorization: bearer(`obk_${'a'.repeat(10_000)}`),
        query: { teamId: team.teamId },
      });
      expectProblem(response, 401);
    });

    it("no hostile id damaged or exposed the team's data", async () => {
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('routes and parameters', () => {
    it.each<[string, RawRequest['method'], string, boolean]>([
      ['an unknown top-level path', 'GET', '/nope', false],
      ['an unknown banking path', 'GET', '/api/banking/nope', true],
      ['an unknown nested banking path', 'POST', '/api/banking/connections/extra', true],
      ['an unknown admin path', 'GET', '/api/admin/nope', false],
      ['a path traversal', 'GET', '/api/banking/../../etc/passwd', true],
    ])('%s answers 404 problem+json', async (_, method, url, withKey) => {
      const response = await hit({ method, url, authorization: withKey ? bearer(team.apiKey) : undefined });
      expectProblem(response, 404);
    });

    it.each<[RawRequest['method'], string, string]>([
      ['DELETE', '/api/banking/connections', 'GET, HEAD'],
      ['PUT', '/api/banking/connect', 'POST'],
      ['PATCH', '/api/banking/accounts', 'GET, HEAD'],
      ['GET', '/api/banking/sync', 'POST'],
      ['POST', `/api/banking/accounts/acc_1/`, 'GET, HEAD'],
    ])(
      '%s %s (a method the route does not serve) answers 405 problem+json with Allow',
      async (method, url, allow) => {
        const response = await hit({
          method,
          url: `${url}?teamId=${team.teamId}`,
          authorization: bearer(team.apiKey),
        });
        expect(expectProblem(response, 405).code).toBe('METHOD_NOT_ALLOWED');
        expect(response.headers.allow).toBe(allow);
      },
    );

    it("a route's own parameter written as a list or object (accountId[]=...) answers 400 naming it, not an unfiltered list", async () => {
      for (const [url, key] of [
        ['/api/banking/transactions', 'accountId[]'],
        ['/api/banking/transactions', 'type[0]'],
        ['/api/banking/transactions', 'from[gte]'],
        ['/api/banking/accounts', 'connectionId[]'],
      ] as const) {
        const body = expectValidationProblem(await get(url, { [key]: connectionId }), [`/${key}`]);
        expect(body.errors?.[0]).toMatchObject({ path: `/${key}`, in: 'query' });
      }
    });

    it('unknown query parameters are ignored', async () => {
      const connections = await get('/api/banking/connections', { foo: 'bar', teamIdx: 'x', 'a[b]': 'c' });
      expect(connections.statusCode, short(connections.body)).toBe(200);
      expect(connections.json()).toEqual(before.connections);
      const accounts = await get('/api/banking/accounts', { include: 'secrets', debug: 'true' });
      expect(accounts.statusCode, short(accounts.body)).toBe(200);
      expect(accounts.json()).toEqual(before.accounts);
      const transactions = await get('/api/banking/transactions', {
        limit: '5000',
        sort: 'asc',
        unknown: '1',
      });
      expect(transactions.statusCode, short(transactions.body)).toBe(200);
      expect(transactions.json()).toEqual(before.transactions);
      const account = await get(`/api/banking/accounts/${accountId}`, { verbose: '1' });
      expect(account.statusCode, short(account.body)).toBe(200);
    });
  });

  describe('failed requests write nothing', () => {
    it('a connect refused with 400 (unknown provider, institution or sandbox option) leaves the list empty', async () => {
      const base = validBody('/api/banking/connect', empty);
      const empties = await listConnections(t, empty);
      for (const patch of [
        { provider: 'no-such-bank' },
        { providerId: 'sandbox-nowhere' },
        { metadata: { sandbox: { accounts: 0 } } },
        { metadata: { sandbox: { days: 'many' } } },
        { metadata: { sandbox: 'big' } },
      ]) {
        const response = await post('/api/banking/connect', { ...base, ...patch }, {}, empty);
        expectProblem(response, 400);
      }
      expect(await listConnections(t, empty)).toEqual(empties);
    });

    it('a lone UTF-16 surrogate anywhere in a body answers 400 naming it, and writes nothing', async () => {
      const base = validBody('/api/banking/connect', empty);
      const empties = await listConnections(t, empty);
      for (const [patch, path] of [
        [{ metadata: { note: 'x\ud800' } }, '/metadata/note'],
        [{ metadata: { '\udfff': 1 } }, '/metadata/\udfff'],
        [{ metadata: { a: { b: ['ok', '\udc00\ud800'] } } }, '/metadata/a/b/1'],
        [{ consentId: 'consent-\ud83d' }, '/consentId'],
      ] as const) {
        const body = expectValidationProblem(
          await post('/api/banking/connect', { ...base, ...patch }, {}, empty),
          [path],
        );
        expect(body.errors?.[0]).toMatchObject({
          path,
          in: 'body',
          message: expect.stringMatching(/surrogate/),
        });
      }
      // A pair is one character (an emoji), not a lone surrogate.
      const paired = await post(
        '/api/banking/connect',
        { ...base, consentId: 'hostile-\ud83d\udcb3', metadata: { note: '\ud83d\udcb8' } },
        {},
        empty,
      );
      expect(paired.statusCode, short(paired.body)).toBe(201);
      connectedByEmpty.push((paired.json() as Json).id as string);
      expect((await listConnections(t, empty)).length).toBe(empties.length + 1);
    });

    it('a connect refused by the bank (422) writes nothing, and the consentId can be used afterwards', async () => {
      const base = validBody('/api/banking/connect', empty);
      const empties = await listConnections(t, empty);
      const refused = await post(
        '/api/banking/connect',
        { ...base, consentId: 'sandbox-expired-hostile' },
        {},
        empty,
      );
      expectProblem(refused, 422);
      expect(await listConnections(t, empty)).toEqual(empties);
    });

    it('no failed connect of this file left a connection behind', async () => {
      const ids = (await listConnections(t, empty)).map((c) => c.id);
      expect(ids.sort()).toEqual([...connectedByEmpty].sort());
      expect(await snapshot()).toEqual(before);
    });

    it('no response of this file carried a stack trace or other internals', async () => {
      expect(exchanges.length).toBeGreaterThan(100);
      for (const response of responses()) expectNoStackTrace(response.body);
    });

    it('every error response of this file was a 4xx problem+json: none was a 5xx or plain JSON', async () => {
      const bad = responses()
        .filter((r) => r.statusCode >= 500 || (r.statusCode >= 400 && !isProblem(r)))
        .map((r) => `${r.statusCode} ${String(r.headers['content-type'])} ${short(r.body).slice(0, 120)}`);
      expect(bad).toEqual([]);
    });

    it('the admin API refuses the same hostile bodies with 4xx problems', async () => {
      const admin = (payload: string, contentType = 'application/json') =>
        hit({
          method: 'POST',
          url: '/api/admin/teams',
          authorization: bearer(ADMIN_TOKEN),
          body: payload,
          headers: { 'content-type': contentType },
        });
      expectProblem(await admin('{"name": '), 400);
      expectProblem(await admin(''), 400);
      expectProblem(await admin('[]'), 400);
      expectProblem(await admin('{"name":"x"}', 'text/plain'), 415);
      expectProblem(await admin(JSON.stringify({ name: 'x'.repeat(MiB + 1) })), 413);
      expectClientError(await admin('{"name":"x","__proto__":{"admin":true}}'));
      expectValidationProblem(await admin(JSON.stringify({ name: 'Team \ud800' })), ['/name']);
      const adminAt = (method: RawRequest['method'], url: string, payload?: string, contentType?: string) =>
        hit({
          method,
          url,
          authorization: bearer(ADMIN_TOKEN),
          ...(payload === undefined ? {} : { body: payload, headers: { 'content-type': contentType ?? '' } }),
        });
      const longId = 'x'.repeat(65);
      expectValidationProblem(await adminAt('POST', `/api/admin/teams/${longId}/keys`), ['/teamId']);
      expectValidationProblem(await adminAt('DELETE', `/api/admin/teams/${team.teamId}/keys/${longId}`), [
        '/keyId',
      ]);
      expectProblem(await adminAt('POST', `/api/admin/teams/${team.teamId}/keys`, 'x', 'text/plain'), 415);
      for (const id of [...SQL_INJECTIONS, 'x'.repeat(10_000), 'team\u0000nul', 'team\ud800']) {
        const response = await admin(JSON.stringify({ name: 'Hostile', id }));
        expect(response.statusCode, short(response.body)).toBeLessThan(500);
      }
    });

    it('every answer of this file to a route the OpenAPI document lists is a status and body it documents', async () => {
      const check = await createOpenApiChecker(t.app);
      const undocumented: string[] = [];
      for (const { request, response } of exchanges) {
        const { method, url } = request;
        // No route (`/nope`, or a method the path does not serve) is not in the document by design.
        if (response.statusCode === 404 && String(response.json().detail).startsWith('No route ')) continue;
        if (response.statusCode === 405) continue;
        try {
          check(method, url, response);
        } catch (error) {
          undocumented.push(String(error));
        }
      }
      expect([...new Set(undocumented)]).toEqual([]);
    });
  });
});

/** The members of a JSON object, without its braces, to splice into hand-written JSON. */
function inner(body: Json): string {
  return JSON.stringify(body).slice(1, -1);
}

/** The string with each lone surrogate replaced by U+FFFD, as a URL encoder would. */
function wellFormed(value: string): string {
  return value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** Whether a response is a well-formed problem+json whose `status` is the HTTP status. */
function isProblem(response: LightMyRequestResponse): boolean {
  if (!String(response.headers['content-type']).startsWith('application/problem+json')) return false;
  try {
    const body = response.json() as Json;
    return (
      body.status === response.statusCode &&
      ['type', 'title', 'detail', 'code'].every((field) => typeof body[field] === 'string')
    );
  } catch {
    return false;
  }
}
