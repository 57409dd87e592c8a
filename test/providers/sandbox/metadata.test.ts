import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { parseSandboxConfig } from '../../../src/providers/sandbox/index.js';
import { sandbox } from './helpers.js';

function fieldErrors(run: () => unknown) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    const appError = error as AppError;
    expect(appError.code).toBe('VALIDATION_FAILED');
    return appError.extra.errors ?? [];
  }
  throw new Error('expected a validation error');
}

const { provider } = sandbox();
const validate = (providerId: string, metadata: Record<string, unknown>) => () =>
  provider.validateConnect({ providerId, metadata });

describe('sandbox connect validation', () => {
  it('accepts both institutions with no metadata and applies the defaults', () => {
    expect(() => provider.validateConnect({ providerId: 'sandbox-gb', metadata: {} })).not.toThrow();
    expect(() => provider.validateConnect({ providerId: 'sandbox-eu', metadata: {} })).not.toThrow();
    const config = parseSandboxConfig({ providerId: 'sandbox-eu', metadata: { other: 'ignored' } });
    expect(config).toMatchObject({ accounts: 3, transactionsPerAccount: null, days: 90 });
    expect(config.institution.currency).toBe('EUR');
  });

  it('accepts the sizing options at the edges of their ranges', () => {
    for (const sandboxOptions of [
      { accounts: 1, transactionsPerAccount: 0, days: 1 },
      { accounts: 50, transactionsPerAccount: 40_000, days: 3650 },
      { accounts: 1, transactionsPerAccount: 2_000_000, days: 3650 },
      {},
    ]) {
      expect(validate('sandbox-gb', { sandbox: sandboxOptions })).not.toThrow();
    }
  });

  it('rejects an unknown institution at /providerId', () => {
    expect(fieldErrors(validate('sandbox-us', {}))).toEqual([
      { path: '/providerId', in: 'body', message: expect.any(String) },
    ]);
    expect(fieldErrors(validate('', {})).map((e) => e.path)).toEqual(['/providerId']);
  });

  it('rejects a metadata.sandbox that is not an object', () => {
    for (const value of [null, 3, 'big', [1, 2], true]) {
      expect(fieldErrors(validate('sandbox-gb', { sandbox: value })).map((e) => e.path)).toEqual([
        '/metadata/sandbox',
      ]);
    }
  });

  it('rejects out-of-range and non-integer sizes with the path of each field', () => {
    const cases: [string, unknown][] = [
      ['accounts', 0],
      ['accounts', 51],
      ['accounts', 2.5],
      ['accounts', '3'],
      ['transactionsPerAccount', -1],
      ['transactionsPerAccount', 2_000_001],
      ['transactionsPerAccount', Number.NaN],
      ['days', 0],
      ['days', 3651],
      ['days', null],
      ['days', Number.POSITIVE_INFINITY],
    ];
    for (const [key, value] of cases) {
      const errors = fieldErrors(validate('sandbox-gb', { sandbox: { [key]: value } }));
      expect(errors, `${key}=${String(value)}`).toEqual([
        { path: `/metadata/sandbox/${key}`, in: 'body', message: expect.any(String) },
      ]);
    }
  });

  it('rejects sizes that ask for more than 2,000,000 transactions in all, at /metadata/sandbox', () => {
    for (const sandboxOptions of [
      { accounts: 50, transactionsPerAccount: 2_000_000 },
      { accounts: 2, transactionsPerAccount: 1_000_001 },
    ]) {
      expect(fieldErrors(validate('sandbox-gb', { sandbox: sandboxOptions }))).toEqual([
        { path: '/metadata/sandbox', in: 'body', message: expect.stringMatching(/at most 2000000$/) },
      ]);
    }
  });

  it('rejects unknown keys in metadata.sandbox, escaping them as JSON pointers', () => {
    const errors = fieldErrors(validate('sandbox-gb', { sandbox: { accounts: 2, weeks: 3, 'a/b~c': 1 } }));
    expect(errors.map((e) => e.path)).toEqual(['/metadata/sandbox/weeks', '/metadata/sandbox/a~1b~0c']);
  });

  it('lists every bad field at once, institution included', () => {
    const errors = fieldErrors(validate('nope', { sandbox: { accounts: 99, days: -1, extra: true } }));
    expect(errors.map((e) => e.path).sort()).toEqual([
      '/metadata/sandbox/accounts',
      '/metadata/sandbox/days',
      '/metadata/sandbox/extra',
      '/providerId',
    ]);
  });
});
