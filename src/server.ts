import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { runPrimary, SHUTDOWN_MESSAGE } from './cluster.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/client.js';
import { isDatabaseUnavailable } from './db/unavailable.js';
import { createLogger } from './logging.js';
import { parseKey } from './secrets.js';

/**
 * With the embedded database and no ENCRYPTION_KEY, a key is made once and kept beside the data
 * (`DATA_DIR/encryption.key`, mode 0600), so `npm start` needs no set-up and tokens are still
 * sealed at rest. A PostgreSQL deployment must set ENCRYPTION_KEY itself.
 */
async function embeddedEncryptionKey(config: Config): Promise<Config['encryptionKeys']> {
  if (config.databaseUrl || config.dataDir.startsWith('memory://')) return undefined;
  const path = join(config.dataDir, 'encryption.key');
  await mkdir(config.dataDir, { recursive: true });
  try {
    await writeFile(path, randomBytes(32).toString('base64'), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return { current: parseKey(await readFile(path, 'utf8')), previous: [] };
}

/**
 * The process: configuration, logger, database, listen, graceful shutdown (or, with
 * WEB_CONCURRENCY above 1, the primary of that many such processes: see `cluster.ts`). On SIGTERM or
 * SIGINT the server stops accepting connections, lets in-flight requests finish, closes the
 * database and exits 0; if that takes longer than SHUTDOWN_TIMEOUT_MS it exits 1.
 */
async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  const logger = createLogger(config.logLevel);
  if (config.webConcurrency > 1 && cluster.isPrimary) {
    if (!config.rateLimit.redisUrl) {
      logger.warn(
        { workers: config.webConcurrency },
        'without REDIS_URL each worker counts rate limits apart: a key may make WEB_CONCURRENCY times RATE_LIMIT_MAX',
      );
    }
    runPrimary({
      workers: config.webConcurrency,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
      logger,
    });
    return;
  }
  const where = config.databaseUrl ? 'the PostgreSQL server of DATABASE_URL' : `DATA_DIR ${config.dataDir}`;
  const encryptionKeys =
    config.encryptionKeys ??
    (await embeddedEncryptionKey(config).catch(failedTo(`keep an encryption key in ${where}`)));
  config = { ...config, encryptionKeys };
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
  }).catch(failedTo(`open the database in ${where}`));
  // The port opens once the schema is this version's: a long migration shows here, not as silence.
  logger.info({ engine: database.engine }, 'applying pending database migrations');
  const migrationStarted = performance.now();
  await database
    .migrate({
      onLockBusy: () => logger.info('waiting for another instance to finish migrating the database'),
    })
    .catch((error: unknown) => {
      if (!isDatabaseUnavailable(error)) throw error;
      return failedTo(`reach the database in ${where}`)(error);
    });
  logger.info({ ms: Math.round(performance.now() - migrationStarted) }, 'database migrations applied');
  const app = await buildApp({ config, database, logger });
  app.addHook('onClose', async () => database.close());
  // A response finished while shutting down tells its client to close the connection, so a
  // kept-alive socket does not hold the shutdown open until the timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Runs for every answer: it takes `done` rather than costing a promise per request.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  const grace = closeWithGrace(
    {
      delay: config.shutdownTimeoutMs,
      logger,
      // A worker stops as its primary asks, below; close-with-grace would exit at a second signal.
      ...(cluster.isWorker ? { skip: ['SIGTERM', 'SIGINT'] } : {}),
    },
    async ({ signal, err }) => {
      if (err) logger.error({ err }, 'shutting down after an error');
      else logger.info({ signal: signal ?? 'requested by the primary' }, 'shutting down');
      await app.close();
    },
  );
  if (cluster.isWorker) stopOnceAsked(() => void grace.close());

  await app
    .listen({ port: config.port, host: config.host })
    .catch(failedTo(`listen on HOST ${config.host}, PORT ${config.port}`));
  logger.info(
    { engine: database.engine, adminApi: Boolean(config.adminToken) },
    'open banking service ready',
  );
}

/**
 * A worker is asked to stop by its primary (a message), and often by the service manager too: systemd
 * signals every process of the unit, a terminal's Ctrl-C the whole process group. Each is the one
 * request to shut down gracefully; none may cut the in-flight requests short.
 */
function stopOnceAsked(stop: () => void) {
  let asked = false;
  const once = () => {
    if (asked) return;
    asked = true;
    stop();
  };
  process.on('SIGTERM', once);
  process.on('SIGINT', once);
  process.on('message', (message) => {
    if (message === SHUTDOWN_MESSAGE) once();
  });
}

/** A start-up failure whose message names the setting to look at: printed without a stack. */
class StartError extends Error {}

/** A `.catch` that stops the start with "could not <what>: <why>". */
const failedTo =
  (what: string) =>
  (error: unknown): never => {
    throw new StartError(`could not ${what}: ${describeError(error)}`);
  };

/** An error's message, also for the plain objects PGlite throws (`{"name":"ErrnoError","errno":2}`). */
function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

main().catch((error) => {
  const text =
    error instanceof StartError ? error.message : error instanceof Error ? error.stack : describeError(error);
  process.stderr.write(`failed to start: ${text}\n`);
  process.exit(1);
});
