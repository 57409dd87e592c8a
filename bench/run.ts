/**
 * `npm run bench [-- --full] [--strict] [--only NAME,...]`: runs every scenario of
 * `scenarios/index.ts` on a fresh database of the machine's PostgreSQL and prints one table in
 * which each figure stands beside its baseline measured in the same run, with the ratio, the
 * target and PASS/FAIL. Progress goes to stderr, the report to stdout.
 */
import { parseArgs, USAGE, UsageError } from './lib/args.js';
import { removeCompiled } from './lib/compile.js';
import { type BenchDatabase, createBenchDatabase, DEFAULT_ADMIN_URL } from './lib/database.js';
import { describeMachine, renderMachine } from './lib/machine.js';
import { renderTable, type TableLine, verdictOf } from './lib/table.js';
import type { BenchContext } from './lib/types.js';
import { SCENARIOS } from './scenarios/index.js';

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const unknown = (options.only ?? []).filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`,
    );
  }
  const scenarios = SCENARIOS.filter((s) => !options.only || options.only.includes(s.name));
  const adminUrl = process.env.BENCH_DATABASE_URL || DEFAULT_ADMIN_URL;

  const started = new Date();
  const database: BenchDatabase = await createBenchDatabase(adminUrl);
  log(`database ${database.name} created on ${new URL(adminUrl).host}`);
  /** The scenario's own further databases (`newDatabase`), dropped as it ends. */
  const scenarioDatabases: BenchDatabase[] = [];
  const dropScenarioDatabases = () =>
    Promise.all(
      scenarioDatabases
        .splice(0)
        .map((extra) => extra.drop().then(() => log(`database ${extra.name} dropped`))),
    );
  let interrupting = false;
  const interrupted = () => {
    interrupting = true;
    log('interrupted: dropping the bench databases');
    Promise.allSettled([removeCompiled(), database.drop(), dropScenarioDatabases()]).finally(() =>
      process.exit(130),
    );
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  const lines: TableLine[] = [];
  const notes: string[] = [];
  let machine: string;
  try {
    machine = renderMachine(await describeMachine(database.url));
    const context: BenchContext = {
      full: options.full,
      database: { name: database.name, url: database.url, handle: database.handle },
      newDatabase: async () => {
        const extra = await createBenchDatabase(adminUrl);
        scenarioDatabases.push(extra);
        log(`database ${extra.name} created`);
        return { name: extra.name, url: extra.url, handle: extra.handle };
      },
      log,
    };
    for (const scenario of scenarios) {
      await database.reset();
      log(`scenario ${scenario.name}`);
      try {
        const result = await scenario.run(context);
        for (const row of result.rows) lines.push({ scenario: scenario.name, row });
        notes.push(...(result.notes ?? []));
      } catch (error) {
        if (interrupting) break;
        const message = error instanceof Error ? error.message : String(error);
        log(`scenario ${scenario.name} failed: ${error instanceof Error ? error.stack : message}`);
        lines.push({
          scenario: scenario.name,
          row: { figure: '(scenario failed)', value: null, baseline: null, target: null },
          error: message.split('\n')[0] ?? message,
        });
      } finally {
        if (!interrupting) await dropScenarioDatabases();
      }
    }
  } finally {
    await removeCompiled();
    await database.drop();
    log(`database ${database.name} dropped`);
  }

  // The interrupt handler exits with 130 once the database is gone.
  if (interrupting) return new Promise<number>(() => {});
  const seconds = (Date.now() - started.getTime()) / 1000;
  const verdicts = lines.map(verdictOf);
  const tally = (verdict: string) => verdicts.filter((v) => v === verdict).length;
  const report = [
    `# npm run bench${options.full ? ' -- --full' : ''} (${options.full ? 'full' : 'quick'} size)`,
    '',
    `${started.toISOString()}, ${seconds.toFixed(0)} s`,
    '',
    machine,
    '',
    renderTable(lines),
    '',
    ...notes.map((note) => `- ${note}`),
    ...(notes.length > 0 ? [''] : []),
    `${tally('PASS')} passed, ${tally('FAIL')} failed, ${tally('PENDING')} pending, ${tally('ERROR')} errors`,
  ];
  process.stdout.write(`${report.join('\n')}\n`);
  if (tally('ERROR') > 0) return 1;
  if (options.strict && tally('FAIL') > 0) return 1;
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
