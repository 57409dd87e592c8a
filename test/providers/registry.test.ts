import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { AppError } from '../../src/errors.js';
import { createProviders } from '../../src/providers/index.js';
import { createProviderRegistry } from '../../src/providers/registry.js';

const clock = () => new Date('2026-11-26T10:00:00Z');
const key = randomBytes(32).toString('base64');
const credentials = {
  GOCARDLESS_SECRET_ID: 'id',
  GOCARDLESS_SECRET_KEY: 'key',
  PLAID_CLIENT_ID: 'client',
  PLAID_SECRET: 'secret',
};

describe('the providers of a deployment', () => {
  it('lists real providers without credentials as unavailable, with the reason, and still offers the sandbox', () => {
    const registry = createProviderRegistry(createProviders(loadConfig({}), clock));
    expect(registry.list()).toEqual([
      { name: 'sandbox', available: true, reason: null },
      {
        name: 'gocardless',
        available: false,
        reason: 'GOCARDLESS_SECRET_ID and GOCARDLESS_SECRET_KEY are not set',
      },
      { name: 'plaid', available: false, reason: 'PLAID_CLIENT_ID and PLAID_SECRET are not set' },
    ]);
    const error = (() => {
      try {
        registry.get('plaid');
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('PROVIDER_NOT_CONFIGURED');
  });

  it('needs an encryption key before it offers providers that store tokens', () => {
    const registry = createProviderRegistry(createProviders(loadConfig(credentials), clock));
    for (const name of ['gocardless', 'plaid']) {
      expect(registry.list().find((p) => p.name === name)?.reason).toMatch(/ENCRYPTION_KEY/);
    }
  });

  it('builds GoCardless and Plaid from credentials and a key', () => {
    const registry = createProviderRegistry(
      createProviders(loadConfig({ ...credentials, ENCRYPTION_KEY: key, SANDBOX_ENABLED: 'false' }), clock),
    );
    expect(registry.list()).toEqual([
      { name: 'sandbox', available: false, reason: 'SANDBOX_ENABLED is false' },
      { name: 'gocardless', available: true, reason: null },
      { name: 'plaid', available: true, reason: null },
    ]);
    expect(registry.get('gocardless').name).toBe('gocardless');
    // Turned off here, the sandbox is known, not an unknown provider: 503, as any provider not set up.
    expect(() => registry.get('sandbox')).toThrow(
      expect.objectContaining({ code: 'PROVIDER_NOT_CONFIGURED' }),
    );
  });

  it('refuses a malformed ENCRYPTION_KEY at start with a clear message', () => {
    expect(() => loadConfig({ ENCRYPTION_KEY: 'too-short' })).toThrow(/ENCRYPTION_KEY: .*32 bytes/);
  });
});
