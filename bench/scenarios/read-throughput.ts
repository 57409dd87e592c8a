/**
 * Read throughput: `GET /api/banking/accounts` and `GET /api/banking/transactions?limit=50` from
 * the service (`npm start`, a child process) with autocannon at 20 connections, against the very
 * statement each request runs sent through `pg` by a pool of 20 at the same concurrency (the
 * database's limit), on a team of 1,000,000 transactions (`--full`). Other servers of the same
 * list, and bare servers answering the same bytes (the HTTP limit), stand beside it.
 *
 * Rounds alternate the driver and the servers measured against it, each run as long, and each
 * ratio is the median of the rounds' ratios: a pause of the machine during one run then moves one
 * round, not the figure.
 */
import { availableParallelism } from 'node:os';
import type pg from 'pg';
import { createAccountsService } from '../../src/banking/accounts/service.js';
import { createTransactionsService } from '../../src/banking/transactions/service.js';
import type { BareHttpInput } from '../lib/bare-http.js';
import { captureStatements, type Statement } from '../lib/capture.js';
import { serverBudgetMs } from '../lib/cpu-budget.js';
import { connectClient } from '../lib/database.js';
import { count, formatRatio } from '../lib/format.js';
import {
  CONCURRENCY,
  get,
  httpThroughput,
  percentile,
  REFERENCE_SERVERS,
  type RunningServer,
  replayableHeaders,
  startBareHttp,
  startDriverBaseline,
  startReferenceServer,
  startService,
  type Throughput,
} from '../lib/http-load.js';
import { createReadTeam, growHistory } from '../lib/read-data.js';
import type { ReferenceServerInput } from '../lib/reference-server.js';
import type { Row, Scenario } from '../lib/types.js';

const SIZES = { quick: 100_000, full: 1_000_000 };
const SECONDS = { quick: 5, full: 10 };
const ROUNDS = { quick: 2, full: 3 };
const WARM_UP_SECONDS = 2;
const TARGET = 0.7;

/** A measured run of `seconds` after `WARM_UP_SECONDS` unmeasured on the same URL. */
async function warmedThroughput(
  url: string,
  headers: Record<string, string>,
  seconds: number,
  measured: Parameters<typeof httpThroughput>[3],
): Promise<Throughput> {
  await httpThroughput(url, headers, WARM_UP_SECONDS);
  return httpThroughput(url, headers, seconds, measured);
}

/** A server measured against the driver. */
interface Contender {
  label: string;
  /** Short, for notes. */
  name: string;
  url: string;
  headers: Record<string, string>;
  server: RunningServer;
}

/** A contender's runs, one a round, and its ratio to the driver's run of the same round. */
interface Measured {
  label: string;
  name: string;
  runs: Throughput[];
  ratios: number[];
}

/**
 * `rounds` rounds of the statements through the driver (in `workers` processes) and of each
 * contender, `seconds` each, in the opposite order every other round, so that a machine slowing
 * down or speeding up during a round favours no side. Each contender's run follows its own
 * `WARM_UP_SECONDS` unmeasured: a pool left idle while the others ran has closed its connections.
 */
async function alternate(
  contenders: Contender[],
  options: {
    databaseUrl: string;
    statements: Statement[];
    workers: number;
    rounds: number;
    seconds: number;
    monitor: pg.Client;
  },
): Promise<{ driver: Throughput[]; contenders: Measured[] }> {
  const { databaseUrl, statements, workers, rounds, seconds, monitor } = options;
  const driver = await startDriverBaseline(databaseUrl, statements, {
    warmUpSeconds: WARM_UP_SECONDS,
    processes: workers,
    monitor,
  });
  const driverRuns: Throughput[] = [];
  const runs = contenders.map(() => [] as Throughput[]);
  try {
    for (let round = 0; round < rounds; round++) {
      const order = [-1, ...contenders.keys()];
      if (round % 2 === 1) order.reverse();
      for (const index of order) {
        const contender = contenders[index];
        if (!contender) driverRuns.push(await driver.run(seconds));
        else {
          const { url, headers, server } = contender;
          runs[index]?.push(await warmedThroughput(url, headers, seconds, { server, monitor }));
        }
      }
    }
  } finally {
    await driver.stop();
  }
  return {
    driver: driverRuns,
    contenders: contenders.map(({ label, name }, index) => {
      const own = runs[index] as Throughput[];
      return {
        label,
        name,
        runs: own,
        ratios: own.map((run, round) => run.perSecond / (driverRuns[round] as Throughput).perSecond),
      };
    }),
  };
}

