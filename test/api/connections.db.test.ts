import { beforeAll, describe, expect, it } from 'vitest';
import { connectSandbox, type Team } from '../support/app.js';
import {
  type ConnectionBody,
  DAY_MS,
  expectConnectionShape,
  expectIsoUtc,
  expectProblem,
  expectValidationProblem,
  listConnections,
  SCOPES,
  tick,
  useTestApp,
} from '../support/fixtures.js';

const uniqueConsent = (label: string) => `consent-${label}-${Math.random().toString(36).slice(2)}`;

describe('connections: list and connect', () => {
  const t = useTestApp();

  const connect = (team: Team, body: Record<string, unknown>) =>
    t.as(team).post('/api/banking/connect', { teamId: team.teamId, ...body });

  it('lists no connections for a new team', async () => {
    const team = await t.createTeam();
    const response = await t.as(team).get('/api/banking/connections', { teamId: team.teamId });
    expect(response.statusCode).toBe(200);
    expect(String(response.headers['content-type'])).toMatch(/^application\/json/);
    expect(response.json()).toEqual([]);
  });

  it('connect answers 201 with an ACTIVE connection and one AUTHORIZED consent of all three scopes for 90 days', async () => {
    const team = await t.createTeam();
    const consentId = uniqueConsent('connect');
    const before = t.clock.now().getTime();
    const response = await connect(team, { provider: 'sandbox', providerId: 'sandbox-gb', consentId });
    expect(response.statusCode, response.body).toBe(201);
    expect(String(response.headers['content-type'])).toMatch(/^application\/json/);
    const body = response.json() as ConnectionBody;
    expectConnectionShape(body, team);
    expect(body).toMatchObject({
      teamId: team.teamId,
      provider: 'sandbox',
      providerId: 'sandbox-gb',
      status: 'ACTIVE',
    });
    expect(body.consents).toHaveLength(1);
    const [consent] = body.consents;
    expect(consent?.status).toBe('AUTHORIZED');
    expect(consent?.revokedAt).toBeNull();
    expect([...(consent?.scopes ?? [])].sort()).toEqual([...SCOPES]);
    expectIsoUtc(consent?.expiresAt);
    const expires = Date.parse(consent?.expiresAt ?? '');
    expect(Math.abs(expires - (before + 90 * DAY_MS))).toBeLessThanOrEqual(DAY_MS);
  });

  it('connect accepts sandbox-eu and optional metadata', async () => {
    const team = await t.createTeam();
    const response = await connect(team, {
      provider: 'sandbox',
      providerId: 'sandbox-eu',
      consentId: uniqueConsent('eu'),
      metadata: { sandbox: { accounts: 2, transactionsPerAccount: 5, days: 3 }, note: 'anything' },
    });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ providerId: 'sandbox-eu', status: 'ACTIVE' });
  });

  it('lists connections oldest first with every seed field and the right types', async () => {
    const team = await t.createTeam();
    const ids: string[] = [];
    for (const providerId of ['sandbox-gb', 'sandbox-eu', 'sandbox-gb']) {
      const connection = await connectSandbox(t.as(team), team, { providerId });
      ids.push(connection.id);
      tick(t);
    }
    const list = await listConnections(t, team);
    expect(list.map((c) => c.id)).toEqual(ids);
    expect(list.map((c) => c.providerId)).toEqual(['sandbox-gb', 'sandbox-eu', 'sandbox-gb']);
    for (const connection of list) {
      expectConnectionShape(connection, team);
      expect(connection.provider).toBe('sandbox');
      expect(connection.status).toBe('ACTIVE');
      expect(connection.consents).toHaveLength(1);
      expect(connection.consents[0]).toMatchObject({ status: 'AUTHORIZED', revokedAt: null });
    }
  });

  it('lists the same connection as connect returned it', async () => {
    const team = await t.createTeam();
    const response = await connect(team, {
      provider: 'sandbox',
      providerId: 'sandbox-gb',
      consentId: uniqueConsent('same'),
    });
    const created = response.json() as ConnectionBody;
    const [listed] = await listConnections(t, team);
    const seedFields = (c: ConnectionBody | undefined) => ({
      id: c?.id,
      teamId: c?.teamId,
      provider: c?.provider,
      providerId: c?.providerId,
      status: c?.status,
      consents: c?.consents.map(({ id, status, scopes, expiresAt, revokedAt }) => ({
        id,
        status,
        scopes,
        expiresAt,
        revokedAt,
      })),
    });
    expect(seedFields(listed)).toEqual(seedFields(created));
  });

  it("lists only the team's own connections", async () => {
    const a = await t.createTeam('A');
    const b = await t.createTeam('B');
    const ofA = await connectSandbox(t.as(a), a);
    const ofB = await connectSandbox(t.as(b), b);
    expect((await listConnections(t, a)).map((c) => c.id)).toEqual([ofA.id]);
    expect((await listConnections(t, b)).map((c) => c.id)).toEqual([ofB.id]);
  });

  it('lists consents oldest first, keeping the revoked history', async () => {
    const team = await t.createTeam();
    const connection = await connectSandbox(t.as(team), team);
    const consentIds = [connection.consents[0]?.id];
    for (const scopes of [['accounts'], ['accounts', 'transactions']]) {
      tick(t);
      const response = await t.as(team).post('/api/banking/consent', {
        teamId: team.teamId,
        connectionId: connection.id,
        scopes,
        expiresAt: new Date(t.clock.now().getTime() + 30 * DAY_MS).toISOString(),
      });
      expect(response.statusCode, response.body).toBe(200);
      consentIds.push((response.json() as { id: string }).id);
    }
    const [listed] = await listConnections(t, team);
    expect(listed?.consents.map((c) => c.id)).toEqual(consentIds);
    expect(listed?.consents.map((c) => c.status)).toEqual(['REVOKED', 'REVOKED', 'AUTHORIZED']);
  });

  describe('connect rejects bad input with 400 and writes nothing', () => {
    let team: Team;
    beforeAll(async () => {
      team = await t.createTeam('validation');
    });

    it('400 for an unknown provider, naming /provider', async () => {
      const response = await connect(team, {
        provider: 'no-such-bank',
        providerId: 'sandbox-gb',
        consentId: uniqueConsent('p'),
      });
      expectValidationProblem(response, ['/provider']);
    });

    it('400 for an unknown providerId, naming /providerId', async () => {
      const response = await connect(team, {
        provider: 'sandbox',
        providerId: 'sandbox-fr',
        consentId: uniqueConsent('pid'),
      });
      expectValidationProblem(response, ['/providerId']);
    });

    it('400 for missing fields, naming each of them', async () => {
      expectValidationProblem(await connect(team, {}), ['/provider', '/providerId', '/consentId']);
    });

    it('400 for a missing teamId, naming /teamId', async () => {
      const response = await t.as(team).post('/api/banking/connect', {
        provider: 'sandbox',
        providerId: 'sandbox-gb',
        consentId: uniqueConsent('no-team'),
      });
      expectValidationProblem(response, ['/teamId']);
    });

    it('400 for empty strings, naming each of them', async () => {
      const response = await connect(team, { provider: '', providerId: '', consentId: '' });
      expectValidationProblem(response, ['/provider', '/providerId', '/consentId']);
    });

    it.each([' ', '\t', '   \n'])('400 for a blank consentId (%j), naming /consentId', async (consentId) => {
      const response = await connect(team, { provider: 'sandbox', providerId: 'sandbox-gb', consentId });
      expectValidationProblem(response, ['/consentId']);
    });

    it('400 for wrong-typed fields, naming each of them', async () => {
      const response = await connect(team, {
        provider: 1,
        providerId: true,
        consentId: { id: 'x' },
        metadata: 'not an object',
      });
      expectValidationProblem(response, ['/provider', '/providerId', '/consentId', '/metadata']);
    });

    it('400 for a wrong-typed teamId, naming /teamId', async () => {
      const response = await t.as(team).post('/api/banking/connect', {
        teamId: 42,
        provider: 'sandbox',
        providerId: 'sandbox-gb',
        consentId: uniqueConsent('num-team'),
      });
      expectValidationProblem(response, ['/teamId']);
    });

    it.each([
      ['accounts is not a number', { accounts: 'three' }, ['/metadata/sandbox/accounts']],
      ['days is negative', { days: -5 }, ['/metadata/sandbox/days']],
      [
        'transactionsPerAccount is fractional',
        { transactionsPerAccount: 1.5 },
        ['/metadata/sandbox/transactionsPerAccount'],
      ],
      [
        'two options are bad',
        { accounts: -1, days: 'ninety' },
        ['/metadata/sandbox/accounts', '/metadata/sandbox/days'],
      ],
      ['sandbox is a string', 'big', ['/metadata/sandbox']],
      ['sandbox is an array', [1, 2], ['/metadata/sandbox']],
    ])('400 for bad metadata.sandbox (%s), naming the bad fields', async (_label, sandbox, paths) => {
      const response = await connect(team, {
        provider: 'sandbox',
        providerId: 'sandbox-gb',
        consentId: uniqueConsent('meta'),
        metadata: { sandbox },
      });
      expectValidationProblem(response, paths);
    });

    it('none of the rejected connects created a connection', async () => {
      expect(await listConnections(t, team)).toEqual([]);
    });
  });

  it('422 when the bank reports the consent expired (sandbox-expired-*), and nothing is written', async () => {
    const team = await t.createTeam();
    const response = await connect(team, {
      provider: 'sandbox',
      providerId: 'sandbox-gb',
      consentId: `sandbox-expired-${Math.random().toString(36).slice(2)}`,
    });
    expectProblem(response, 422);
    expect(await listConnections(t, team)).toEqual([]);
  });

  it('409 connecting a consentId this team has already connected; the first connection is unchanged', async () => {
    const team = await t.createTeam();
    const consentId = uniqueConsent('twice');
    const first = await connectSandbox(t.as(team), team, { consentId });
    const before = await listConnections(t, team);
    const again = await connect(team, { provider: 'sandbox', providerId: 'sandbox-gb', consentId });
    expectProblem(again, 409);
    const after = await listConnections(t, team);
    expect(after).toEqual(before);
    expect(after.map((c) => c.id)).toEqual([first.id]);
  });

  it('409 connecting the same consentId at another institution of the same provider', async () => {
    const team = await t.createTeam();
    const consentId = uniqueConsent('other-institution');
    await connectSandbox(t.as(team), team, { consentId, providerId: 'sandbox-gb' });
    const again = await connect(team, { provider: 'sandbox', providerId: 'sandbox-eu', consentId });
    expectProblem(again, 409);
    expect(await listConnections(t, team)).toHaveLength(1);
  });

  it('409 connecting a consentId again after its connection was disconnected', async () => {
    const team = await t.createTeam();
    const consentId = uniqueConsent('after-disconnect');
    const first = await connectSandbox(t.as(team), team, { consentId });
    const disconnected = await t
      .as(team)
      .post('/api/banking/disconnect', { teamId: team.teamId, connectionId: first.id });
    expect(disconnected.statusCode).toBe(200);
    const again = await connect(team, { provider: 'sandbox', providerId: 'sandbox-gb', consentId });
    expectProblem(again, 409);
    const list = await listConnections(t, team);
    expect(list.map((c) => [c.id, c.status])).toEqual([[first.id, 'DISCONNECTED']]);
  });

  it('another team may connect the same consentId (unique per team)', async () => {
    const a = await t.createTeam('A');
    const b = await t.createTeam('B');
    const consentId = uniqueConsent('shared');
    await connectSandbox(t.as(a), a, { consentId });
    const response = await connect(b, { provider: 'sandbox', providerId: 'sandbox-gb', consentId });
    expect(response.statusCode, response.body).toBe(201);
  });
});
