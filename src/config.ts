import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';

/** The environment the service reads, validated once at start; `Config` derives from it. */
const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATA_DIR: Type.String({ minLength: 1, default: './data' }),
  DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  SANDBOX_ENABLED: Type.Enum(['true', 'false'], { default: 'true' }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 9_000 }),
});

type Env = Static<typeof EnvSchema>;

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  databasePoolSize: number;
  adminToken: string | undefined;
  logLevel: Env['LOG_LEVEL'];
  sandboxEnabled: boolean;
  shutdownTimeoutMs: number;
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
  const env = Value.Convert(EnvSchema, Value.Default(EnvSchema, raw));
  if (!Value.Check(EnvSchema, env)) {
    const problems = Value.Errors(EnvSchema, env).map(
      (e) =>
        `${e.instancePath.slice(1) || 'environment'} ${e.message} (got ${JSON.stringify(raw[e.instancePath.slice(1)])})`,
    );
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return {
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    adminToken: env.ADMIN_TOKEN,
    logLevel: env.LOG_LEVEL,
    sandboxEnabled: env.SANDBOX_ENABLED === 'true',
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
  };
}