/** The lower middle value (nearest rank). */
const median = (values: number[]) => percentile(values, 0.5);

/** Runs of the same length as one: their median rate, and their CPU per request over all of them. */
function pooled(runs: Throughput[]): Throughput {
  const weighted = (each: (run: Throughput) => number | null) => {
    let cpuMs = 0;
    let requests = 0;
    for (const run of runs) {
      const ms = each(run);
      if (ms === null) return null;
      cpuMs += ms * run.perSecond;
      requests += run.perSecond;
    }
    return requests > 0 ? cpuMs / requests : null;
  };
  return {
    perSecond: median(runs.map((run) => run.perSecond)),
    clientCpuMsEach: weighted((run) => run.clientCpuMsEach),
    clientSystemMsEach: weighted((run) => run.clientSystemMsEach),
    databaseCpuMsEach: weighted((run) => run.databaseCpuMsEach),
    pageFaultsEach: weighted((run) => run.pageFaultsEach),
    loadCpuMsEach: weighted((run) => run.loadCpuMsEach),
    machineCpuMsEach: weighted((run) => run.machineCpuMsEach),
    machineBusy: weighted((run) => run.machineBusy),
  };
}

const processesOf = (workers: number) => `${workers} process${workers === 1 ? '' : 'es'}`;
const cpu = (ms: number | null) => (ms === null ? 'n/a' : `${ms.toFixed(3)} ms`);
const faults = (each: number | null) =>
  each === null ? 'page faults n/a' : `${each.toFixed(2)} page faults`;
const kernel = (ms: number | null) => (ms === null ? '' : `${cpu(ms)} of it in the kernel, `);
const perSecond = (value: number) => ({ value, unit: 'req/s' }) as const;
const microseconds = (ms: number) => ({ value: ms * 1000, unit: 'µs' }) as const;
const percent = (share: number) => `${(share * 100).toFixed(0)}%`;
/** How busy the machine's cores were in `runs`, and what all of them spent per request. */
const machine = (runs: Throughput) =>
  runs.machineBusy === null
    ? ''
    : `; the machine's cores busy ${percent(runs.machineBusy)}, ${cpu(runs.machineCpuMsEach)} of their CPU per request`;

/** One round's budget: the CPU per request 70% of that round's driver rate leaves a server. */
interface RoundBudget {
  rate: number;
  budgetMs: number;
  /** The driver's own CPU per statement in that round. */
  driverMs: number;
  /** The service's own CPU per request in that round. */
  serviceMs: number | null;
  /** The run whose rest of the machine (all but the server's processes) cost least per request. */
  cheapest: { name: string; run: Throughput; restMs: number };
}

/**
 * Each round's budget, from the driver's rate and the least that the rest of the machine spent per
 * request beside any server of that round. PostgreSQL's CPU per statement differs from one
 * server's run to the next, often less beside the faster ones; taking the least makes the budget
 * the most any server may spend, not what the slowest one was left.
 */
