/**
 * One process of the driver baseline: a `pg` pool running the captured statements in a loop on
 * each of its clients, unmeasured until `startAt` (warming the pool and its prepared statements),
 * then counted until `endAt`; all the processes of a run share those two instants.
 */
import pg from 'pg';
import type { Statement } from './capture.js';
import { childInput, reportToParent } from './child.js';
import { runStatements } from './http-load.js';

export interface DriverChildInput {
  databaseUrl: string;
  statements: Statement[];
  clients: number;
  /** Epoch milliseconds. */
  startAt: number;
  endAt: number;
  /** How long to keep the connections open after `endAt`, while the parent reads their CPU. */
  lingerMs: number;
}

export interface DriverChildResult {
  done: number;
  cpuMs: number;
}

const input = childInput<DriverChildInput>();
const pool = new pg.Pool({ connectionString: input.databaseUrl, max: input.clients });
try {
  const clients = await Promise.all(Array.from({ length: input.clients }, () => pool.connect()));
  let done = 0;
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  const cpuTimer = setTimeout(() => {
    cpuAtStart = process.cpuUsage();
  }, input.startAt - Date.now());
  await Promise.all(
    clients.map(async (client) => {
      while (Date.now() < input.endAt) {
        await runStatements(client, input.statements);
        if (Date.now() >= input.startAt) done++;
      }
    }),
  );
  clearTimeout(cpuTimer);
  const cpu = process.cpuUsage(cpuAtStart);
  await new Promise((resolve) => setTimeout(resolve, input.lingerMs));
  for (const client of clients) client.release();
  await reportToParent<DriverChildResult>({ result: { done, cpuMs: (cpu.user + cpu.system) / 1000 } });
} catch (error) {
  await reportToParent({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
} finally {
  await pool.end();
}
