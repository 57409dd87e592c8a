/**
 * What the read scenarios share: the service as `npm start` runs it (a child process of `src/`
 * compiled to JavaScript, on the bench database), a bare `node:http` server of the same bytes,
 * sequential latency samples over HTTP and through the driver, and throughput at a fixed
 * concurrency with autocannon (HTTP) or a pool of the same size (driver).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import type pg from 'pg';
import type { BareHttpInput } from './bare-http.js';
import type { Statement } from './capture.js';
import { forkChild } from './child.js';
import { compiledPath } from './compile.js';
import { type MachineCpu, machineCpu } from './cpu-budget.js';
import type { DriverChildInput, DriverCommand, DriverReport, DriverWindow } from './driver-child.js';
import { startFlags } from './project.js';
import type { ReferenceServerInput } from './reference-server.js';

export const CONCURRENCY = 20;

export interface RunningServer {
  origin: string;
  pid: number;
  stop(): Promise<void>;
}

/** What a process has used so far, from /proc (Linux). */
interface ProcessUsage {
  /** CPU time, user + system (100 ticks a second). */
  cpuMs: number;
  /** The part of `cpuMs` spent in the kernel (system calls, page faults) rather than the process's own code. */
  systemMs: number;
  /**
   * Minor page faults: pages the process touched for the first time. A V8 heap that keeps growing
   * and shrinking (garbage promoted to the old generation, then collected) faults in fresh pages
   * on every request; a steady one almost never does.
   */
  minorFaults: number;
}

/** What process `pid` has used so far; null where /proc cannot tell. */
async function usageOf(pid: number): Promise<ProcessUsage | null> {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
    return {
      cpuMs: (Number(fields[11]) + Number(fields[12])) * 10,
      systemMs: Number(fields[12]) * 10,
      minorFaults: Number(fields[7]),
    };
  } catch {
    return null;
  }
}

/** CPU time (ms) process `pid` has used; null where /proc cannot tell. */
export async function cpuMsOf(pid: number): Promise<number | null> {
  return (await usageOf(pid))?.cpuMs ?? null;
}

/** What process `pid` and its live children (the workers of a cluster) have used; null when unreadable. */
async function treeUsage(pid: number): Promise<ProcessUsage | null> {
  const total = await usageOf(pid);
  if (total === null) return null;
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  for (const child of children.split(' ').filter(Boolean)) {
    const used = await usageOf(Number(child));
    total.cpuMs += used?.cpuMs ?? 0;
    total.systemMs += used?.systemMs ?? 0;
    total.minorFaults += used?.minorFaults ?? 0;
  }
  return total;
}

/**
 * CPU time (ms) used so far by each PostgreSQL backend of `monitor`'s database (but its own),
 * when the server runs on this machine.
 */
export async function backendsCpuMs(monitor: pg.Client): Promise<Map<number, number>> {
  const { rows } = await monitor.query<{ pid: number }>(
    'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
  );
  const used = new Map<number, number>();
  for (const { pid } of rows) {
    const ms = await cpuMsOf(pid);
    if (ms !== null) used.set(pid, ms);
  }
  return used;
}

/**
 * CPU (ms) the backends used between two readings: the whole of those that connected in between
 * (a pool that had closed its idle connections opens new ones); null when none could be read.
 */
