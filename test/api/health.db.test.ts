import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/fixtures.js';

describe('health and readiness', () => {
  const t = useTestApp();

  it('answers liveness with 200', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('answers readiness with the database engine once the database answers', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready', database: t.database.engine });
  });
});
