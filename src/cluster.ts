import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

export interface ClusterOptions {
  workers: number;
  /** How long each worker may take to shut down gracefully before it is killed. */
  shutdownTimeoutMs: number;
  logger: Logger;
}

/** What the primary sends a worker to have it shut down gracefully (see `stopOnceAsked` in server.ts). */
export const SHUTDOWN_MESSAGE = 'shutdown';

/** A worker that stops this soon after it started serving is not replaced: it would only crash again. */
const MIN_UPTIME_MS = 5_000;

/**
 * The primary process of `WEB_CONCURRENCY` workers: each worker is the whole service (the same
 * script, forked), and they share the listening port, which node:cluster hands out connection by
 * connection. A Node process serves on one core; this is how one instance uses the others.
 *
 * Everything the workers share lives in PostgreSQL (or Redis for rate limits), exactly as for
 * several instances: migrations take an advisory lock, the scheduler leases its connections,
 * idempotency keys are rows. A worker that dies is replaced, unless it dies at start (a bad
 * database URL, a port in use), which stops the whole cluster with exit code 1. On SIGTERM or
 * SIGINT every worker shuts down gracefully and the primary exits 0 once they all have.
 */
export function runPrimary({ workers, shutdownTimeoutMs, logger }: ClusterOptions): void {
  let stopping = false;
  let failed = false;
  const live = new Set<Worker>();
  const startedAt = new Map<Worker, number>();

  const fork = () => {
    const worker = cluster.fork();
    live.add(worker);
    worker.once('listening', () => startedAt.set(worker, Date.now()));
  };
  const exitWhenAllStopped = () => {
    if (live.size === 0) process.exit(failed ? 1 : 0);
  };

  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'stopping the workers');
    // A message, not a signal, to a worker that serves: the service manager may signal the
    // workers too, and each must see one request to stop, whatever arrives first. One still
    // starting may not listen for messages yet; a signal stops it either way.
    for (const worker of live) {
      if (startedAt.has(worker) && worker.isConnected()) worker.send(SHUTDOWN_MESSAGE);
      else worker.process.kill('SIGTERM');
    }
    // Each worker enforces its own timeout; this only catches one that hangs past it.
    setTimeout(() => {
      for (const worker of live) worker.process.kill('SIGKILL');
      process.exit(1);
    }, shutdownTimeoutMs + 5_000).unref();
    exitWhenAllStopped();
  };

  cluster.on('exit', (worker, code, signal) => {
    const started = startedAt.get(worker);
    startedAt.delete(worker);
    live.delete(worker);
    if (stopping) {
      // Killed by our SIGTERM before it could set up its graceful shutdown: it was serving nothing.
      if (code !== 0 && signal !== 'SIGTERM') failed = true;
      exitWhenAllStopped();
      return;
    }
    if (started === undefined || Date.now() - started < MIN_UPTIME_MS) {
      logger.error({ workerPid: worker.process.pid, code, signal }, 'a worker failed at start');
      failed = true;
      stop('a worker failed at start');
      return;
    }
    logger.error({ workerPid: worker.process.pid, code, signal }, 'a worker died; starting another');
    fork();
  });

  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  for (let i = 0; i < workers; i++) fork();
  logger.info({ workers }, 'cluster started');
}
