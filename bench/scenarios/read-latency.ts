/**
 * Read latency as the table grows: the first page (500 rows) of `GET /api/banking/transactions`,
 * unfiltered and with each filter, over HTTP from the service (`npm start`, a child process)
 * against the very statement the service runs, sent through `pg` (the database's own time plus
 * the driver's); then the account details at the largest size. Each size (10,000 rows, then
 * 100,000 and 1,000,000 older ones loaded by COPY) is a database of its own with a service of
 * its own, all holding the same newest rows, and each page is measured at every size in turn,
 * so a flat figure means the page costs the same whatever lies behind it, measured in the same
 * minutes rather than a load apart on a VM whose speed drifts.
 *
 * With `BENCH_EXPLAIN=<file>`, the `EXPLAIN (ANALYZE, BUFFERS)` of every statement measured is
 * written to that file at the largest size.
 */
import { writeFile } from 'node:fs/promises';
import type pg from 'pg';
import { createAccountsService } from '../../src/banking/accounts/service.js';
import type { ListTransactionsInput } from '../../src/banking/transactions/schemas.js';
import { createTransactionsService } from '../../src/banking/transactions/service.js';
import { captureStatements, type Statement } from '../lib/capture.js';
import { connectClient } from '../lib/database.js';
import { count } from '../lib/format.js';
import {
  get,
  percentile,
  REFERENCE_SERVERS,
  type RunningServer,
  runStatements,
  startReferenceServer,
  startService,
  timeMs,
} from '../lib/http-load.js';
import { createReadTeam, growHistory, type ReadTeam, STEP_MS } from '../lib/read-data.js';
import { type ReadVariant, readVariants } from '../lib/read-variants.js';
import type { BenchContext, Row, Scenario } from '../lib/types.js';

const SIZES = { quick: [10_000, 100_000], full: [10_000, 100_000, 1_000_000] };
const SAMPLES = { quick: 60, full: 200 };
const WARM_UP = 10;
/** Consecutive samples of one side before the next side's (`measureInTurn`). */
const BLOCK = 10;
const PAGE = 500;
const RATIO_TARGET = 1.5;
const FLAT_TARGET = 1.5;
const DETAILS_TARGET_MS = 20;

interface Latency {
  http: number[];
  driver: number[];
  /** Rows of the first answer over HTTP, and of the first run of the statement. */
  httpRows: number;
  driverRows: number;
}

const rowsOf = (body: Buffer) => (JSON.parse(body.toString('utf8')) as unknown[]).length;
const p50 = (samples: number[]) => percentile(samples, 0.5);
const p99 = (samples: number[]) => percentile(samples, 0.99);
const ms = (value: number) => ({ value, unit: 'ms' }) as const;

/**
 * `samples` timed runs of each of `runs`, one of each in turn after `WARM_UP` unmeasured rounds,
 * so that the rest of the machine weighs on all alike.
 */
async function sideBySide<Name extends string>(samples: number, runs: Record<Name, () => Promise<unknown>>) {
  const entries = Object.entries(runs) as [Name, () => Promise<unknown>][];
  const timings = new Map(entries.map(([name]) => [name, [] as number[]]));
  for (let i = 0; i < WARM_UP + samples; i++) {
    for (const [name, run] of entries) {
      const elapsed = await timeMs(run);
      if (i >= WARM_UP) timings.get(name)?.push(elapsed);
    }
  }
  return timings;
}

/** One side of a latency figure: requests over HTTP beside the statements they run, through pg. */
interface Side {
  name: string;
  request: () => Promise<Buffer>;
  countRows: (body: Buffer) => number;
  client: pg.Client;
  statements: Statement[];
}

/**
 * `samples` requests over HTTP, each followed by a run of its statements through pg, for each
 * side, in blocks of `BLOCK` per side taken in turn (after `WARM_UP` unmeasured of each): a
 * machine that speeds up or slows down weighs on every side alike, while each block runs on a
 * warm process (one request to each side in turn measured every process cold, and every ratio
 * over HTTP higher). Each figure's HTTP and statement answers check each other's row count.
 */
async function measureInTurn(samples: number, sides: Side[]): Promise<Map<string, Latency>> {
  const results = new Map<string, Latency>();
  for (const side of sides) {
    results.set(side.name, {
      http: [],
      driver: [],
      // Parsed once, outside the measured requests: reading the JSON is the client's work.
      httpRows: side.countRows(await side.request()),
      // The rows of the list's statement; an empty page's id lookups (below) follow it.
      driverRows: await runStatements(side.client, side.statements.slice(0, 1)),
    });
  }
  const runs = async (side: Side, times: number, measured: boolean) => {
    const result = results.get(side.name) as Latency;
    for (let i = 0; i < times; i++) {
      const http = await timeMs(side.request);
      const driver = await timeMs(() => runStatements(side.client, side.statements));
      if (measured) {
        result.http.push(http);
        result.driver.push(driver);
      }
    }
  };
  for (const side of sides) await runs(side, WARM_UP, false);
  for (let taken = 0; taken < samples; taken += BLOCK) {
    for (const side of sides) await runs(side, Math.min(BLOCK, samples - taken), true);
  }
  return results;
}

