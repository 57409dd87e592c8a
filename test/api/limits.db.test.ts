import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type Team, type TestApp } from '../support/app.js';

describe('input the database could not store', () => {
  let t: TestApp;
  let team: Team;
  beforeAll(async () => {
    t = await startTestApp();
    team = await t.createTeam();
  });
  afterAll(() => t.close());

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
