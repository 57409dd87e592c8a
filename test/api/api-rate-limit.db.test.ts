import { type AddressInfo, createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, startTwoInstances } from '../support/app.js';
import { expectProblem, useTestApp } from '../support/fixtures.js';
import { bearer, issueKey, listConnectionsWith, send } from '../support/security.js';

const LIMIT = 5;

describe('rate limits per API key, in memory', () => {
  const t = useTestApp({ env: { RATE_LIMIT_MAX: String(LIMIT), RATE_LIMIT_WINDOW: '1m' } });

  it('counts down in RateLimit-* headers, then answers 429 problem+json with Retry-After', async () => {
    const team = await t.createTeam('Busy');
    for (let i = 1; i <= LIMIT; i++) {
      const response = await listConnectionsWith(t, team);
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-limit']).toBe(String(LIMIT));
      expect(response.headers['ratelimit-remaining']).toBe(String(LIMIT - i));
      expect(Number(response.headers['ratelimit-reset'])).toBeGreaterThan(0);
    }
    const limited = await listConnectionsWith(t, team);
    expectProblem(limited, 429, 'RATE_LIMITED');
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('counts every request of the key, bad ones and writes included', async () => {
    const team = await t.createTeam('Careless');
    for (let i = 0; i < LIMIT; i++) {
      const response = await send(t, {
        method: 'POST',
        url: '/api/banking/connect',
        authorization: bearer(team.apiKey),
        body: { teamId: team.teamId },
      });
      expectProblem(response, 400);
    }
    expectProblem(await listConnectionsWith(t, team), 429, 'RATE_LIMITED');
  });

  it("gives each key its own budget: another key of the team and another team's key still work", async () => {
    const team = await t.createTeam('Spender');
    const other = await t.createTeam('Bystander');
    const second = await issueKey(t, team.teamId, ADMIN_TOKEN);
    for (let i = 0; i <= LIMIT; i++) await listConnectionsWith(t, team);
    expectProblem(await listConnectionsWith(t, team), 429);
    expect((await listConnectionsWith(t, team, second.apiKey)).statusCode).toBe(200);
    expect((await listConnectionsWith(t, other)).statusCode).toBe(200);
  });

  it("cannot be spent by requests forging a key's id with a wrong secret: those are 401 and not counted", async () => {
    const team = await t.createTeam('Target');
    const forged = `${team.apiKey.slice(0, -4)}AAAA`;
    for (let i = 0; i < LIMIT * 2; i++) {
      const response = await listConnectionsWith(t, team, forged);
      expect(response.statusCode).toBe(401);
      expect(response.headers['ratelimit-limit']).toBeUndefined();
    }
    const genuine = await listConnectionsWith(t, team);
    expect(genuine.statusCode).toBe(200);
    expect(genuine.headers['ratelimit-remaining']).toBe(String(LIMIT - 1));
  });
});

describe('rate limit window', () => {
  const t = useTestApp({ env: { RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW: '1s' } });

  it('opens again once the window has passed', async () => {
    const team = await t.createTeam('Patient');
    await listConnectionsWith(t, team);
    await listConnectionsWith(t, team);
    const limited = await listConnectionsWith(t, team);
    expectProblem(limited, 429);
    await sleep(1_100);
    expect((await listConnectionsWith(t, team)).statusCode).toBe(200);
  });
});

describe('rate limits when Redis is unreachable', () => {
  const t = useTestApp({ env: { RATE_LIMIT_MAX: '2', REDIS_URL: 'redis://127.0.0.1:1' } });

  it('lets requests through rather than failing them, without headers claiming a budget', async () => {
    const team = await t.createTeam('Unlimited for now');
    for (let i = 0; i < 4; i++) {
      const response = await listConnectionsWith(t, team);
      expect(response.statusCode).toBe(200);
      // Nothing was counted: no RateLimit-Remaining of a full window.
      expect(response.headers['ratelimit-remaining']).toBeUndefined();
      expect(response.headers['ratelimit-limit']).toBeUndefined();
    }
  });
});

/**
 * A Redis that says it is ready and then answers nothing more, holding its connections open (a
 * hung server, or a network that drops what it carries).
 */
async function silentRedis(): Promise<{ url: string; greeted: Promise<void>; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let greet = () => {};
  const greeted = new Promise<void>((resolve) => {
    greet = resolve;
  });
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (data) => {
      if (!/info/i.test(data.toString())) return;
      const info = '# Server\r\nredis_version:7.0.15\r\nloading:0\r\n';
      socket.write(`$${Buffer.byteLength(info)}\r\n${info}\r\n`);
      greet();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    greeted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('rate limits when Redis stops answering', () => {
  let redis: Awaited<ReturnType<typeof silentRedis>>;
  let t: Awaited<ReturnType<typeof startTestApp>>;

  beforeAll(async () => {
    redis = await silentRedis();
    t = await startTestApp({ env: { RATE_LIMIT_MAX: '2', REDIS_URL: redis.url } });
    // Connected and ready: the limiter sends its counts to it from now on.
    await redis.greeted;
    await sleep(100);
  });
  afterAll(async () => {
    await t?.close();
    await redis?.close();
  });

  it('answers requests within a second rather than waiting on it for ever', async () => {
    const team = await t.createTeam('Served while Redis is silent');
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const response = await listConnectionsWith(t, team);
      expect(response.statusCode).toBe(200);
      expect(Date.now() - started).toBeLessThan(1_500);
    }
  });
});

// Two instances sharing one database and one Redis: needs both servers (set in .ci/run).
const shared = process.env.REDIS_URL && process.env.DATABASE_URL;

describe.runIf(shared)('rate limits shared by two instances through Redis', () => {
  let instances: Awaited<ReturnType<typeof startTwoInstances>>;
  beforeAll(async () => {
    instances = await startTwoInstances({
      RATE_LIMIT_MAX: String(LIMIT),
      RATE_LIMIT_WINDOW: '1m',
      REDIS_URL: String(process.env.REDIS_URL),
    });
  });
  afterAll(() => instances?.close());

  it('spends one budget per key across instances', async () => {
    const { first, second } = instances;
    const team = await first.createTeam('Everywhere');
    for (let i = 0; i < LIMIT; i++) {
      const app = i % 2 === 0 ? first : second;
      const response = await listConnectionsWith(app, team);
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-remaining']).toBe(String(LIMIT - 1 - i));
    }
    expectProblem(await listConnectionsWith(first, team), 429, 'RATE_LIMITED');
    expectProblem(await listConnectionsWith(second, team), 429, 'RATE_LIMITED');
  });
});
