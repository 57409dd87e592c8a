/**
 * Other ways to serve the lists the bench measures, beside the service, so the bench shows what
 * any HTTP server in Node pays here and not only what the driver does. A child process of
 * `node:http` and a `pg` pool on the bench database, running the service's captured statement:
 *
 * - `/floor`: the statement (prepared, rows as arrays, as the driver baseline runs it), then the
 *   body captured from the service: what HTTP adds when nothing is mapped or serialised;
 * - `/fast-json-stringify`: the statement, its rows mapped as the service maps them, serialised
 *   by fast-json-stringify from the service's own schema: a hand-written server doing the
 *   service's work without a key check, validation or headers;
 * - `/json-stringify`: the same with `JSON.stringify`;
 * - `/fastify`: a plain Fastify route doing the same (its response schema is the service's, so
 *   Fastify serialises with fast-json-stringify), with no hooks: what a user of the same stack
 *   writes first, and so what the service's key check, validation, rate limit and headers add.
 *
 * The hand-written paths are answered by `node:http` before Fastify sees the request (Fastify's
 * `serverFactory`), so they pay nothing for it.
 */
import cluster from 'node:cluster';
import { readFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import fastJson from 'fast-json-stringify';
import Fastify from 'fastify';
import pg from 'pg';
import type { TSchema } from 'typebox';
import type { AccountRow } from '../../src/banking/accounts/queries.js';
import { Account } from '../../src/banking/accounts/schemas.js';
import { toAccountView } from '../../src/banking/accounts/service.js';
import type { TransactionListRow } from '../../src/banking/transactions/queries.js';
import { TransactionItem } from '../../src/banking/transactions/schemas.js';
import { toTransactionView } from '../../src/banking/transactions/service.js';
import type { Statement } from './capture.js';
import { childInput, reportPort } from './child.js';
import { runStatements } from './http-load.js';

export interface ReferenceServerInput {
  databaseUrl: string;
  /** The pool's size, shared out between the processes. */
  connections: number;
  /** Processes serving on the one port (node:cluster), as the service runs with WEB_CONCURRENCY. */
  processes: number;
  list: 'transactions' | 'accounts';
  /** The service's statement for the list; for transactions it selects one row more than `page`. */
  statement: Statement;
  page?: number;
  /** A file holding the body as the service answered it. */
  bodyFile: string;
}

/** What each list's rows are and how the service shows them. */
const LISTS: Record<ReferenceServerInput['list'], { item: TSchema; view(row: never): unknown }> = {
  transactions: { item: TransactionItem, view: (row: TransactionListRow) => toTransactionView(row) },
  accounts: { item: Account, view: (row: AccountRow) => toAccountView(row) },
};

const input = childInput<ReferenceServerInput>();
if (cluster.isPrimary && input.processes > 1) runWorkers(input.processes);
else await serve(input);

/**
 * `processes` workers of node:cluster sharing one port, as the service runs with WEB_CONCURRENCY:
 * each worker is this module again and serves every path. The bench is told the port once all
 * of them listen; SIGTERM stops them all.
 */
function runWorkers(processes: number) {
  const workers = Array.from({ length: processes }, () => cluster.fork());
  let listening = 0;
  let stopping = false;
  cluster.on('listening', (_worker, address) => {
    if (++listening === processes) reportPort(address);
  });
  cluster.on('exit', (_worker, code) => {
    if (!stopping) {
      process.stderr.write(`reference server: a worker exited with code ${code}\n`);
      process.exit(1);
    }
  });
  process.on('SIGTERM', () => {
    stopping = true;
    let left = workers.length;
    for (const worker of workers) {
      worker.once('exit', () => --left === 0 && process.exit(0));
      worker.process.kill('SIGTERM');
    }
  });
}

async function serve({
  databaseUrl,
  connections,
  processes,
  list: listName,
  statement,
  page,
  bodyFile,
}: ReferenceServerInput) {
  const list = LISTS[listName];
  const capturedBody = await readFile(bodyFile);
  // The connections are shared out between the processes, as the service shares out its pool.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: Math.ceil(connections / processes) });
  const serializeList = fastJson({ type: 'array', items: list.item } as Parameters<typeof fastJson>[0]);

  async function views() {
    const { rows } = await pool.query<never>({
      name: 'reference_list',
      text: statement.text,
      values: statement.values,
    });
    return rows.slice(0, page ?? rows.length).map(list.view);
  }

  const bodies: Record<string, () => Promise<string | Buffer>> = {
    '/floor': async () => {
      await runStatements(pool, [statement]);
      return capturedBody;
    },
    '/fast-json-stringify': async () => serializeList(await views()),
    '/json-stringify': async () => JSON.stringify(await views()),
  };

  const app = Fastify({
    logger: false,
    serverFactory: (fastifyHandler) =>
      createServer((request, response) => {
        const answer = bodies[request.url ?? ''];
        if (answer) answerHandWritten(answer, response);
        else fastifyHandler(request, response);
      }),
  });
  app.get('/fastify', { schema: { response: { 200: { type: 'array', items: list.item } } } }, () => views());
  await app.listen({ port: 0, host: '127.0.0.1' });
  if (cluster.isPrimary) reportPort(app.server.address());
  process.on('SIGTERM', () => void app.close().then(() => pool.end().then(() => process.exit(0))));
}

function answerHandWritten(answer: () => Promise<string | Buffer>, response: ServerResponse) {
  answer().then(
    (body) => {
      response.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      response.end(body);
    },
    (error: unknown) => {
      process.stderr.write(`reference server: ${error instanceof Error ? error.stack : String(error)}\n`);
      response.writeHead(500).end();
    },
  );
}
