import type { Database } from '../db/client.js';
import { findActiveKey } from './queries.js';

export type ActiveKey = NonNullable<Awaited<ReturnType<typeof findActiveKey>>>;

/**
 * Active API keys as last read from the database, for `ttlMs`: a request then costs no lookup
 * round trip. A key revoked through this instance is forgotten at once; other instances stop
 * accepting it within `ttlMs` (see docs/SECURITY.md). Unknown key ids are never cached, so
 * guessing cannot fill the cache, and it holds at most `maxEntries` keys (oldest out first).
 */
export interface KeyCache {
  find(keyId: string): Promise<ActiveKey | null>;
  /** The key when it is cached and fresh, without waiting: most requests need no more. */
  cached(keyId: string): ActiveKey | undefined;
  forget(keyId: string): void;
}

export function createKeyCache(db: Database, options: { ttlMs: number; maxEntries?: number }): KeyCache {
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, { key: ActiveKey; until: number }>();
  const cached = (keyId: string) => {
    const entry = entries.get(keyId);
    return entry && entry.until > performance.now() ? entry.key : undefined;
  };
  return {
    cached,
    async find(keyId) {
      const fresh = cached(keyId);
      if (fresh) return fresh;
      entries.delete(keyId);
      const key = await findActiveKey(db, keyId);
      if (key && options.ttlMs > 0) {
        if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
        entries.set(keyId, { key, until: performance.now() + options.ttlMs });
      }
      return key;
    },
    forget(keyId) {
      entries.delete(keyId);
    },
  };
}
