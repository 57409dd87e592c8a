import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/client.js';

/** `node dist/src/cli.js migrate`: applies pending migrations to the configured database. */
async function main(command: string | undefined) {
  if (command !== 'migrate') {
    process.stderr.write('usage: cli migrate\n');
    return 2;
  }
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await database.migrate();
    process.stdout.write(`migrations applied (${database.engine})\n`);
    return 0;
  } finally {
    await database.close();
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(
      `${error instanceof ConfigError ? error.message : (error?.stack ?? String(error))}\n`,
    );
    process.exit(1);
  },
);
