import { and, eq, lt } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { idempotencyKeys } from '../db/schema.js';

export type StoredKey = typeof idempotencyKeys.$inferSelect;

/** An Idempotency-Key in its scope (a team, or the operator API). */
export interface KeyRef {
  scope: string;
  key: string;
}

const keyIs = (ref: KeyRef) => and(eq(idempotencyKeys.scope, ref.scope), eq(idempotencyKeys.key, ref.key));

/** Inserts the key as IN_PROGRESS; false when the scope already holds it. */
export async function claimKey(
  db: Queryable,
  claim: KeyRef & { requestHash: string; lockedUntil: Date; createdAt: Date; expiresAt: Date },
): Promise<boolean> {
  const inserted = await db
    .insert(idempotencyKeys)
    .values({ ...claim, status: 'IN_PROGRESS' })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  return inserted.length === 1;
}

export async function findKey(db: Queryable, ref: KeyRef): Promise<StoredKey | null> {
  const [row] = await db.select().from(idempotencyKeys).where(keyIs(ref));
  return row ?? null;
}

/** Takes over an IN_PROGRESS key whose request died (its lock ran out); true when taken. */
export async function takeOverDeadKey(db: Queryable, ref: KeyRef, now: Date, lockedUntil: Date) {
  const taken = await db
    .update(idempotencyKeys)
    .set({ lockedUntil })
    .where(and(keyIs(ref), eq(idempotencyKeys.status, 'IN_PROGRESS'), lt(idempotencyKeys.lockedUntil, now)))
    .returning({ key: idempotencyKeys.key });
  return taken.length === 1;
}

/** Renews the lock of a key whose request is still running. */
export async function extendLock(db: Queryable, ref: KeyRef, lockedUntil: Date) {
  await db
    .update(idempotencyKeys)
    .set({ lockedUntil })
    .where(and(keyIs(ref), eq(idempotencyKeys.status, 'IN_PROGRESS')));
}

export async function completeKey(
  db: Queryable,
  ref: KeyRef,
  response: { responseStatus: number; responseBody: string | null },
) {
  await db
    .update(idempotencyKeys)
    .set({ ...response, status: 'COMPLETED', lockedUntil: null })
    .where(keyIs(ref));
}

/** Forgets a key: its request failed and wrote nothing, so a retry may run it again. */
export async function releaseKey(db: Queryable, ref: KeyRef) {
  await db.delete(idempotencyKeys).where(and(keyIs(ref), eq(idempotencyKeys.status, 'IN_PROGRESS')));
}

/** Deletes one expired key so it can be claimed afresh. */
export async function deleteIfExpired(db: Queryable, ref: KeyRef, now: Date) {
  await db.delete(idempotencyKeys).where(and(keyIs(ref), lt(idempotencyKeys.expiresAt, now)));
}

export async function purgeExpiredKeys(db: Queryable, now: Date): Promise<number> {
  const deleted = await db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.expiresAt, now))
    .returning({ key: idempotencyKeys.key });
  return deleted.length;
}
