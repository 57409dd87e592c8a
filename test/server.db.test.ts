import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { freePort, startServer, startSlowSync, waitForReady } from './support/server-process.js';

describe('server process', () => {
  let database: TestDatabase;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'obs-server-'));
    database = await createTestDatabase({ dataDir });
  });
  afterAll(async () => {
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses to start on a bad environment, naming the variable', async () => {
    const server = startServer({ ...database.env, PORT: 'not-a-port' });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('PORT must be a whole number written in decimal digits');
  });

  it('refuses to start on a DATA_DIR it cannot use, naming it rather than printing a stack', async () => {
    const notADirectory = join(dataDir, 'not-a-directory');
    await writeFile(notADirectory, 'x');
    const server = startServer({ DATABASE_URL: '', DATA_DIR: notADirectory });
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(
      new RegExp(`failed to start: could not .* in DATA_DIR ${notADirectory}: `),
    );
    expect(server.output()).not.toMatch(/\n\s+at /);
  });

  it('finishes in-flight requests on SIGTERM, then exits 0 within 10 s without logging secrets', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const adminToken = 'server-test-admin-token';
    const server = startServer({
      ...database.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_TOKEN: adminToken,
    });
    await waitForReady(base, server.child, server.output);
    // The start says what it did before the port opened.
    expect(server.output()).toContain('"msg":"database migrations applied"');

    const { apiKey, inFlight } = await startSlowSync(base, adminToken);
    const signalledAt = Date.now();
    server.child.kill('SIGTERM');

    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(
      ((await response.json()) as { sync: { transactionsAdded: number } }).sync.transactionsAdded,
    ).toBeGreaterThanOrEqual(15000);
    const exitCode = await server.exited;
    if (exitCode !== 0) console.log(server.output().slice(-3000));
    expect(exitCode).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();

    if (database.engine === 'pglite') {
      // No ENCRYPTION_KEY with the embedded database: one is made beside the data, private.
      const keyFile = await stat(join(dataDir, 'encryption.key'));
      expect(keyFile.mode & 0o777).toBe(0o600);
    }

    const logs = server.output();
    expect(logs).toContain('"signal":"SIGTERM"');
    expect(logs).not.toContain(apiKey);
    expect(logs).not.toContain(adminToken);
    for (const line of logs.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('refuses a second process on the embedded database directory in use, and starts once it is free', async (context) => {
    if (database.engine !== 'pglite') return context.skip();
    const start = async () => {
      const port = await freePort();
      const server = startServer({ ...database.env, PORT: String(port), HOST: '127.0.0.1' });
      return { server, base: `http://127.0.0.1:${port}` };
    };
    const first = await start();
    await waitForReady(first.base, first.server.child, first.server.output);
    const second = await start();
    expect(await second.server.exited).toBe(1);
    expect(second.server.output()).toContain(
      `DATA_DIR ${dataDir} is in use by process ${first.server.child.pid}`,
    );
    // The first is untouched, and gives the directory back at its clean exit: the next one starts.
    expect((await fetch(`${first.base}/readyz`)).status).toBe(200);
    first.server.child.kill('SIGTERM');
    expect(await first.server.exited).toBe(0);
    const third = await start();
    await waitForReady(third.base, third.server.child, third.server.output);
    third.server.child.kill('SIGTERM');
    expect(await third.server.exited).toBe(0);
  });
});