function budgetRounds(driver: Throughput[], contenders: Measured[], cores: number): RoundBudget[] | null {
  const rounds: RoundBudget[] = [];
  for (const [round, driverRun] of driver.entries()) {
    if (driverRun.clientCpuMsEach === null) return null;
    let cheapest: RoundBudget['cheapest'] | null = null;
    for (const { name, runs } of contenders) {
      const run = runs[round];
      if (!run || run.clientCpuMsEach === null || run.machineCpuMsEach === null) return null;
      const restMs = run.machineCpuMsEach - run.clientCpuMsEach;
      if (!cheapest || restMs < cheapest.restMs) cheapest = { name, run, restMs };
    }
    if (!cheapest) return null;
    const rate = TARGET * driverRun.perSecond;
    rounds.push({
      rate,
      budgetMs: serverBudgetMs(rate, cores, cheapest.restMs),
      driverMs: driverRun.clientCpuMsEach,
      serviceMs: contenders[0]?.runs[round]?.clientCpuMsEach ?? null,
      cheapest,
    });
  }
  return rounds.length > 0 ? rounds : null;
}

function describeRound({ rate, budgetMs, driverMs, serviceMs, cheapest }: RoundBudget): string {
  const { name, run, restMs } = cheapest;
  const database = run.databaseCpuMsEach ?? 0;
  const load = run.loadCpuMsEach ?? 0;
  return (
    `${count(rate)} req/s leave ${cpu(budgetMs)}, the rest of the machine taking at least ${cpu(restMs)} ` +
    `(beside ${name}: PostgreSQL ${cpu(database)}, autocannon ${cpu(load)}, the kernel and the ` +
    `rest ${cpu(restMs - database - load)}); the service spent ${cpu(serviceMs)}, the driver ${cpu(driverMs)} of its own`
  );
}

