import { and, eq, isNull } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { apiKeys } from '../db/schema.js';

export async function findActiveKey(db: Queryable, keyId: string) {
  const [row] = await db
    .select({ id: apiKeys.id, teamId: apiKeys.teamId, keyHash: apiKeys.keyHash })
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)));
  return row ?? null;
}
