import { readFileSync } from 'node:fs';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import { parseKey } from './secrets.js';

/** The environment the service reads, validated once at start; `Config` derives from it. */
const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATA_DIR: Type.String({ minLength: 1, default: './data' }),
  DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  WEB_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
  ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  SANDBOX_ENABLED: Type.Enum(['true', 'false'], { default: 'true' }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 9_000 }),
  ENCRYPTION_KEY: Type.Optional(Type.String({ minLength: 1 })),
  ENCRYPTION_KEYS_PREVIOUS: Type.Optional(Type.String({ minLength: 1 })),
  SYNC_INTERVAL: Type.String({ pattern: '^\\d+(ms|s|m|h|d)?$', default: '6h' }),
  SCHEDULER_ENABLED: Type.Enum(['true', 'false'], { default: 'true' }),
  SCHEDULER_POLL_INTERVAL: Type.String({ pattern: '^\\d+(ms|s|m|h|d)?$', default: '30s' }),
  SYNC_MAX_FAILURES: Type.Integer({ minimum: 1, maximum: 100, default: 8 }),
  PROVIDER_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120_000, default: 15_000 }),
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 1_000, maximum: 600_000, default: 120_000 }),
  MAX_CONNECTIONS: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  RATE_LIMIT_MAX: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 6000 }),
  RATE_LIMIT_WINDOW: Type.String({ pattern: '^\\d+(ms|s|m|h|d)?$', default: '1m' }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  CORS_ORIGINS: Type.Optional(Type.String({ minLength: 1 })),
  PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^/?#\\s]+(/[^?#\\s]*)?$' })),
  API_KEY_CACHE_TTL: Type.String({ pattern: '^\\d+(ms|s|m|h|d)?$', default: '5s' }),
  WEBHOOK_ALLOW_LOOPBACK: Type.Enum(['true', 'false'], { default: 'false' }),
  GOCARDLESS_SECRET_ID: Type.Optional(Type.String({ minLength: 1 })),
  GOCARDLESS_SECRET_KEY: Type.Optional(Type.String({ minLength: 1 })),
  GOCARDLESS_BASE_URL: Type.String({
    pattern: '^https?://',
    default: 'https://bankaccountdata.gocardless.com',
  }),
  PLAID_CLIENT_ID: Type.Optional(Type.String({ minLength: 1 })),
  PLAID_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  PLAID_ENV: Type.Enum(['sandbox', 'production'], { default: 'sandbox' }),
  PLAID_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
});