export const readThroughput: Scenario = {
  name: 'read-throughput',
  async run({ full, database, log }) {
    const size = full ? SIZES.full : SIZES.quick;
    const seconds = full ? SECONDS.full : SECONDS.quick;
    const rounds = full ? ROUNDS.full : ROUNDS.quick;
    const team = await createReadTeam(database.handle.db, new Date());
    // Loads the data, then reads the CPU time of the database's backends during each run.
    const monitor = await connectClient(database.url);
    log(`read-throughput: loading ${count(size)} transactions by COPY`);
    await growHistory(monitor, team, size).catch(async (error: unknown) => {
      await monitor.end();
      throw error;
    });

    const endpoints: {
      name: string;
      path: string;
      capture: () => Promise<Statement[]>;
      reference: Pick<ReferenceServerInput, 'list' | 'page'>;
    }[] = [
      {
        name: 'GET /api/banking/accounts',
        path: `/api/banking/accounts?teamId=${team.teamId}`,
        reference: { list: 'accounts' },
        capture: () => captureStatements(database.url, (db) => createAccountsService(db).list(team.teamId)),
      },
      {
        name: 'GET /api/banking/transactions?limit=50',
        path: `/api/banking/transactions?teamId=${team.teamId}&limit=50`,
        reference: { list: 'transactions', page: 50 },
        capture: () =>
          captureStatements(database.url, (db) =>
            createTransactionsService(db).list(team.teamId, { teamId: team.teamId, limit: 50 }),
          ),
      },
    ];
    const headers = { authorization: `Bearer ${team.apiKey}` };
    const rows: Row[] = [];
    const notes: string[] = [];
    const budgetNotes: string[] = [];
    // The service as a deployment on this machine runs it, one process per core, and as one
    // process (`npm start`'s default), which is what a core of it serves.
    const cores = availableParallelism();
    const deployments = [...new Set([cores, 1])];
    const services: { workers: number; server: RunningServer }[] = [];
    try {
      for (const workers of deployments) {
        services.push({ workers, server: await startService(database.url, workers) });
      }
      for (const endpoint of endpoints) {
        const statements = await endpoint.capture();
        if (statements.length !== 1) throw new Error(`${endpoint.name}: ${statements.length} statements`);
        const origin = (services[0] as { server: RunningServer }).server.origin;
        const sample = await get(`${origin}${endpoint.path}`, headers);
        if (sample.status !== 200) throw new Error(`${endpoint.name}: ${sample.status} ${sample.body}`);

        // The reference servers run with as many processes as the service beside them, against the
        // driver in as many.
        const measured: { workers: number; driver: Throughput[]; contenders: Measured[] }[] = [];
        for (const { workers, server } of services) {
          const reference = await startReferenceServer(
            {
              databaseUrl: database.url,
              connections: CONCURRENCY,
              processes: workers,
              statement: statements[0] as Statement,
              ...endpoint.reference,
            },
            sample.body,
          );
          try {
            const contenders: Contender[] = [
              {
                label: 'service',
                name: 'the service',
                url: `${server.origin}${endpoint.path}`,
                headers,
                server,
              },
              ...REFERENCE_SERVERS.map(({ path, label, name }) => ({
                label,
                name,
                url: `${reference.origin}${path}`,
                headers: {},
                server: reference,
              })),
            ];
            log(
              `read-throughput: ${endpoint.name}, ${processesOf(workers)}: ${rounds} rounds of ${seconds} s ` +
                `each, the same SQL through pg then ${contenders.map(({ label }) => label).join(', then ')}`,
            );
            measured.push({
              workers,
              ...(await alternate(contenders, {
                databaseUrl: database.url,
                statements,
                workers,
                rounds,
                seconds,
                monitor,
              })),
            });
          } finally {
            await reference.stop();
          }
        }

        // The HTTP limit, and what Fastify costs before any work: each a child process answering
        // the service's bytes.
        const bareRuns = new Map<BareHttpInput['framework'], Throughput>();
        for (const framework of ['node:http', 'fastify'] as const) {
          log(
            `read-throughput: ${endpoint.name}, bare ${framework} answering the same ${sample.body.length} bytes`,
          );
          const bare = await startBareHttp(framework, sample.body, replayableHeaders(sample.headers));
          try {
            bareRuns.set(
              framework,
              await warmedThroughput(`${bare.origin}${endpoint.path}`, headers, seconds, {
                server: bare,
                monitor,
              }),
            );
          } finally {
            await bare.stop();
          }
        }
        const httpLimit = bareRuns.get('node:http') as Throughput;
        const fastifyAlone = bareRuns.get('fastify') as Throughput;

        for (const [i, { workers, driver, contenders }] of measured.entries()) {
          const baseline = {
            label: `same SQL through pg, ${CONCURRENCY} clients in ${processesOf(workers)}`,
            value: perSecond(median(driver.map((run) => run.perSecond))),
          };
          const pgCpu = pooled(driver);
          for (const [c, contender] of contenders.entries()) {
            const ratio = median(contender.ratios);
            const value = perSecond(median(contender.runs.map((run) => run.perSecond)));
            const figure =
              c > 0
                ? `  ${contender.label}, ${processesOf(workers)}`
                : i === 0
                  ? `${endpoint.name} at ${count(size)} rows, ${CONCURRENCY} connections, ${seconds} s, ${processesOf(workers)}`
                  : `  the same from ${processesOf(workers)} (WEB_CONCURRENCY=${workers})`;
            const target =
              c === 0 && i === 0 ? { text: `>= ${(TARGET * 100).toFixed(0)}%`, pass: ratio >= TARGET } : null;
            rows.push({ figure, value, baseline, ratio, target });
            const own = pooled(contender.runs);
            notes.push(
              `read-throughput: ${endpoint.name}, ${contender.label}, ${processesOf(workers)}: ratio in each ` +
                `round ${contender.ratios.map(formatRatio).join(', ')}; CPU per request: its processes ` +
                `${cpu(own.clientCpuMsEach)} (${kernel(own.clientSystemMsEach)}${faults(own.pageFaultsEach)}), PostgreSQL ` +
                `${cpu(own.databaseCpuMsEach)}, autocannon ${cpu(own.loadCpuMsEach)}${machine(own)}` +
                (c === 0
                  ? `. Per statement through pg: its processes ${cpu(pgCpu.clientCpuMsEach)}, PostgreSQL ` +
                    `${cpu(pgCpu.databaseCpuMsEach)}${machine(pgCpu)}.`
                  : '.'),
            );
            // Under the target row, what the target leaves any server on this machine, round by
            // round as the ratios are, beside what the driver alone spends per statement.
            const budgets = c === 0 && i === 0 ? budgetRounds(driver, contenders, cores) : null;
            if (budgets) {
              rows.push({
                figure: `  CPU per request left to a server at ${percent(TARGET)} of the driver on these ${cores} cores`,
                value: microseconds(median(budgets.map((round) => round.budgetMs))),
                baseline: {
                  label: "the driver's own CPU per statement",
                  value: microseconds(median(budgets.map((round) => round.driverMs))),
                },
                ratio: median(budgets.map((round) => round.budgetMs / round.driverMs)),
                target: null,
              });
              budgetNotes.push(
                `read-throughput: ${endpoint.name}, CPU per request left to a server at ${percent(TARGET)} of the ` +
                  `driver, in each round: ${budgets.map(describeRound).join('; ')}.`,
              );
            }
          }
        }
        const best = perSecond(
          Math.max(
            ...measured.map(({ contenders }) =>
              median((contenders[0] as Measured).runs.map((run) => run.perSecond)),
            ),
          ),
        );
        rows.push(
          {
            figure: `  the service's best, beside the HTTP limit`,
            value: best,
            baseline: { label: 'bare node:http, same bytes', value: perSecond(httpLimit.perSecond) },
            target: null,
          },
          {
            figure: `  the service's best, beside Fastify doing nothing else`,
            value: best,
            baseline: { label: 'bare Fastify route, same bytes', value: perSecond(fastifyAlone.perSecond) },
            target: null,
          },
        );
        notes.push(
          `read-throughput: ${endpoint.name} answers ${count(sample.body.length)} bytes. CPU per request of a ` +
            `bare server answering them: node:http ${cpu(httpLimit.clientCpuMsEach)}, Fastify ` +
            `${cpu(fastifyAlone.clientCpuMsEach)}.`,
        );
      }
    } finally {
      for (const { server } of services) await server.stop();
      await monitor.end();
    }
    notes.push(
      'read-throughput: autocannon runs in the bench process; the service, the other servers and the bare ' +
        'servers are child processes, and each run follows ' +
        `${WARM_UP_SECONDS} s unmeasured. ${rounds} rounds alternate the driver and the servers ` +
        'measured against it (in the opposite order every other round); a row shows the median rate of each ' +
        "side and the median of the rounds' ratios. The service verifies the API key of every " +
        'request (its lookup cached for API_KEY_CACHE_TTL) and runs its reads as prepared statements, as the ' +
        `baseline does. With ${cores} cores the target row is the service at WEB_CONCURRENCY=${cores} against the ` +
        `driver in as many processes (a Node process parses rows on one core), each side with ${CONCURRENCY} ` +
        'connections in all, and the other servers beside it run in as many processes; the rows after them are one ' +
        'process against one. Autocannon, the server measured and ' +
        'PostgreSQL share the cores; the driver processes and PostgreSQL share them during their runs.',
      'read-throughput: "CPU per request left to a server": a rate is at most the CPU time of the cores divided by ' +
        'what one request costs the whole machine (the server, PostgreSQL, autocannon, the kernel: /proc/stat). At ' +
        'the target rate, the cores less the least that the rest of the machine spent per request beside any server ' +
        "of the round leave that much for the server's processes: a server that spends more cannot reach the " +
        'target here, and one that spends less may still be held back by something else (the cores were not ' +
        "always all busy). A server runs the same statement through pg, so where this is below the driver's own CPU " +
        'per statement no server that sends it through pg reaches the target on this machine, whatever else it does or leaves out.',
      ...budgetNotes,
    );
    return { rows, notes };
  },
};
