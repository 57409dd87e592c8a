import { describe, expect, it } from 'vitest';
import { bearerToken, issueKey, keyIdOf, secretMatches } from '../../src/auth/keys.js';

describe('API keys', () => {
  it('issues random keys whose id can be read back and whose hash matches only the key', () => {
    const key = issueKey();
    expect(key.apiKey).toMatch(/^obk_[0-9a-f]{16}[A-Za-z0-9_-]{43}$/);
    expect(keyIdOf(key.apiKey)).toBe(key.keyId);
    expect(key.keyHash).not.toContain(key.apiKey);
    expect(secretMatches(key.apiKey, key.keyHash)).toBe(true);
    expect(secretMatches(`${key.apiKey.slice(0, -1)}x`, key.keyHash)).toBe(false);
    expect(issueKey().apiKey).not.toBe(key.apiKey);
  });

  it('reads only well-formed bearer headers', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer   abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
    expect(keyIdOf('obk_short')).toBeNull();
  });
});
