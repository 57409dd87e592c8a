import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';

describe('the request log', () => {
  const logLines: string[] = [];
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ logLines });
  });
  afterAll(() => t.close());

  const completed = () =>
    logLines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'request completed');

  it('has one line per request with its method, route, status, time, and the team and key it acted as', async () => {
    const team = await t.createTeam();
    logLines.length = 0;
    await t.as(team).get('/api/banking/accounts', { teamId: team.teamId });
    await t.as(team).post('/api/banking/sync', { teamId: team.teamId, connectionId: 'conn_missing' });
    await t.app.inject({ method: 'GET', url: '/api/banking/accounts?teamId=x' });
    const lines = completed();
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      level: 30,
      method: 'GET',
      route: '/api/banking/accounts',
      statusCode: 200,
      teamId: team.teamId,
      apiKeyId: team.keyId,
      responseTime: expect.any(Number),
    });
    // A POST's team is in its body, which is never logged: the line names it all the same.
    expect(lines[1]).toMatchObject({
      method: 'POST',
      route: '/api/banking/sync',
      statusCode: 404,
      teamId: team.teamId,
    });
    // Refused before any key was read: no team to name.
    expect(lines[2]).toMatchObject({ statusCode: 401 });
    expect(lines[2].teamId).toBeUndefined();
    // Each arrival too, at debug (this app logs at debug), with its URL.
    const arrivals = logLines
      .map((line) => JSON.parse(line))
      .filter((line) => line.msg === 'incoming request');
    expect(arrivals.map((line) => [line.level, line.req.method])).toEqual([
      [20, 'GET'],
      [20, 'POST'],
      [20, 'GET'],
    ]);
  });
});
