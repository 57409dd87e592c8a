import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Encryption at rest for provider access tokens and other per-connection secrets: AES-256-GCM,
 * a fresh 96-bit IV per value, and the id of the key stored with each ciphertext
 * (`v1.<key id>.<iv>.<tag>.<ciphertext>`, base64url), so keys can rotate: new values are sealed
 * under the current key, and values under a previous key still open while it is configured.
 */
export interface SecretBox {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

const KEY_BYTES = 32;

/** The format version every sealed value starts with; anything else in a sealed column is plain. */
const SEALED_VERSION = 'v1';
export const SEALED_PREFIX = `${SEALED_VERSION}.`;

/** Reads a 256-bit key given as base64 (44 characters) or hex (64 characters). */
export function parseKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES) throw new Error('an encryption key must be 32 bytes, as base64 or hex');
  return key;
}

export const keyIdOf = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

export function createSecretBox(current: Buffer, previous: Buffer[] = []): SecretBox {
  const keys = new Map([current, ...previous].map((key) => [keyIdOf(key), key]));
  const currentId = keyIdOf(current);
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const parts = [iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString('base64url'));
      return [SEALED_VERSION, currentId, ...parts].join('.');
    },
    open(sealed) {
      const [version, keyId, iv, tag, ciphertext] = sealed.split('.');
      if (
        version !== SEALED_VERSION ||
        !keyId ||
        iv === undefined ||
        tag === undefined ||
        ciphertext === undefined
      ) {
        throw new Error('not a sealed value');
      }
      const key = keys.get(keyId);
      if (!key) throw new Error(`no encryption key with id ${keyId} is configured`);
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    },
  };
}

/** A box that cannot seal: no key is configured, so no provider that needs secrets can be used. */
export const NO_SECRET_BOX: SecretBox = {
  seal() {
    throw new Error('ENCRYPTION_KEY is not set: provider secrets cannot be stored');
  },
  open() {
    throw new Error('ENCRYPTION_KEY is not set: stored provider secrets cannot be read');
  },
};
