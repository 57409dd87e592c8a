import { and, eq, isNull } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { apiKeys, teams } from '../db/schema.js';

export async function insertTeam(db: Queryable, team: { id: string; name: string }): Promise<boolean> {
  const inserted = await db.insert(teams).values(team).onConflictDoNothing().returning({ id: teams.id });
  return inserted.length === 1;
}

export async function teamExists(db: Queryable, teamId: string): Promise<boolean> {
  const [row] = await db.select({ id: teams.id }).from(teams).where(eq(teams.id, teamId));
  return row !== undefined;
}

export async function insertApiKey(db: Queryable, key: { teamId: string; id: string; keyHash: string }) {
  await db.insert(apiKeys).values(key);
}

/**
 * Revokes a key: `revoked` when this call revoked it, `already_revoked` for a second revoke (which
 * changes nothing), `not_found` when the team has no such key.
 */
export async function revokeApiKey(
  db: Queryable,
  teamId: string,
  keyId: string,
  now: Date,
): Promise<'revoked' | 'already_revoked' | 'not_found'> {
  const revoked = await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.teamId, teamId), eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  if (revoked.length === 1) return 'revoked';
  const [row] = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(eq(apiKeys.teamId, teamId), eq(apiKeys.id, keyId)));
  return row ? 'already_revoked' : 'not_found';
}
