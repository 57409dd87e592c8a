export interface BenchOptions {
  full: boolean;
  strict: boolean;
  /** Scenario names to run; null runs them all. */
  only: string[] | null;
  help: boolean;
}

export const USAGE = `Usage: npm run bench -- [--full] [--strict] [--only NAME[,NAME...]]

  --full     the sizes of the targets (slower); without it, a quick run at smaller sizes
  --strict   exit 1 when a target is missed (otherwise only a crash exits non-zero)
  --only     run only the named scenarios

Environment: BENCH_DATABASE_URL, an admin connection to the PostgreSQL server
(default postgres://postgres@127.0.0.1:5432/postgres). A fresh database bench_<random> is
created on it and dropped at the end.`;

/** A mistake in the command line: reported as its message alone, with the usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseArgs(argv: string[]): BenchOptions {
  const options: BenchOptions = { full: false, strict: false, only: null, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--full') options.full = true;
    else if (arg === '--strict') options.strict = true;
    else if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (!value) throw new UsageError(`--only needs a scenario name\n\n${USAGE}`);
      options.only = [...(options.only ?? []), ...value.split(',').filter(Boolean)];
    } else throw new UsageError(`unknown argument ${arg}\n\n${USAGE}`);
  }
  return options;
}
