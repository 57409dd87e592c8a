import { connect, type Socket } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Team, TestApp } from '../support/app.js';
import { useTestApp } from '../support/fixtures.js';
import { listConnectionsWith, send } from '../support/security.js';

const ALLOWED = 'https://app.example.com';

const listFrom = (t: TestApp, team: Team, origin: string) =>
  listConnectionsWith(t, team, team.apiKey, { origin });

/** Writes raw bytes to the listening app and reads the whole answer until the socket closes. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('security headers and CORS off by default', () => {
  const t = useTestApp();
  let team: Team;
  beforeAll(async () => {
    team = await t.createTeam('Browser');
  });

  it("sends an API's security headers on API answers and on errors, and tells caches not to store them", async () => {
    for (const response of [
      await listFrom(t, team, ALLOWED),
      await send(t, { method: 'GET', url: '/api/banking/connections' }),
      await send(t, { method: 'GET', url: '/nowhere' }),
    ]) {
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
      expect(String(response.headers['strict-transport-security'])).toContain('max-age=');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.headers['x-powered-by']).toBeUndefined();
      expect(response.headers['x-request-id']).toMatch(/^[\w.:-]+$/);
    }
  });

  it('sends the HTML API docs with a document policy that lets them load their own scripts', async () => {
    const response = await send(t, { method: 'GET', url: '/docs' });
    expect(response.statusCode).toBe(200);
    const policy = String(response.headers['content-security-policy']);
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it("sends the docs' scripts and styles under the same document policy, cacheable: they hold no one's data", async () => {
    for (const url of ['/docs/static/swagger-ui-bundle.js', '/docs/static/index.css']) {
      const response = await send(t, { method: 'GET', url });
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).not.toContain('no-store');
      expect(String(response.headers['content-security-policy'])).toContain("default-src 'self'");
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
    // A path that only starts like the docs' is the API's.
    const api = await send(t, { method: 'GET', url: '/docsx' });
    expect(api.headers['cache-control']).toBe('no-store');
  });

  it("echoes the caller's x-request-id on answers and on errors alike", async () => {
    // A path the router refuses (bad percent-encoding) is answered before any hook runs.
    for (const url of [
      '/healthz',
      '/api/banking/connections',
      '/nowhere',
      '/api/banking/accounts/%E0%A4%A',
    ]) {
      const response = await send(t, { method: 'GET', url, headers: { 'x-request-id': 'trace-42' } });
      expect(response.headers['x-request-id']).toBe('trace-42');
    }
  });

  it('sends no CORS header to any origin, so no other site can read the API from a browser', async () => {
    const response = await listFrom(t, team, ALLOWED);
    expect(response.statusCode).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await send(t, {
      method: 'OPTIONS' as 'GET',
      url: '/api/banking/connections',
      headers: { origin: ALLOWED, 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers bytes that are not HTTP with a 400 problem+json and closes the socket', async () => {
    const port = await listen(t);
    const answer = await rawExchange(port, 'THIS IS NOT HTTP\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('Content-Type: application/problem+json');
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      status: 400,
      code: 'MALFORMED_REQUEST',
    });
  });

  it('answers CONNECT, which asks for a tunnel, with a 405 problem+json instead of a closed socket', async () => {
    const port = await listen(t);
    const answer = await rawExchange(
      port,
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 405 /);
    expect(answer).toContain('Content-Type: application/problem+json');
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      status: 405,
      code: 'METHOD_NOT_ALLOWED',
    });
  });

  it.each([
    ['an HTTP/1.1 request without a Host header', 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n'],
    [
      'a request with two Host headers',
      'GET /healthz HTTP/1.1\r\nHost: a\r\nhost: b\r\nConnection: close\r\n\r\n',
    ],
    [
      'a request with two Authorization headers, which a proxy in front might read otherwise',
      'GET /api/banking/connections HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer one\r\nauthorization: Bearer two\r\nConnection: close\r\n\r\n',
    ],
  ])('answers %s with a 400 problem+json', async (_, bytes) => {
    const port = await listen(t);
    const answer = await rawExchange(port, bytes);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/content-type: application\/problem\+json/i);
    expect(answer).toMatch(/x-request-id: /i);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      status: 400,
      code: 'MALFORMED_REQUEST',
    });
  });

  it('answers an HTTP/1.0 request without a Host header, which that version allows', async () => {
    const port = await listen(t);
    const answer = await rawExchange(port, 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.[01] 200 /);
  });

  it.each([
    ['headers', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
    ['a query string', `GET /api/banking/accounts?teamId=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
  ])('answers %s over 16 KiB with a 431 problem+json that names both causes', async (_, bytes) => {
    const port = await listen(t);
    const answer = await rawExchange(port, bytes);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    expect(body).toMatchObject({
      code: 'HEADERS_TOO_LARGE',
      detail: expect.stringMatching(/request line and headers .* a URL that long/),
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    // The same id in the header, as on every other answer.
    expect(answer).toMatch(new RegExp(`\r\nX-Request-Id: ${body.requestId}\r\n`, 'i'));
  });

  it('answers a path parameter over 2,048 characters 414, without quoting the path back', async () => {
    const response = await send(t, { method: 'GET', url: `/api/banking/accounts/${'a'.repeat(3000)}` });
    expect(response.statusCode).toBe(414);
    expect(response.json()).toMatchObject({
      code: 'URI_TOO_LONG',
      title: 'URI too long',
      detail: 'A path parameter is longer than 2,048 characters.',
    });
  });

  it('gives a client REQUEST_TIMEOUT_MS (120 s unless set) to send its whole request', () => {
    expect(t.app.server.requestTimeout).toBe(120_000);
  });

  it('answers a path the router refuses with the same security headers as any API answer', async () => {
    const response = await send(t, { method: 'GET', url: '/api/banking/accounts/%E0%A4%A' });
    expect(response.statusCode).toBe(400);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(response.headers['x-frame-options']).toBe('DENY');
  });
});

describe('a request that arrives while the service shuts down', () => {
  const t = useTestApp();

  it('is answered 503 problem+json with Retry-After and Connection: close, for the client to send again', async () => {
    const port = await listen(t);
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
    });
    const closed = new Promise((resolve) => socket.on('close', resolve));
    await new Promise((resolve) => socket.once('connect', resolve));
    // A request under way on a kept-alive connection when the shutdown begins, as a client's next
    // request would be: its headers end after the app has started closing.
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = t.app.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.write('\r\n');
    await closed;
    await closing;
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(answer).toMatch(/content-type: application\/problem\+json/i);
    expect(answer).toMatch(/retry-after: 1/i);
    expect(answer).toMatch(/connection: close/i);
    expect(answer).toMatch(/x-request-id: /i);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
    });
  });
});

describe('a client that does not finish its request in REQUEST_TIMEOUT_MS', () => {
  const t = useTestApp({ env: { REQUEST_TIMEOUT_MS: '1000' } });
  let team: Team;
  beforeAll(async () => {
    team = await t.createTeam('Slow');
  });

  /** Sends `bytes` and never the rest; resolves with the answer and how long it took. */
  const stall = async (bytes: string) => {
    const port = await listen(t);
    const started = performance.now();
    const answer = await rawExchange(port, bytes);
    return { answer, seconds: (performance.now() - started) / 1000 };
  };

  it.each([
    ['its headers', () => 'GET /api/banking/connections HTTP/1.1\r\nHost: x\r\n'],
    [
      // With a valid key, so the request is let through to wait for its body.
      'its body',
      () =>
        `POST /api/banking/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${team.apiKey}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"teamId":',
    ],
  ])('gets a 408 problem+json within about a second of the limit, stalling in %s', async (_, bytes) => {
    const { answer, seconds } = await stall(bytes());
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      code: 'REQUEST_TIMEOUT',
    });
    expect(seconds).toBeGreaterThanOrEqual(0.9);
    expect(seconds).toBeLessThan(5);
  });
});

describe('CORS with an allow-list', () => {
  const t = useTestApp({ env: { CORS_ORIGINS: `${ALLOWED}, https://other.example.com` } });
  let team: Team;
  beforeAll(async () => {
    team = await t.createTeam('Browser');
  });

  it('lets a listed origin read answers and the paging, rate-limit and idempotency headers', async () => {
    const response = await listFrom(t, team, ALLOWED);
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED);
    const exposed = String(response.headers['access-control-expose-headers']);
    for (const header of ['link', 'retry-after', 'ratelimit-remaining', 'idempotent-replayed']) {
      expect(exposed).toContain(header);
    }
  });

  it('answers a preflight from a listed origin, allowing the Idempotency-Key header', async () => {
    const preflight = await send(t, {
      method: 'OPTIONS' as 'GET',
      url: '/api/banking/connect',
      headers: {
        origin: ALLOWED,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, idempotency-key',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(String(preflight.headers['access-control-allow-headers'])).toContain('idempotency-key');
  });

  it('gives an unlisted origin no CORS header', async () => {
    const response = await listFrom(t, team, 'https://evil.example.net');
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});

async function listen(t: TestApp): Promise<number> {
  if (!t.app.server.listening) await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  if (!address || typeof address === 'string') throw new Error('not listening');
  return address.port;
}

describe('a process with MAX_CONNECTIONS open', () => {
  const t = useTestApp({ env: { MAX_CONNECTIONS: '3' } });

  it('closes further connections at once, and serves again once one closes', async () => {
    const port = await listen(t);
    const idle = await Promise.all(
      Array.from(
        { length: 3 },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const socket = connect(port, '127.0.0.1', () => resolve(socket));
            socket.on('error', reject);
          }),
      ),
    );
    const request = 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    try {
      // Closed unanswered: an empty answer, or a reset if the request was still being written.
      const refused = await rawExchange(port, request).catch((error: NodeJS.ErrnoException) => error.code);
      expect(['', 'ECONNRESET', 'EPIPE']).toContain(refused);
      idle[0]?.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await rawExchange(port, request)).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      for (const socket of idle) socket.destroy();
    }
  });
});