type Env = Static<typeof EnvSchema>;

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  /** Connections in each process's pool. */
  databasePoolSize: number;
  /** Processes serving HTTP on the one port (node:cluster); more than one needs PostgreSQL. */
  webConcurrency: number;
  adminToken: string | undefined;
  logLevel: Env['LOG_LEVEL'];
  sandboxEnabled: boolean;
  shutdownTimeoutMs: number;
  /** The current key (32 bytes) and the previous ones still accepted for opening old values. */
  encryptionKeys: { current: Buffer; previous: Buffer[] } | undefined;
  providerTimeoutMs: number;
  /** How long a client may take to send a whole request before it is answered 408. */
  requestTimeoutMs: number;
  /** Client connections a process keeps open at once; past it new ones are closed at once. */
  maxConnections: number;
  /** Requests per API key per window; shared through Redis when `redisUrl` is set. */
  rateLimit: { max: number; windowMs: number; redisUrl: string | undefined };
  /** How long a verified API key is trusted without a lookup; 0: every request looks it up. */
  apiKeyCacheTtlMs: number;
  /** Origins allowed by CORS; empty: CORS is off (no CORS headers at all). */
  corsOrigins: string[];
  /**
   * Where clients reach the service (`https://api.example.com`, perhaps with a path prefix), no
   * trailing slash: links it answers are built on it. Unset: on the request's own Host.
   */
  publicUrl: string | undefined;
  /** Whether webhook endpoints may be this machine (development; see `WebhookUrlPolicy`). */
  webhookAllowLoopback: boolean;
  /** How often the scheduler syncs each ACTIVE connection. */
  syncIntervalMs: number;
  schedulerEnabled: boolean;
  schedulerPollMs: number;
  /** Background syncs failing in a row before the scheduler stops trying. */
  syncMaxFailures: number;
  gocardless: { secretId: string; secretKey: string; baseUrl: string } | undefined;
  plaid:
    | { clientId: string; secret: string; env: 'sandbox' | 'production'; baseUrl: string | undefined }
    | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment; throws `ConfigError` naming each bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const names = Object.keys(EnvSchema.properties);
  // Empty variables count as unset, as a shell user would expect of `FOO= npm start`.
  const raw = Object.fromEntries(
    names
      .filter((name) => source[name] !== undefined && source[name] !== '')
      .map((name) => [name, source[name]]),
  );
  const textProblems = readTextProblems(raw);
  const env = Value.Convert(EnvSchema, Value.Default(EnvSchema, raw));
  if (textProblems.length > 0 || !Value.Check(EnvSchema, env)) {
    const reported = new Set(textProblems.map(([name]) => name));
    const problems = [
      ...textProblems.map(([, problem]) => problem),
      ...[...Value.Errors(EnvSchema, env)]
        .filter((e) => !reported.has(e.instancePath.slice(1)))
        .map(
          (e) =>
            `${e.instancePath.slice(1) || 'environment'} ${e.message} (got ${JSON.stringify(raw[e.instancePath.slice(1)])})`,
        ),
    ];
    throw invalidConfiguration(problems);
  }
  const durations = readDurations(env, raw);
  const encryptionKeys = readEncryptionKeys(env.ENCRYPTION_KEY, env.ENCRYPTION_KEYS_PREVIOUS);
  if (env.WEB_CONCURRENCY > 1 && !env.DATABASE_URL) {
    throw invalidConfiguration([
      'WEB_CONCURRENCY above 1 needs DATABASE_URL: the embedded database belongs to one process',
    ]);
  }
  return {
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    webConcurrency: env.WEB_CONCURRENCY,
    adminToken: env.ADMIN_TOKEN,
    logLevel: env.LOG_LEVEL,
    sandboxEnabled: env.SANDBOX_ENABLED === 'true',
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    encryptionKeys,
    providerTimeoutMs: env.PROVIDER_TIMEOUT_MS,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    maxConnections: env.MAX_CONNECTIONS ?? defaultMaxConnections(),
    rateLimit: {
      max: env.RATE_LIMIT_MAX,
      windowMs: durations.RATE_LIMIT_WINDOW,
      redisUrl: env.REDIS_URL,
    },
    apiKeyCacheTtlMs: durations.API_KEY_CACHE_TTL,
    webhookAllowLoopback: env.WEBHOOK_ALLOW_LOOPBACK === 'true',
    corsOrigins: (env.CORS_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    publicUrl: env.PUBLIC_URL?.replace(/\/+$/, ''),
    syncIntervalMs: durations.SYNC_INTERVAL,
    schedulerEnabled: env.SCHEDULER_ENABLED === 'true',
    schedulerPollMs: durations.SCHEDULER_POLL_INTERVAL,
    syncMaxFailures: env.SYNC_MAX_FAILURES,
    gocardless:
      env.GOCARDLESS_SECRET_ID && env.GOCARDLESS_SECRET_KEY
        ? {
            secretId: env.GOCARDLESS_SECRET_ID,
            secretKey: env.GOCARDLESS_SECRET_KEY,
            baseUrl: env.GOCARDLESS_BASE_URL,
          }
        : undefined,
    plaid:
      env.PLAID_CLIENT_ID && env.PLAID_SECRET
        ? {
            clientId: env.PLAID_CLIENT_ID,
            secret: env.PLAID_SECRET,
            env: env.PLAID_ENV,
            baseUrl: env.PLAID_BASE_URL,
          }
        : undefined,
  };
}

/**
 * What the schema would read past in a variable's text, each as `[name, problem]`:
 * - spaces or a line break around a value (an `.env` line, a secret made from a file): no client
 *   can send an `ADMIN_TOKEN` that ends in one, since HTTP drops it from the header, and a
 *   `DATA_DIR` of " " is a directory named by a space;
 * - an integer not written in decimal digits: `PORT=4101.5`, `0x1005` or `4.1e3` were converted
 *   to a port nobody meant;
 * - a `CORS_ORIGINS` entry that is neither `*` nor an origin (`https://app.example.com/`, with
 *   its slash, never matches the `Origin` a browser sends).
 */
function readTextProblems(raw: Record<string, unknown>): [string, string][] {
  const problems: [string, string][] = [];
  const properties = EnvSchema.properties as Record<string, { type?: unknown }>;
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value !== 'string') continue;
    const got = `(got ${JSON.stringify(value)})`;
    if (value !== value.trim()) {
      problems.push([name, `${name} must not start or end with spaces or a line break ${got}`]);
    } else if (properties[name]?.type === 'integer' && !/^\d+$/.test(value)) {
      problems.push([name, `${name} must be a whole number written in decimal digits ${got}`]);
    }
  }
  const origins = typeof raw.CORS_ORIGINS === 'string' ? raw.CORS_ORIGINS.split(',') : [];
  for (const origin of origins.map((entry) => entry.trim()).filter(Boolean)) {
    if (origin !== '*' && URL.parse(origin)?.origin !== origin) {
      problems.push([
        'CORS_ORIGINS',
        `CORS_ORIGINS entries must be * or an origin like https://app.example.com, with no path or slash (got ${JSON.stringify(origin)})`,
      ]);
    }
  }
  return problems;
}

