import { describe, expect, it } from 'vitest';
import { ConfigError, defaultMaxConnections, loadConfig, openFilesLimit } from '../src/config.js';

describe('configuration', () => {
  it('has working defaults for a bare machine', () => {
    expect(loadConfig({})).toMatchObject({
      port: 3000,
      dataDir: './data',
      databaseUrl: undefined,
      sandboxEnabled: true,
      webConcurrency: 1,
    });
  });

  it('runs several processes only on PostgreSQL, whose data they can share', () => {
    expect(loadConfig({ WEB_CONCURRENCY: '4', DATABASE_URL: 'postgres://db/app' })).toMatchObject({
      webConcurrency: 4,
    });
    expect(() => loadConfig({ WEB_CONCURRENCY: '2' })).toThrow(/WEB_CONCURRENCY above 1 needs DATABASE_URL/);
    expect(() => loadConfig({ WEB_CONCURRENCY: '0', DATABASE_URL: 'postgres://db/app' })).toThrow(
      /WEB_CONCURRENCY/,
    );
  });

  it('names every bad variable in one clear error', () => {
    const load = () => loadConfig({ PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/PORT must be a whole number written in decimal digits \(got "abc"\)/);
    expect(load).toThrow(/LOG_LEVEL/);
    expect(load).toThrow(/DATABASE_URL/);
  });

  it('refuses durations too long for a timer or a revoke, naming each', () => {
    const load = () =>
      loadConfig({
        SCHEDULER_POLL_INTERVAL: '30d',
        SYNC_INTERVAL: '99999999999999999999999d',
        RATE_LIMIT_WINDOW: '25h',
        API_KEY_CACHE_TTL: '2h',
      });
    expect(load).toThrow(/SCHEDULER_POLL_INTERVAL must be at most 1d \(got "30d"\)/);
    expect(load).toThrow(/SYNC_INTERVAL must be at most 365d \(got "99999999999999999999999d"\)/);
    expect(load).toThrow(/RATE_LIMIT_WINDOW must be at most 1d \(got "25h"\)/);
    expect(load).toThrow(/API_KEY_CACHE_TTL must be at most 1h \(got "2h"\)/);
    expect(
      loadConfig({
        SCHEDULER_POLL_INTERVAL: '1d',
        SYNC_INTERVAL: '365d',
        RATE_LIMIT_WINDOW: '24h',
        API_KEY_CACHE_TTL: '60m',
      }),
    ).toMatchObject({
      schedulerPollMs: 86_400_000,
      syncIntervalMs: 365 * 86_400_000,
      rateLimit: { windowMs: 86_400_000 },
      apiKeyCacheTtlMs: 3_600_000,
    });
  });

  it('refuses durations too short to mean anything, naming each', () => {
    const load = () =>
      loadConfig({ SCHEDULER_POLL_INTERVAL: '0s', SYNC_INTERVAL: '0', RATE_LIMIT_WINDOW: '500ms' });
    expect(load).toThrow(/SCHEDULER_POLL_INTERVAL must be at least 1s \(got "0s"\)/);
    expect(load).toThrow(/SYNC_INTERVAL must be at least 1m \(got "0"\)/);
    expect(load).toThrow(/RATE_LIMIT_WINDOW must be at least 1s \(got "500ms"\)/);
    expect(
      loadConfig({ SCHEDULER_POLL_INTERVAL: '1s', SYNC_INTERVAL: '1m', API_KEY_CACHE_TTL: '0' }),
    ).toMatchObject({
      schedulerPollMs: 1000,
      syncIntervalMs: 60_000,
      apiKeyCacheTtlMs: 0,
    });
  });

  it('takes PUBLIC_URL as an http(s) address, perhaps with a path, without its trailing slash', () => {
    expect(loadConfig({}).publicUrl).toBeUndefined();
    expect(loadConfig({ PUBLIC_URL: 'https://api.example.com/' }).publicUrl).toBe('https://api.example.com');
    expect(loadConfig({ PUBLIC_URL: 'https://example.com/banking' }).publicUrl).toBe(
      'https://example.com/banking',
    );
    for (const bad of ['api.example.com', 'ftp://example.com', 'https://example.com/?a=1', 'https://']) {
      expect(() => loadConfig({ PUBLIC_URL: bad }), bad).toThrow(/PUBLIC_URL/);
    }
  });

  it('refuses integers not written in decimal digits, which conversion would read as another number', () => {
    for (const port of ['4101.5', '0x1005', '4.1e3', '-1', '+80']) {
      expect(() => loadConfig({ PORT: port }), port).toThrow(
        /PORT must be a whole number written in decimal digits/,
      );
    }
    expect(loadConfig({ PORT: '4101', DATABASE_POOL_SIZE: '4' })).toMatchObject({
      port: 4101,
      databasePoolSize: 4,
    });
  });

  it('refuses values with spaces or a line break around them, which no client could send back', () => {
    for (const [name, value] of [
      ['ADMIN_TOKEN', 'secret '],
      ['ADMIN_TOKEN', 'secret\n'],
      ['DATA_DIR', ' '],
      ['HOST', ' 127.0.0.1'],
    ] as const) {
      expect(() => loadConfig({ [name]: value }), `${name}=${JSON.stringify(value)}`).toThrow(
        new RegExp(`${name} must not start or end with spaces or a line break`),
      );
    }
  });

  it('takes CORS_ORIGINS entries that are * or a bare origin, and refuses one a browser could never send', () => {
    expect(
      loadConfig({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' }).corsOrigins,
    ).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
    for (const bad of ['https://app.example.com/', 'app.example.com', 'https://app.example.com/path']) {
      expect(() => loadConfig({ CORS_ORIGINS: bad }), bad).toThrow(
        /CORS_ORIGINS entries must be \* or an origin/,
      );
    }
  });

  it('names ENCRYPTION_KEYS_PREVIOUS, not ENCRYPTION_KEY, when a previous key is the bad one', () => {
    const good = Buffer.alloc(32, 7).toString('base64');
    expect(() => loadConfig({ ENCRYPTION_KEY: good, ENCRYPTION_KEYS_PREVIOUS: 'bad' })).toThrow(
      /ENCRYPTION_KEYS_PREVIOUS: an encryption key must be 32 bytes/,
    );
    expect(() => loadConfig({ ENCRYPTION_KEY: 'bad', ENCRYPTION_KEYS_PREVIOUS: good })).toThrow(
      /ENCRYPTION_KEY: an encryption key must be 32 bytes/,
    );
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', ADMIN_TOKEN: '' })).toMatchObject({ port: 3000, adminToken: undefined });
  });
});

describe('the connections a process keeps open', () => {
  const limits = (soft: string, hard = soft) =>
    `Limit                     Soft Limit           Hard Limit           Units     \n` +
    `Max processes             127418               127418               processes \n` +
    `Max open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files     \n`;

  it('are half the files the process may open, read from its limits', () => {
    expect(openFilesLimit(limits('20000'))).toBe(20_000);
    expect(defaultMaxConnections(limits('20000'))).toBe(10_000);
    expect(defaultMaxConnections(limits('1024', '4096'))).toBe(512);
    expect(defaultMaxConnections(limits('10'))).toBe(64);
  });

  it('are 10,000 where the limit is unlimited or cannot be read, and MAX_CONNECTIONS sets them', () => {
    expect(defaultMaxConnections(limits('unlimited'))).toBe(10_000);
    expect(defaultMaxConnections(null)).toBe(10_000);
    expect(defaultMaxConnections('no such line')).toBe(10_000);
    expect(loadConfig({ MAX_CONNECTIONS: '250' }).maxConnections).toBe(250);
  });
});