function backendsDelta(before: Map<number, number>, after: Map<number, number>): number | null {
  let total = 0;
  let read = false;
  for (const [pid, ms] of after) {
    total += ms - (before.get(pid) ?? 0);
    read = true;
  }
  return read ? total : null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * `node dist/src/server.js` as `npm start` runs it, against `databaseUrl`, with `workers`
 * processes (`WEB_CONCURRENCY`). Logs at `warn` (no line per request), no background sync, a rate
 * limit no run reaches, and `CONCURRENCY` database connections in all, like the driver baseline.
 */
export async function startService(databaseUrl: string, workers = 1): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [...startFlags(), await compiledPath('src/server.ts')], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: String(Math.ceil(CONCURRENCY / workers)),
      WEB_CONCURRENCY: String(workers),
      LOG_LEVEL: 'warn',
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      SCHEDULER_ENABLED: 'false',
      RATE_LIMIT_MAX: '10000000',
    },
    stdio: ['ignore', 2, 2],
  });
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with code ${child.exitCode}`);
    const ready = await get(`${origin}/healthz`, {}).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error('the service did not answer /healthz within 60 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { origin, pid: child.pid as number, stop: () => stopChild(child) };
}

/** A child process answering every request with `body` and `headers`, with `framework` (see `bare-http.ts`). */
export async function startBareHttp(
  framework: BareHttpInput['framework'],
  body: Buffer,
  headers: Record<string, string>,
): Promise<RunningServer> {
  const input: BareHttpInput = { framework, bodyBase64: body.toString('base64'), headers };
  return forkServer('bench/lib/bare-http.ts', input);
}

/** The paths of a reference server, what each is beside the service, and a short name for notes. */
export const REFERENCE_SERVERS = [
  {
    path: '/fast-json-stringify',
    label:
      'hand-written: node:http, pg, fast-json-stringify (same mapping and schema; no key, validation, headers)',
    name: 'the hand-written server',
  },
  {
    path: '/json-stringify',
    label: 'the same hand-written server with JSON.stringify',
    name: 'its JSON.stringify',
  },
  {
    path: '/fastify',
    label: 'plain Fastify: one route, the same statement, mapping and response schema, no hooks',
    name: 'the plain Fastify route',
  },
  {
    path: '/floor',
    label: "the statement through pg, then the service's bytes from bare node:http",
    name: 'the floor',
  },
] as const;

/**
 * The other ways to serve a list (see `reference-server.ts`), in a child process; `body` is the
 * service's answer, which `/floor` sends.
 */
export async function startReferenceServer(
  input: Omit<ReferenceServerInput, 'bodyFile'>,
  body: Buffer,
): Promise<RunningServer> {
  // A file, not an argument: a page of 500 rows is longer than one argument may be.
  const folder = await mkdtemp(join(tmpdir(), 'obs-bench-body-'));
  const bodyFile = join(folder, 'body.json');
  await writeFile(bodyFile, body);
  const server = await forkServer('bench/lib/reference-server.ts', { ...input, bodyFile }).catch(
    async (error: unknown) => {
      await rm(folder, { recursive: true, force: true });
      throw error;
    },
  );
  return {
    ...server,
    stop: async () => {
      await server.stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** A server module of the bench in a child process, which sends its port once it listens. */
async function forkServer(projectFile: string, input: unknown): Promise<RunningServer> {
  const child = forkChild(await compiledPath(projectFile), input);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`${projectFile} exited with code ${code}`)));
  });
  return { origin: `http://127.0.0.1:${port}`, pid: child.pid as number, stop: () => stopChild(child) };
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One kept-alive connection, as a client making one request after another would use. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

export function get(url: string, headers: Record<string, string>): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

/** The headers of an answer worth replaying byte for byte (not those of the connection). */
export function replayableHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const skip = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !skip.has(name)) kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

