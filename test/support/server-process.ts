/**
 * The real server process, as `npm start` runs it (here through tsx, without a build), for the
 * tests of what only a process shows: signals, kill -9, logs on stdout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** Starts the server with `env` over this process's (the scheduler off unless `env` turns it on). */
export function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, LOG_LEVEL: 'info', SCHEDULER_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  /** The exit code, or the signal that ended the process. */
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  return { child, exited, output: () => output };
}

/** Waits until `/readyz` answers 200 (migrations applied, database reachable). */
export async function waitForReady(base: string, child: ChildProcess, output: () => string) {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (child.exitCode !== null) throw new Error(`server exited during start:\n${output().slice(-3000)}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server did not become ready:\n${output().slice(-3000)}`);
}

/**
 * A sync long enough to be in flight when the test signals the server: a new team (through the
 * admin API of `base`), a sandbox connection of 5,000 transactions per account over a year, and
 * its sync, started 300 ms before this resolves. The team's key is returned so that a test can
 * check the logs never hold it.
 */
export async function startSlowSync(base: string, adminToken: string) {
  const json = { 'content-type': 'application/json' };
  const team = (await (
    await fetch(`${base}/api/admin/teams`, {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ name: 'Shutdown' }),
    })
  ).json()) as { teamId: string; apiKey: string };
  const auth = { ...json, authorization: `Bearer ${team.apiKey}` };
  const connection = (await (
    await fetch(`${base}/api/banking/connect`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        teamId: team.teamId,
        provider: 'sandbox',
        providerId: 'sandbox-gb',
        consentId: 'shutdown-1',
        metadata: { sandbox: { transactionsPerAccount: 5000, days: 365 } },
      }),
    })
  ).json()) as { id: string };
  const inFlight = fetch(`${base}/api/banking/sync`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ teamId: team.teamId, connectionId: connection.id }),
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { apiKey: team.apiKey, inFlight };
}
