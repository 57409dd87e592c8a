import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

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
    expect(load).toThrow(/PORT must be integer \(got "abc"\)/);
    expect(load).toThrow(/LOG_LEVEL/);
    expect(load).toThrow(/DATABASE_URL/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', ADMIN_TOKEN: '' })).toMatchObject({ port: 3000, adminToken: undefined });
  });
});
