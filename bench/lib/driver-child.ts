/**
 * One process of the driver baseline: a `pg` pool whose clients run the captured statements in a
 * loop. It stays up between measured windows, idle, so that rounds of the driver can alternate
 * with rounds of the servers measured beside it while its connections and their prepared
 * statements stay warm (see `startDriverBaseline` in `http-load.ts`).
 *
 * Once connected it runs unmeasured for `warmUpSeconds` and says `ready`; then each `run`
 * message starts a window of that many seconds, answered with what was done in it; `stop` ends it.
 */
import pg from 'pg';
import type { Statement } from './capture.js';
import { childInput, describeError } from './child.js';
import { runStatements } from './http-load.js';

export interface DriverChildInput {
  databaseUrl: string;
  statements: Statement[];
  clients: number;
  warmUpSeconds: number;
}

/** What one window did: runs of the statements completed in it, and this process's CPU time. */
export interface DriverWindow {
  done: number;
  cpuMs: number;
}

export type DriverCommand = { run: { seconds: number } } | { stop: true };
export type DriverReport = { ready: true } | { window: DriverWindow } | { error: string };

const input = childInput<DriverChildInput>();
const send = (report: DriverReport) => process.send?.(report);
const pool = new pg.Pool({ connectionString: input.databaseUrl, max: input.clients });

/** Every client runs the statements until `endAt` (epoch ms); answers how many runs finished by then. */
async function loopUntil(clients: pg.PoolClient[], endAt: number): Promise<number> {
  let done = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (Date.now() < endAt) {
        await runStatements(client, input.statements);
        done++;
      }
    }),
  );
  return done;
}

try {
  const clients = await Promise.all(Array.from({ length: input.clients }, () => pool.connect()));
  await loopUntil(clients, Date.now() + input.warmUpSeconds * 1000);
  // One window at a time: the parent waits for each answer before it sends the next command.
  process.on('message', async (command: DriverCommand) => {
    if ('stop' in command) {
      for (const client of clients) client.release();
      await pool.end();
      process.exit(0);
    }
    try {
      const cpuAtStart = process.cpuUsage();
      const done = await loopUntil(clients, Date.now() + command.run.seconds * 1000);
      const cpu = process.cpuUsage(cpuAtStart);
      send({ window: { done, cpuMs: (cpu.user + cpu.system) / 1000 } });
    } catch (error) {
      send({ error: describeError(error) });
    }
  });
  send({ ready: true });
} catch (error) {
  send({ error: describeError(error) });
  await pool.end();
  process.exit(1);
}
