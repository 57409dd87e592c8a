import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/client.js';
import { type IndexOutcome, InvalidIndexesError } from './db/index-builds.js';
import { resealSecrets } from './db/reseal.js';
import { createSecretBox, keyIdOf } from './secrets.js';

const USAGE = 'usage: cli migrate [--build-indexes-concurrently]\n       cli reseal\n';

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
  if (parsed.command === 'reseal') return reseal(config);
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
    const command = positionals.join(' ');
    const buildIndexesConcurrently = values['build-indexes-concurrently'];
    // The flag is migrate's alone.
    if (command === 'migrate' || (command === 'reseal' && !buildIndexesConcurrently)) {
      return { command, buildIndexesConcurrently };
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/**
 * `node dist/src/cli.js reseal`: applies pending migrations, then seals every stored secret again
 * under ENCRYPTION_KEY, the end of a key rotation (README, Operations). Exits 1 while a value
 * remains that no configured key opens.
 */
async function reseal(config: Config) {
  if (!config.encryptionKeys) {
    process.stderr.write(
      'reseal needs ENCRYPTION_KEY (the new key) and ENCRYPTION_KEYS_PREVIOUS (the keys being retired)\n',
    );
    return 2;
  }
  const { current, previous } = config.encryptionKeys;
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    // The tables as this version has them (a no-op when the service has already started on it).
    await database.migrate();
    const outcomes = await resealSecrets(database.db, createSecretBox(current, previous), keyIdOf(current));
    for (const { table, column, resealed, unreadable } of outcomes) {
      const lost = unreadable > 0 ? `, ${unreadable} under a key not configured (left as they are)` : '';
      process.stdout.write(
        `${table}.${column}: ${resealed} sealed again under key ${keyIdOf(current)}${lost}\n`,
      );
    }
    return outcomes.some((outcome) => outcome.unreadable > 0) ? 1 : 0;
  } finally {
    await database.close();
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