/** One size of the history: its own database, team, service and pg client. */
interface Site {
  size: number;
  database: BenchContext['database'];
  team: ReadTeam;
  variants: ReadVariant[];
  client: pg.Client;
  service: RunningServer;
}

export const readLatency: Scenario = {
  name: 'read-latency',
  async run({ full, database, newDatabase, log }) {
    const sizes = full ? SIZES.full : SIZES.quick;
    const samples = full ? SAMPLES.full : SAMPLES.quick;
    const largest = sizes.at(-1) as number;
    const newest = new Date();
    const clients: pg.Client[] = [];
    const services: RunningServer[] = [];
    const firstPage = (site: Site, variant: ReadVariant) => {
      const query = new URLSearchParams({ teamId: site.team.teamId, ...variant.query });
      const authorization = `Bearer ${site.team.apiKey}`;
      return async () => {
        const answer = await get(`${site.service.origin}/api/banking/transactions?${query}`, {
          authorization,
        });
        if (answer.status !== 200) throw new Error(`${variant.name}: ${answer.status} ${answer.body}`);
        return answer.body;
      };
    };
    const statementsOf = (site: Site, variant: ReadVariant) =>
      captureStatements(site.database.url, (db) =>
        createTransactionsService(db).list(site.team.teamId, {
          teamId: site.team.teamId,
          ...variant.query,
        } as ListTransactionsInput),
      );

    const bySize = new Map<number, Map<string, Latency>>(sizes.map((size) => [size, new Map()]));
    let site: Site | undefined;
    const explained: string[] = [];
    let details: Latency | undefined;
    /** The first page unfiltered at the largest size, beside other ways to serve it. */
    const measureAlternatives = async (
      client: pg.Client,
      service: () => Promise<Buffer>,
      statements: Statement[],
    ) => {
      const reference = await startReferenceServer(
        {
          databaseUrl: database.url,
          connections: 1,
          processes: 1,
          list: 'transactions',
          statement: statements[0] as Statement,
          page: PAGE,
        },
        await service(),
      );
      try {
        const fetchPage = (path: string) => async () => {
          const answer = await get(`${reference.origin}${path}`, {});
          if (answer.status !== 200) throw new Error(`${path}: ${answer.status}`);
          if (rowsOf(answer.body) !== PAGE) throw new Error(`${path}: not a page of ${PAGE} rows`);
        };
        for (const { path } of REFERENCE_SERVERS) await fetchPage(path)();
        return await sideBySide(samples, {
          service,
          driver: () => runStatements(client, statements),
          ...Object.fromEntries(
            REFERENCE_SERVERS.map(({ path }) => [path, () => get(`${reference.origin}${path}`, {})]),
          ),
        });
      } finally {
        await reference.stop();
      }
    };
    let alternatives: Map<string, number[]> | undefined;
    try {
      // One database per size, each with the same newest rows, so that the sizes' first pages
      // are measured in turn rather than minutes apart.
      const sites: Site[] = [];
      for (const size of sizes) {
        // The largest on the run's own database: the plans, the other servers and the account
        // details are measured there.
        const siteDatabase = size === largest ? database : await newDatabase();
        const team = await createReadTeam(siteDatabase.handle.db, newest);
        const client = await connectClient(siteDatabase.url);
        clients.push(client);
        log(`read-latency: loading ${count(size)} transactions by COPY`);
        await growHistory(client, team, size);
        const service = await startService(siteDatabase.url);
        services.push(service);
        sites.push({ size, database: siteDatabase, team, variants: readVariants(team), client, service });
      }
      site = sites.at(-1) as Site;
      for (const [index, variant] of site.variants.entries()) {
        const sides: Side[] = [];
        for (const each of sites) {
          const sameVariant = each.variants[index] as ReadVariant;
          const statements = await statementsOf(each, sameVariant);
          // One statement per page; a page that comes back empty with an accountId or connectionId
          // filter adds the lookups that tell a 404 from an empty list, and the baseline runs them too.
          const lookups = statements.slice(1);
          if (
            !statements[0] ||
            lookups.some((lookup) => !/^select .* from "(accounts|connections)"/.test(lookup.text))
          ) {
            throw new Error(`${variant.name}: ${statements.length} statements`);
          }
          sides.push({
            name: String(each.size),
            request: firstPage(each, sameVariant),
            countRows: rowsOf,
            client: each.client,
            statements,
          });
        }
        const results = await measureInTurn(samples, sides);
        for (const size of sizes) {
          const result = results.get(String(size)) as Latency;
          const { httpRows, driverRows } = result;
          if (httpRows !== Math.min(PAGE, driverRows)) {
            throw new Error(
              `${variant.name} at ${count(size)}: HTTP served ${httpRows} rows, the statement found ${driverRows}`,
            );
          }
          bySize.get(size)?.set(variant.name, result);
          log(
            `read-latency: ${count(size)} rows, ${variant.name}: ${httpRows} rows, p50 ` +
              `${p50(result.http).toFixed(2)} ms over HTTP, ${p50(result.driver).toFixed(2)} ms through pg`,
          );
        }
        if (process.env.BENCH_EXPLAIN) {
          explained.push(
            await explain(
              site.client,
              `GET /api/banking/transactions, ${variant.name}`,
              sides.at(-1)?.statements ?? [],
            ),
          );
        }
      }

      const { team, client, service } = site;
      const unfiltered = site.variants[0] as ReadVariant;
      alternatives = await measureAlternatives(
        client,
        firstPage(site, unfiltered),
        await statementsOf(site, unfiltered),
      );

      const accountId = team.accountIds[0] as string;
      const detailStatements = await captureStatements(database.url, (db) =>
        createAccountsService(db).details(team.teamId, accountId),
      );
      const detailsUrl = `${service.origin}/api/banking/accounts/${accountId}?teamId=${team.teamId}`;
      const authorization = `Bearer ${team.apiKey}`;
      const measured = await measureInTurn(samples, [
        {
          name: 'details',
          request: async () => {
            const answer = await get(detailsUrl, { authorization });
            if (answer.status !== 200) throw new Error(`account details: ${answer.status} ${answer.body}`);
            return answer.body;
          },
          countRows: (body) => {
            const { transactionCount } = JSON.parse(body.toString('utf8')) as { transactionCount: number };
            if (transactionCount !== largest / team.accountIds.length) {
              throw new Error(`account details: transactionCount ${transactionCount}`);
            }
            return 1;
          },
          client,
          statements: detailStatements,
        },
      ]);
      details = measured.get('details');
      if (process.env.BENCH_EXPLAIN) {
        explained.push(await explain(client, 'GET /api/banking/accounts/:id', detailStatements));
        const listStatements = await captureStatements(database.url, (db) =>
          createAccountsService(db).list(team.teamId),
        );
        explained.push(await explain(client, 'GET /api/banking/accounts', listStatements));
        const cursorStatements = await captureStatements(database.url, async (db) => {
          const page = await createTransactionsService(db).list(team.teamId, { teamId: team.teamId });
          if (!page.nextCursor) throw new Error('no second page');
          return createTransactionsService(db).list(team.teamId, {
            teamId: team.teamId,
            cursor: page.nextCursor,
          });
        });
        explained.push(
          await explain(
            client,
            'GET /api/banking/transactions, the page after a cursor',
            cursorStatements.slice(1),
          ),
        );
        await writeFile(
          process.env.BENCH_EXPLAIN,
          `# EXPLAIN (ANALYZE, BUFFERS) at ${count(largest)} rows\n\n${explained.join('\n')}`,
        );
        log(`read-latency: plans written to ${process.env.BENCH_EXPLAIN}`);
      }
    } finally {
      for (const service of services) await service.stop();
      for (const client of clients) await client.end();
    }
    // Every site was made, or the scenario has thrown.
    const { team, variants } = site as Site;

    const latencyAt = (size: number, variant: ReadVariant) => {
      const result = bySize.get(size)?.get(variant.name);
      if (!result) throw new Error(`no figure for ${variant.name} at ${size} rows`);
      return result;
    };
    const rows: Row[] = [];
    for (const variant of variants) {
      const result = latencyAt(largest, variant);
      const ratio = p50(result.http) / p50(result.driver);
      rows.push(
        {
          figure: `first page at ${count(largest)} rows, ${variant.name}: p50 over HTTP`,
          value: ms(p50(result.http)),
          baseline: { label: 'same SQL through pg, p50', value: ms(p50(result.driver)) },
          ratio,
          target: { text: `<= ${RATIO_TARGET.toFixed(1)}x`, pass: ratio <= RATIO_TARGET },
        },
        {
          figure: `  p99 over HTTP`,
          value: ms(p99(result.http)),
          baseline: { label: 'same SQL through pg, p99', value: ms(p99(result.driver)) },
          target: null,
        },
      );
    }
    if (alternatives) {
      const p50Of = (name: string) => p50(alternatives?.get(name) ?? []);
      const driver = p50Of('driver');
      const beside = (label: string, value: number) => ({
        figure: `${label}, p50`,
        value: ms(value),
        baseline: { label: 'same SQL through pg, p50', value: ms(driver) },
        target: null,
      });
      rows.push(
        beside(
          `first page at ${count(largest)} rows, unfiltered, in turn with other servers: the service`,
          p50Of('service'),
        ),
        ...REFERENCE_SERVERS.map(({ path, label }) => beside(`  ${label}`, p50Of(path))),
      );
    }
    const smallest = sizes[0] as number;
    for (const variant of variants) {
      const small = latencyAt(smallest, variant);
      for (const size of sizes.slice(1)) {
        const result = latencyAt(size, variant);
        const value = p50(result.http);
        const ratio = value / p50(small.http);
        // A rare filter fills less than a page of a small table: those pages are not the same work.
        const comparable = result.httpRows === small.httpRows;
        rows.push({
          figure:
            `first page p50 over HTTP, ${variant.name}, at ${count(size)} rows` +
            (comparable ? '' : ` (${result.httpRows} rows served, ${small.httpRows} at ${count(smallest)})`),
          value: ms(value),
          baseline: { label: `same at ${count(smallest)} rows`, value: ms(p50(small.http)) },
          ratio,
          target: comparable
            ? { text: `flat: <= ${FLAT_TARGET.toFixed(1)}x`, pass: ratio <= FLAT_TARGET }
            : null,
        });
      }
    }
    if (details) {
      const value = p50(details.http);
      rows.push(
        {
          figure: `account details at ${count(largest)} rows (${count(largest / team.accountIds.length)} in the account): p50 over HTTP`,
          value: ms(value),
          baseline: { label: 'same SQL through pg, p50', value: ms(p50(details.driver)) },
          target: {
            text: `< ${DETAILS_TARGET_MS} ms${full ? '' : ' (set for 1,000,000)'}`,
            pass: value < DETAILS_TARGET_MS,
          },
        },
        {
          figure: '  p99 over HTTP',
          value: ms(p99(details.http)),
          baseline: { label: 'same SQL through pg, p99', value: ms(p99(details.driver)) },
          target: null,
        },
      );
    }
    return {
      rows,
      notes: [
        `read-latency: ${samples} sequential requests per figure (after ${WARM_UP} unmeasured) over one kept-alive ` +
          'connection, each followed by a run of the statement the service sends (captured from its query log) ' +
          'through one pg client; HTTP time includes verifying the API key, serialisation and transfer of the body. ' +
          `Each size is a database and a service of its own; a page is measured at every size in turn, ${BLOCK} ` +
          'samples of one size before the next. ' +
          `The first page is ${PAGE} rows (fewer where fewer match: accountId+from+to, accountId+category=charity; none for the two marked "none", and an empty page with an accountId or connectionId filter adds the id lookups that tell a 404 from an empty list, which the baseline runs too). ` +
          `Data: ${team.accountIds.length} accounts over ${team.connectionIds.length} connections, one transaction every ` +
          `${(STEP_MS / 60_000).toFixed(1)} minutes going back from now.`,
        `read-latency: "in turn with other servers": the service, the statement through pg and ${REFERENCE_SERVERS.length} other servers ` +
          `(bench/lib/reference-server.ts, one child process, one pg connection) each answer the unfiltered first page ` +
          `once per round, ${samples} rounds after ${WARM_UP} unmeasured; the hand-written servers and the plain Fastify ` +
          "route run the service's statement and its row mapping (toTransactionView), so they differ from it by what the " +
          'service adds (the key check, validation, rate limit, security headers, request id, the Link header; and ' +
          'Fastify, for the hand-written ones) and, for JSON.stringify, by the serializer.',
      ],
    };
  },
};

async function explain(client: pg.Client, title: string, statements: Statement[]): Promise<string> {
  const parts = [`## ${title}\n`];
  for (const statement of statements) {
    // The plan the service gets: its statements are prepared, and PostgreSQL tries five custom
    // plans before it settles on a generic one.
    await client.query(`prepare explained as ${statement.text}`);
    const args = statement.values.map((value) => client.escapeLiteral(String(value)));
    const execute = `execute explained${args.length > 0 ? `(${args.join(', ')})` : ''}`;
    for (let i = 0; i < 6; i++) await client.query(execute);
    const plan = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${execute}`);
    await client.query('deallocate explained');
    parts.push('```sql', statement.text, `-- ${JSON.stringify(statement.values)}`, '```', '```');
    parts.push(...plan.rows.map((row) => row['QUERY PLAN']), '```', '');
  }
  return parts.join('\n');
}
