import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `obk_<key id: 16 hex><secret: 43 base64url>`: 256 random bits, shown once.
 * Only the SHA-256 of the whole key is stored (a slow hash adds nothing for a key this random),
 * and hashes are compared in constant time.
 */
const KEY_PATTERN = /^obk_([0-9a-f]{16})([A-Za-z0-9_-]{43})$/;

export interface IssuedKey {
  keyId: string;
  apiKey: string;
  keyHash: string;
}

export function issueKey(): IssuedKey {
  const keyId = randomBytes(8).toString('hex');
  const apiKey = `obk_${keyId}${randomBytes(32).toString('base64url')}`;
  return { keyId, apiKey, keyHash: hashSecret(apiKey) };
}

/** The key id inside a presented key, or null when it is not shaped like one of ours. */
export function keyIdOf(apiKey: string): string | null {
  return KEY_PATTERN.exec(apiKey)?.[1] ?? null;
}

// One-shot: no Hash object per request.
const sha256 = (secret: string) => hash('sha256', secret, 'buffer');

export function hashSecret(secret: string): string {
  return sha256(secret).toString('hex');
}

/** Constant-time comparison of a presented secret with a stored SHA-256 hex digest. */
export function secretMatches(presented: string, storedHash: string): boolean {
  const a = sha256(presented);
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1] ?? null;
}
