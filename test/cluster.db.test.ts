import { readdir, readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { freePort, startServer, startSlowSync, waitForReady } from './support/server-process.js';

/** The pids of the live processes whose parent is `pid` (Linux /proc). */
async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ...; comm may hold spaces, so read after the last ')'.
    const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(parent) === pid && state !== 'Z') children.push(Number(entry));
  }
  return children.sort();
}

async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return stat !== null && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

async function waitUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The pids that logged a request with id `requestId`. */
const pidsServing = (output: string, requestIds: string[]) =>
  new Set(
    output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { pid: number; reqId?: string })
      .filter((line) => line.reqId !== undefined && requestIds.includes(line.reqId))
      .map((line) => line.pid),
  );

const ADMIN_TOKEN = 'cluster-test-admin-token';

describe('several worker processes on one port (WEB_CONCURRENCY)', () => {
  let database: TestDatabase | undefined;
  afterAll(() => database?.drop());

  it('refuses more than one process on the embedded database, naming the variable', async () => {
    const server = startServer({ DATABASE_URL: '', DATA_DIR: 'memory://', WEB_CONCURRENCY: '2' });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('WEB_CONCURRENCY above 1 needs DATABASE_URL');
  });

  /** The server with two workers on a fresh database, once both serve. */
  async function startCluster() {
    database ??= await createTestDatabase();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = startServer({
      ...database.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      WEB_CONCURRENCY: '2',
      ADMIN_TOKEN,
    });
    const primary = server.child.pid as number;
    await waitForReady(base, server.child, server.output);
    const workers = await waitUntil(
      () => childrenOf(primary),
      (pids) => pids.length === 2,
      'two workers',
    );

    // Each request on a connection of its own: node:cluster hands connections out in turn.
    const serve = async (count: number) => {
      const ids = Array.from({ length: count }, (_, i) => `cluster-${Date.now()}-${i}`);
      for (const id of ids) {
        const response = await fetch(`${base}/readyz`, {
          headers: { 'x-request-id': id, connection: 'close' },
        });
        expect(response.status).toBe(200);
      }
      return ids;
    };
    // Both serve once both listen (the first may answer alone for a moment at start).
    const bothServe = async (pids: number[]) => {
      const served: string[] = [];
      const serving = await waitUntil(
        async () => {
          served.push(...(await serve(2)));
          return pidsServing(server.output(), served);
        },
        (found) => found.size === 2,
        'both workers to serve',
      );
      expect([...serving].sort()).toEqual(pids);
    };
    await bothServe(workers);
    return { server, base, primary, workers, bothServe };
  }

  it.runIf(process.env.DATABASE_URL)(
    'serves from every worker, replaces a worker that dies, and exits 0 once all have stopped on SIGTERM',
    async () => {
      const { server, primary, workers, bothServe } = await startCluster();

      // A worker that dies after it has served a while is replaced; the other goes on serving.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      process.kill(workers[0] as number, 'SIGKILL');
      const replaced = await waitUntil(
        () => childrenOf(primary),
        (pids) => pids.length === 2 && !pids.includes(workers[0] as number),
        'a replacement worker',
      );
      expect(replaced).toContain(workers[1]);
      await bothServe(replaced);

      server.child.kill('SIGTERM');
      expect(await server.exited, server.output().slice(-3000)).toBe(0);
      for (const pid of replaced) expect(await isRunning(pid)).toBe(false);
      expect(server.output()).toContain('a worker died; starting another');
    },
    60_000,
  );

  it.runIf(process.env.DATABASE_URL)(
    'finishes an in-flight request when SIGTERM reaches the primary and every worker at once, as systemd sends it',
    async () => {
      const { server, base, primary, workers } = await startCluster();
      const { inFlight } = await startSlowSync(base, ADMIN_TOKEN);
      for (const pid of [primary, ...workers]) process.kill(pid, 'SIGTERM');
      const response = await inFlight;
      expect(response.status, server.output().slice(-3000)).toBe(200);
      expect(await server.exited, server.output().slice(-3000)).toBe(0);
      for (const pid of workers) expect(await isRunning(pid)).toBe(false);
    },
    60_000,
  );
});