export async function timeMs(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/** The nearest-rank percentile (0 < p <= 1) of `samples`. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

/** A statement's name when the baseline prepares it: the same text always gets the same name. */
const statementName = (text: string) => `bench_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;

/**
 * Runs `statements` one after the other on `client`, as the service runs them for a request:
 * prepared (the service's reads are prepared statements, which PostgreSQL parses once per
 * connection and may keep a generic plan for) and read as arrays, as drizzle reads them.
 */
export async function runStatements(client: pg.ClientBase | pg.Pool, statements: Statement[]) {
  let rows = 0;
  for (const statement of statements) {
    const result = await client.query({
      name: statementName(statement.text),
      text: statement.text,
      values: statement.values,
      rowMode: 'array',
    });
    rows = result.rowCount ?? 0;
  }
  return rows;
}

/** A rate, and the CPU time per unit of work spent by the client side and by PostgreSQL, where readable. */
export interface Throughput {
  perSecond: number;
  /** The service process (HTTP) or the bench process running the pg pool (driver). */
  clientCpuMsEach: number | null;
  /** The part of it spent in the kernel (HTTP only). */
  clientSystemMsEach: number | null;
  /** The PostgreSQL backends of the bench database. */
  databaseCpuMsEach: number | null;
  /** Minor page faults of the server's processes (HTTP only; see `ProcessUsage`). */
  pageFaultsEach: number | null;
  /** The bench process, which runs autocannon (HTTP only): the load generator's share of the cores. */
  loadCpuMsEach: number | null;
  /** All the machine's cores, whoever used them (the kernel's network stack too), from /proc/stat. */
  machineCpuMsEach: number | null;
  /** The share of the cores' time that was used during the run. */
  machineBusy: number | null;
}

/** The machine's CPU per unit of work between two readings, and how busy its cores were. */
function machineUse(before: MachineCpu | null, after: MachineCpu | null, units: number) {
  if (before === null || after === null || units === 0 || after.totalMs <= before.totalMs) {
    return { machineCpuMsEach: null, machineBusy: null };
  }
  const busyMs = after.busyMs - before.busyMs;
  return { machineCpuMsEach: busyMs / units, machineBusy: busyMs / (after.totalMs - before.totalMs) };
}

const perUnit = (before: number | null, after: number | null, units: number) =>
  before === null || after === null || units === 0 ? null : (after - before) / units;

/**
 * Requests per second over HTTP: autocannon, `CONCURRENCY` kept-alive connections, for `seconds`;
 * with `server`'s CPU and page faults and the database's CPU per request when they can be read.
 */
export async function httpThroughput(
  url: string,
  headers: Record<string, string>,
  seconds: number,
  measured?: { server: RunningServer; monitor: pg.Client },
): Promise<Throughput> {
  const serverBefore = measured ? await treeUsage(measured.server.pid) : null;
  const databaseBefore = measured ? await backendsCpuMs(measured.monitor) : null;
  const machineBefore = await machineCpu();
  const loadBefore = process.cpuUsage();
  const result = await autocannon({ url, headers, connections: CONCURRENCY, duration: seconds });
  const load = process.cpuUsage(loadBefore);
  const machineAfter = await machineCpu();
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0) throw new Error(`${url}: ${failed} of ${result.requests.total} requests failed`);
  const n = result.requests.total;
  const serverAfter = measured ? await treeUsage(measured.server.pid) : null;
  return {
    perSecond: n / result.duration,
    clientCpuMsEach: perUnit(serverBefore?.cpuMs ?? null, serverAfter?.cpuMs ?? null, n),
    clientSystemMsEach: perUnit(serverBefore?.systemMs ?? null, serverAfter?.systemMs ?? null, n),
    pageFaultsEach: perUnit(serverBefore?.minorFaults ?? null, serverAfter?.minorFaults ?? null, n),
    loadCpuMsEach: perUnit(0, (load.user + load.system) / 1000, n),
    ...machineUse(machineBefore, machineAfter, n),
    databaseCpuMsEach:
      measured && databaseBefore
        ? perUnit(0, backendsDelta(databaseBefore, await backendsCpuMs(measured.monitor)), n)
        : null,
  };
}

/** The driver baseline, up and warm between its measured windows (see `driver-child.ts`). */
export interface DriverBaseline {
  /** Statements per second over `seconds`, with the CPU per run of its processes and of the database. */
  run(seconds: number): Promise<Throughput>;
  stop(): Promise<void>;
}

/**
 * The statements through the driver: `processes` child processes whose pools hold `CONCURRENCY`
 * clients in all, each client running `statements` in a loop, warmed for `warmUpSeconds`, then
 * measured in windows on demand, between which they stay connected and idle. One Node process
 * parses rows on one core, so a baseline with as many processes as the service has workers is the
 * like-for-like one.
 */
export async function startDriverBaseline(
  databaseUrl: string,
  statements: Statement[],
  options: { warmUpSeconds: number; processes: number; monitor?: pg.Client },
): Promise<DriverBaseline> {
  const { warmUpSeconds, processes, monitor } = options;
  const module = await compiledPath('bench/lib/driver-child.ts');
  const children = Array.from({ length: processes }, (_, i) => {
    const input: DriverChildInput = {
      databaseUrl,
      statements,
      clients: Math.floor(CONCURRENCY / processes) + (i < CONCURRENCY % processes ? 1 : 0),
      warmUpSeconds,
    };
    return forkChild(module, input);
  });
  // Asked to stop, each closes its connections before it exits; killed if it cannot be asked.
  const stopOne = (child: ChildProcess) =>
    child.connected && child.exitCode === null
      ? new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.send({ stop: true } satisfies DriverCommand);
        })
      : stopChild(child);
  const stopAll = () => Promise.all(children.map(stopOne)).then(() => {});
  try {
    await Promise.all(children.map((child) => nextReport(child)));
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    async run(seconds) {
      const databaseBefore = monitor ? await backendsCpuMs(monitor) : null;
      const command: DriverCommand = { run: { seconds } };
      const machineBefore = await machineCpu();
      const windows = await Promise.all(
        children.map((child) => {
          const answer = nextReport(child);
          child.send(command);
          return answer;
        }),
      );
      const machineAfter = await machineCpu();
      const databaseCpu =
        monitor && databaseBefore ? backendsDelta(databaseBefore, await backendsCpuMs(monitor)) : null;
      const done = windows.reduce((sum, window) => sum + (window as DriverWindow).done, 0);
      const clientCpu = windows.reduce((sum, window) => sum + (window as DriverWindow).cpuMs, 0);
      return {
        perSecond: done / seconds,
        clientCpuMsEach: done > 0 ? clientCpu / done : null,
        clientSystemMsEach: null,
        databaseCpuMsEach: databaseCpu === null ? null : perUnit(0, databaseCpu, done),
        pageFaultsEach: null,
        loadCpuMsEach: null,
        ...machineUse(machineBefore, machineAfter, done),
      };
    },
    stop: stopAll,
  };
}

/** The next report of a driver child: `ready` or a window; its error, or its exit, rejects. */
function nextReport(child: ChildProcess): Promise<DriverWindow | null> {
  return new Promise((resolve, reject) => {
    const onMessage = (report: DriverReport) => {
      child.off('exit', onExit);
      if ('error' in report) reject(new Error(`driver baseline: ${report.error}`));
      else resolve('window' in report ? report.window : null);
    };
    const onExit = (code: number | null) => {
      child.off('message', onMessage);
      reject(new Error(`driver baseline exited with code ${code}`));
    };
    child.once('message', onMessage);
    child.once('exit', onExit);
  });
}
