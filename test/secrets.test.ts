import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox, keyIdOf, NO_SECRET_BOX, parseKey } from '../src/secrets.js';

describe('secrets at rest', () => {
  const key = randomBytes(32);

  it('seals with AES-256-GCM under a key id and opens again', () => {
    const box = createSecretBox(key);
    const sealed = box.seal('access-sandbox-123');
    expect(sealed).toMatch(new RegExp(`^v1\\.${keyIdOf(key)}\\.`));
    expect(sealed).not.toContain('access-sandbox-123');
    expect(box.open(sealed)).toBe('access-sandbox-123');
    expect(box.seal('same')).not.toBe(box.seal('same'));
  });

  it('opens values sealed under a previous key after rotation, and seals under the new one', () => {
    const old = createSecretBox(key);
    const sealedBefore = old.seal('token');
    const next = randomBytes(32);
    const rotated = createSecretBox(next, [key]);
    expect(rotated.open(sealedBefore)).toBe('token');
    expect(rotated.seal('token')).toMatch(new RegExp(`^v1\\.${keyIdOf(next)}\\.`));
    expect(() => createSecretBox(next).open(sealedBefore)).toThrow(/no encryption key/);
  });

  it('refuses a tampered ciphertext', () => {
    const box = createSecretBox(key);
    const parts = box.seal('token').split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow();
  });

  it('reads keys as base64 or hex and refuses other lengths', () => {
    expect(parseKey(key.toString('base64'))).toEqual(key);
    expect(parseKey(key.toString('hex'))).toEqual(key);
    expect(() => parseKey('short')).toThrow(/32 bytes/);
    expect(() => NO_SECRET_BOX.seal('x')).toThrow(/ENCRYPTION_KEY/);
  });
});
