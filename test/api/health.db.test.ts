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

  it('answers readiness 503 within 2 s when the database takes the query and never answers', async () => {
    const ping = t.database.ping;
    t.database.ping = () => new Promise<void>(() => {});
    try {
      const started = performance.now();
      const response = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        detail: 'The database is not reachable.',
      });
      // A bound on the deadline itself, not on speed: the pool would have waited 10 s.
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      t.database.ping = ping;
    }
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });
});
