import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/client.js';
import { type IndexOutcome, InvalidIndexesError } from './db/index-builds.js';

const USAGE = 'usage: cli migrate [--build-indexes-concurrently]\n';

/**
 * `node dist/src/cli.js migrate`: applies pending migrations to the configured database. With
 * `--build-indexes-concurrently` (PostgreSQL), first builds the indexes they would build on
 * existing tables without blocking them (src/db/index-builds.ts; README, Operations).
 */
async function main(args: string[]) {
  const parsed = parseCommand(args);
  if (!parsed) {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = loadConfig();
  if (parsed.buildIndexesConcurrently && !config.databaseUrl) {
    process.stderr.write(
      '--build-indexes-concurrently needs DATABASE_URL: the embedded database has one user\n',
    );
    return 2;
  }
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    let indexes = 0;
    const report = (outcome: IndexOutcome) => {
      indexes++;
      process.stdout.write(`${describe(outcome)}\n`);
    };
    await database.migrate(parsed.buildIndexesConcurrently ? { buildIndexesConcurrently: report } : {});
    if (parsed.buildIndexesConcurrently && indexes === 0) {
      process.stdout.write('no pending migration builds an index\n');
    }
    process.stdout.write(`migrations applied (${database.engine})\n`);
    return 0;
  } finally {
    await database.close();
  }
}

function parseCommand(args: string[]) {
  try {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: { 'build-indexes-concurrently': { type: 'boolean', default: false } },
    });
    return positionals.join(' ') === 'migrate'
      ? { buildIndexesConcurrently: values['build-indexes-concurrently'] }
      : undefined;
  } catch {
    return undefined;
  }
}

function describe({ migration, index, table, outcome, reason, ms }: IndexOutcome) {
  const time = ms === undefined ? '' : ` in ${(ms / 1000).toFixed(1)} s`;
  return `${migration}: ${index} on ${table}: ${outcome}${time}${reason ? ` (${reason})` : ''}`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(
      `${error instanceof ConfigError || error instanceof InvalidIndexesError ? error.message : (error?.stack ?? String(error))}\n`,
    );
    process.exit(1);
  },
);
