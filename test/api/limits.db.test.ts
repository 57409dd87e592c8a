import { beforeAll, describe, expect, it } from 'vitest';
import type { Team } from '../support/app.js';
import { useTestApp } from '../support/fixtures.js';

describe('input the database could not store', () => {
  const t = useTestApp();
  let team: Team;
  beforeAll(async () => {
    team = await t.createTeam();
  });

  it.each([50, 5_000, 300_000])(
    'refuses metadata nested %i deep with a 400 and writes nothing',
    async (depth) => {
      const payload = `{"teamId":"${team.teamId}","provider":"sandbox","providerId":"sandbox-gb","consentId":"deep-${depth}","metadata":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/banking/connect',
        headers: { authorization: `Bearer ${team.apiKey}`, 'content-type': 'application/json' },
        payload,
      });
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json().errors[0]).toMatchObject({
        in: 'body',
        message: expect.stringMatching(/nest deeper/),
      });
      const list = await t.as(team).get('/api/banking/connections', { teamId: team.teamId });
      expect(list.json()).toEqual([]);
    },
  );

  it('refuses a scopes array of 90,000 items with one error naming the field', async () => {
    const response = await t.as(team).post('/api/banking/consent', {
      teamId: team.teamId,
      connectionId: 'conn_missing',
      scopes: Array.from({ length: 90_000 }, (_, i) => `s${i}`),
      expiresAt: '2030-01-01',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([
      { path: '/scopes', message: 'must not have more than 1000 items', in: 'body' },
    ]);
  });

  it('lists at most 50 field errors', async () => {
    const response = await t.as(team).post('/api/banking/consent', {
      teamId: team.teamId,
      connectionId: 'conn_missing',
      scopes: Array.from({ length: 1000 }, (_, i) => `scope-${i}`),
      expiresAt: '2030-01-01',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toHaveLength(50);
  });

  it('keeps ordinary nested metadata', async () => {
    const response = await t.as(team).post('/api/banking/connect', {
      teamId: team.teamId,
      provider: 'sandbox',
      providerId: 'sandbox-gb',
      consentId: 'nested-ok',
      metadata: { crm: { customer: { id: 'c-1', tags: ['a', 'b'] } } },
    });
    expect(response.statusCode).toBe(201);
  });
});

describe('limits on what a client may store', () => {
  const t = useTestApp();
  let team: Team;
  beforeAll(async () => {
    team = await t.createTeam();
  });

  const connect = (fields: Record<string, unknown>) =>
    t.as(team).post('/api/banking/connect', {
      teamId: team.teamId,
      provider: 'sandbox',
      providerId: 'sandbox-gb',
      consentId: `limits-${Math.random().toString(36).slice(2)}`,
      ...fields,
    });

  const nested = (levels: number): unknown => (levels === 0 ? 'leaf' : { next: nested(levels - 1) });

  it.each([
    [
      '51 keys',
      { metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) },
      '/metadata',
    ],
    ['a key of 65 characters', { metadata: { ['k'.repeat(65)]: 1 } }, '/metadata'],
    ['6 levels of nesting', { metadata: nested(6) }, '/metadata'],
    ['17 KiB of JSON', { metadata: { notes: 'x'.repeat(17 * 1024) } }, '/metadata'],
    ['a consentId of 257 characters', { consentId: 'c'.repeat(257) }, '/consentId'],
    ['a providerId of 129 characters', { providerId: 'p'.repeat(129) }, '/providerId'],
    ['a provider of 65 characters', { provider: 'p'.repeat(65) }, '/provider'],
  ])(
    'refuses metadata or ids over their limits (%s) with a 400 naming the field, writing nothing',
    async (_, fields, path) => {
      const response = await connect(fields);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(
        response.json().errors.map((e: { path: string }) => e.path.split('/').slice(0, 2).join('/')),
      ).toContain(path);
      const list = await t.as(team).get('/api/banking/connections', { teamId: team.teamId });
      expect(list.json()).toEqual([]);
    },
  );

  it('keeps metadata at its limits: 50 keys, 5 levels, just under 16 KiB', async () => {
    const atLimit = {
      ...Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`k${i}`, i])),
      deep: nested(4),
      notes: 'x'.repeat(15 * 1024),
    };
    const response = await connect({ metadata: atLimit });
    expect(response.statusCode, response.body).toBe(201);
  });
});