/**
 * The bounds of each duration. Floors: a scheduler polling every 0 s spins a core while idle, a
 * sync interval of 0 s would sync every connection at every poll, and a rate-limit window of 0 s
 * limits nothing; `API_KEY_CACHE_TTL` may be 0 (every request looks its key up). Ceilings: a timer
 * longer than 2^31 - 1 ms (24.8 days) fires after 1 ms in Node, so an over-long poll interval
 * would spin as a zero one does, and a key cached for days would keep a revoked key working on
 * other instances for as long.
 */
const DURATION_BOUNDS_MS = {
  SYNC_INTERVAL: { least: 60_000, most: 365 * 86_400_000 },
  SCHEDULER_POLL_INTERVAL: { least: 1_000, most: 86_400_000 },
  RATE_LIMIT_WINDOW: { least: 1_000, most: 86_400_000 },
  API_KEY_CACHE_TTL: { least: 0, most: 3_600_000 },
} as const;

type DurationName = keyof typeof DURATION_BOUNDS_MS;

/** Each duration in milliseconds, or a `ConfigError` naming every one outside its bounds. */
function readDurations(env: Env, raw: Record<string, unknown>): Record<DurationName, number> {
  const names = Object.keys(DURATION_BOUNDS_MS) as DurationName[];
  const durations = Object.fromEntries(names.map((name) => [name, parseDuration(env[name])])) as Record<
    DurationName,
    number
  >;
  const problems = names.flatMap((name) => {
    const { least, most } = DURATION_BOUNDS_MS[name];
    const got = `(got ${JSON.stringify(raw[name])})`;
    if (durations[name] < least) return [`${name} must be at least ${formatDuration(least)} ${got}`];
    if (durations[name] > most) return [`${name} must be at most ${formatDuration(most)} ${got}`];
    return [];
  });
  if (problems.length > 0) throw invalidConfiguration(problems);
  return durations;
}

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90`, `90s`, `15m`, `6h`, `1d` (a bare number is seconds) to milliseconds. */
export function parseDuration(text: string): number {
  const [, amount = '0', unit = 's'] = /^(\d+)(ms|s|m|h|d)?$/.exec(text) ?? [];
  return Number(amount) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
}

/** The largest whole unit of `parseDuration` that writes `ms` exactly (`60_000` is `1m`). */
function formatDuration(ms: number): string {
  const [unit, size] = Object.entries(DURATION_UNITS_MS).findLast(([, size]) => ms % size === 0) ?? ['ms', 1];
  return `${ms / size}${unit}`;
}

/** One message for every problem found, one per line, as the operator reads it at start-up. */
const invalidConfiguration = (problems: string[]) =>
  new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);

function readEncryptionKeys(current: string | undefined, previous: string | undefined) {
  if (!current) {
    if (previous) throw invalidConfiguration(['ENCRYPTION_KEYS_PREVIOUS is set without ENCRYPTION_KEY']);
    return undefined;
  }
  const read = (name: string, text: string) => {
    try {
      return parseKey(text);
    } catch (error) {
      throw invalidConfiguration([`${name}: ${(error as Error).message}`]);
    }
  };
  return {
    current: read('ENCRYPTION_KEY', current),
    previous: (previous ?? '')
      .split(',')
      .filter(Boolean)
      .map((key) => read('ENCRYPTION_KEYS_PREVIOUS', key)),
  };
}

/**
 * Half the files this process may open, so that clients holding connections open (sent a byte at
 * a time, say) cannot take the descriptors the database pool, the webhook deliveries and the
 * providers need: a probe's 20,000 half-sent requests had reached the limit, and the service's own
 * database work failed until Node's header timeout closed them. 10,000 where the limit cannot be
 * read (not Linux) or has none.
 */
export function defaultMaxConnections(limits = readProcessLimits()): number {
  const openFiles = limits === null ? null : openFilesLimit(limits);
  return openFiles === null ? 10_000 : Math.max(64, Math.floor(openFiles / 2));
}

/** The soft limit of `Max open files` in a `/proc/<pid>/limits` text, or null (unlimited, absent). */
export function openFilesLimit(limits: string): number | null {
  const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1];
  return soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : null;
}

function readProcessLimits(): string | null {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return null;
  }
}
