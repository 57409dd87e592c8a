/**
 * Read throughput: `GET /api/banking/accounts` and `GET /api/banking/transactions?limit=50` from
 * the service (`npm start`, a child process) with autocannon at 20 connections, against the very
 * statement each request runs sent through `pg` by a pool of 20 at the same concurrency (the
 * database's limit), and beside it a bare `node:http` server answering the same bytes (the HTTP
 * limit); each for the same duration, on a team of 1,000,000 transactions (`--full`).
 */
import { availableParallelism } from 'node:os';
import { createAccountsService } from '../../src/banking/accounts/service.js';
import { createTransactionsService } from '../../src/banking/transactions/service.js';
import type { BareHttpInput } from '../lib/bare-http.js';
import { captureStatements, type Statement } from '../lib/capture.js';
import { connectClient } from '../lib/database.js';
import { count } from '../lib/format.js';
import {
  CONCURRENCY,
  driverThroughput,
  get,
  httpThroughput,
  REFERENCE_SERVERS,
  type RunningServer,
  replayableHeaders,
  startBareHttp,
  startReferenceServer,
  startService,
  type Throughput,
} from '../lib/http-load.js';
import { createReadTeam, growHistory } from '../lib/read-data.js';
import type { ReferenceServerInput } from '../lib/reference-server.js';
import type { Row, Scenario } from '../lib/types.js';

const SIZES = { quick: 100_000, full: 1_000_000 };
const SECONDS = { quick: 5, full: 10 };
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

const cpu = (ms: number | null) => (ms === null ? 'n/a' : `${ms.toFixed(3)} ms`);
const perSecond = (value: number) => ({ value, unit: 'req/s' }) as const;

export const readThroughput: Scenario = {
  name: 'read-throughput',
  async run({ full, database, log }) {
    const size = full ? SIZES.full : SIZES.quick;
    const seconds = full ? SECONDS.full : SECONDS.quick;
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

        const measured: { workers: number; ours: Throughput; driver: Throughput }[] = [];
        for (const { workers, server } of services) {
          const processes = `${workers} process${workers === 1 ? '' : 'es'}`;
          log(
            `read-throughput: ${endpoint.name}, service, ${processes}, ${CONCURRENCY} connections, ${seconds} s`,
          );
          const ours = await warmedThroughput(`${server.origin}${endpoint.path}`, headers, seconds, {
            server,
            monitor,
          });
          log(
            `read-throughput: ${endpoint.name}, same SQL through pg, ${processes}, ${CONCURRENCY} clients, ${seconds} s`,
          );
          const driver = await driverThroughput(database.url, statements, {
            seconds,
            warmUpSeconds: WARM_UP_SECONDS,
            processes: workers,
            monitor,
          });
          measured.push({ workers, ours, driver });
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
        // Other servers of the same list, in one process against the driver in one.
        const reference = await startReferenceServer(
          {
            databaseUrl: database.url,
            connections: CONCURRENCY,
            statement: statements[0] as Statement,
            ...endpoint.reference,
          },
          sample.body,
        );
        const referenceRuns = new Map<string, Throughput>();
        try {
          for (const { path, label } of REFERENCE_SERVERS) {
            log(`read-throughput: ${endpoint.name}, ${label}`);
            referenceRuns.set(
              path,
              await warmedThroughput(`${reference.origin}${path}`, {}, seconds, {
                server: reference,
                monitor,
              }),
            );
          }
        } finally {
          await reference.stop();
        }
        const httpLimit = bareRuns.get('node:http') as Throughput;
        const fastifyAlone = bareRuns.get('fastify') as Throughput;

        for (const [i, { workers, ours, driver }] of measured.entries()) {
          const ratio = ours.perSecond / driver.perSecond;
          const processes = `${workers} process${workers === 1 ? '' : 'es'}`;
          const baseline = {
            label: `same SQL through pg, ${CONCURRENCY} clients in ${processes}`,
            value: perSecond(driver.perSecond),
          };
          rows.push(
            i === 0
              ? {
                  figure: `${endpoint.name} at ${count(size)} rows, ${CONCURRENCY} connections, ${seconds} s, ${processes}`,
                  value: perSecond(ours.perSecond),
                  baseline,
                  ratio,
                  target: { text: `>= ${(TARGET * 100).toFixed(0)}%`, pass: ratio >= TARGET },
                }
              : {
                  figure: `  the same from ${processes} (WEB_CONCURRENCY=${workers})`,
                  value: perSecond(ours.perSecond),
                  baseline,
                  ratio,
                  target: null,
                },
          );
          notes.push(
            `read-throughput: ${endpoint.name}, ${processes}: CPU per request: service ${cpu(ours.clientCpuMsEach)}, ` +
              `PostgreSQL ${cpu(ours.databaseCpuMsEach)}; per statement through pg: its ${processes} ` +
              `${cpu(driver.clientCpuMsEach)}, PostgreSQL ${cpu(driver.databaseCpuMsEach)}.`,
          );
        }
        const oneProcess = measured.find(({ workers }) => workers === 1);
        for (const { path, label } of oneProcess ? REFERENCE_SERVERS : []) {
          const run = referenceRuns.get(path) as Throughput;
          const driver = (oneProcess as (typeof measured)[number]).driver;
          rows.push({
            figure: `  ${label}, 1 process`,
            value: perSecond(run.perSecond),
            baseline: {
              label: `same SQL through pg, ${CONCURRENCY} clients in 1 process`,
              value: perSecond(driver.perSecond),
            },
            target: null,
          });
          notes.push(
            `read-throughput: ${endpoint.name}, ${label}: CPU per request: its process ` +
              `${cpu(run.clientCpuMsEach)}, PostgreSQL ${cpu(run.databaseCpuMsEach)}.`,
          );
        }
        const best = perSecond(Math.max(...measured.map(({ ours }) => ours.perSecond)));
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
      'read-throughput: autocannon runs in the bench process; the service and the bare server are child ' +
        `processes; each run follows ${WARM_UP_SECONDS} s unmeasured. The service verifies the API key of every ` +
        'request (its lookup cached for API_KEY_CACHE_TTL) and runs its reads as prepared statements, as the ' +
        `baseline does. With ${cores} cores the target row is the service at WEB_CONCURRENCY=${cores} against the ` +
        `driver in as many processes (a Node process parses rows on one core), each side with ${CONCURRENCY} ` +
        'connections in all; the row below it is one process against one. Autocannon, the service and ' +
        'PostgreSQL share the cores; the driver processes and PostgreSQL share them during their runs.',
    );
    return { rows, notes };
  },
};
