import { setTimeout as sleep } from 'node:timers/promises';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Database, Queryable, Transaction } from '../../db/client.js';
import { connections, consentReferences, consents } from '../../db/schema.js';
import { isLockNotAvailable } from '../../db/unavailable.js';
import { newId } from '../../ids.js';
import { KeyedMutex } from '../keyed-mutex.js';

export type ConnectionRow = typeof connections.$inferSelect;
export type ConsentRow = typeof consents.$inferSelect;

export async function listConnectionRows(db: Queryable, teamId: string): Promise<ConnectionRow[]> {
  return db
    .select()
    .from(connections)
    .where(eq(connections.teamId, teamId))
    .orderBy(asc(connections.createdAt), asc(connections.id));
}

/**
 * Reads a connection; with `forUpdate` it also locks the row until the transaction ends, waiting
 * for a transaction that holds it, or with `'nowait'` failing at once (`isLockNotAvailable`).
 */
export async function findConnection(
  db: Queryable,
  teamId: string,
  connectionId: string,
  options: { forUpdate?: boolean | 'nowait' } = {},
): Promise<ConnectionRow | null> {
  const query = db
    .select()
    .from(connections)
    .where(and(eq(connections.teamId, teamId), eq(connections.id, connectionId)));
  const [row] = !options.forUpdate
    ? await query
    : await query.for('update', options.forUpdate === 'nowait' ? { noWait: true } : {});
  return row ?? null;
}

/** The first pause before the connection's lock is asked for again, doubled up to the last. */
const LOCK_RETRY_FIRST_MS = 25;
const LOCK_RETRY_LAST_MS = 1_000;

/** This process's requests for each connection's row lock, in the order they asked. */
const rowQueue = new KeyedMutex();

/**
 * Runs `work` in a transaction that holds the connection's row lock (`connection` is null when
 * the team has no such connection). A sync holds that lock for as long as it writes, minutes for
 * a large history. Requests that need it meanwhile (a consent update, a disconnect, a sync) wait
 * their turn in this process, in the order they came, and the first asks PostgreSQL again after
 * a pause while another process holds the row, instead of waiting inside PostgreSQL: there each
 * waiting request held one of the pool's connections, and ten of them left an instance unable to
 * answer any team until the sync ended.
 */
export function withLockedConnection<T>(
  db: Database,
  teamId: string,
  connectionId: string,
  work: (tx: Transaction, connection: ConnectionRow | null) => Promise<T>,
): Promise<T> {
  return rowQueue.run(`${teamId}/${connectionId}`, async () => {
    for (let pause = LOCK_RETRY_FIRST_MS; ; pause = Math.min(pause * 2, LOCK_RETRY_LAST_MS)) {
      try {
        return await db.transaction(async (tx) =>
          work(tx, await findConnection(tx, teamId, connectionId, { forUpdate: 'nowait' })),
        );
      } catch (error) {
        if (!isLockNotAvailable(error)) throw error;
      }
      await sleep(pause);
    }
  });
}

export async function consentsOf(
  db: Queryable,
  teamId: string,
  connectionIds: string[],
): Promise<ConsentRow[]> {
  if (connectionIds.length === 0) return [];
  return db
    .select()
    .from(consents)
    .where(and(eq(consents.teamId, teamId), inArray(consents.connectionId, connectionIds)))
    .orderBy(asc(consents.createdAt), asc(consents.id));
}

export async function isConsentReferenced(
  db: Queryable,
  ref: { teamId: string; provider: string; consentRef: string },
): Promise<boolean> {
  const [row] = await db
    .select({ connectionId: consentReferences.connectionId })
    .from(consentReferences)
    .where(
      and(
        eq(consentReferences.teamId, ref.teamId),
        eq(consentReferences.provider, ref.provider),
        eq(consentReferences.consentRef, ref.consentRef),
      ),
    );
  return row !== undefined;
}

/** Claims a provider consent id for a connection; false when the team has claimed it before. */
export async function claimConsentRef(
  db: Queryable,
  ref: { teamId: string; provider: string; consentRef: string; connectionId: string },
): Promise<boolean> {
  const inserted = await db
    .insert(consentReferences)
    .values(ref)
    .onConflictDoNothing()
    .returning({ connectionId: consentReferences.connectionId });
  return inserted.length === 1;
}

/** Inserts a connection; answers the whole row, the columns' defaults included. */
export async function insertConnection(
  db: Queryable,
  row: typeof connections.$inferInsert,
): Promise<ConnectionRow> {
  const [inserted] = await db.insert(connections).values(row).returning();
  if (!inserted) throw new Error('the connection insert returned no row');
  return inserted;
}

/** A consent the bank has just granted: AUTHORIZED from `createdAt`, with its scopes and expiry. */
export async function insertGrantedConsent(
  db: Queryable,
  consent: Pick<
    typeof consents.$inferInsert,
    'teamId' | 'connectionId' | 'scopes' | 'expiresAt' | 'createdAt'
  >,
): Promise<ConsentRow> {
  const row = { ...consent, id: newId('cons'), status: 'AUTHORIZED' as const };
  const [inserted] = await db.insert(consents).values(row).returning();
  if (!inserted) throw new Error('consent insert returned no row');
  return inserted;
}

/** Revokes the connection's AUTHORIZED consents; answers their ids. */
export async function revokeAuthorizedConsents(
  db: Queryable,
  teamId: string,
  connectionId: string,
  now: Date,
): Promise<string[]> {
  const revoked = await db
    .update(consents)
    .set({ status: 'REVOKED', revokedAt: now })
    .where(
      and(
        eq(consents.teamId, teamId),
        eq(consents.connectionId, connectionId),
        eq(consents.status, 'AUTHORIZED'),
      ),
    )
    .returning({ id: consents.id });
  return revoked.map((row) => row.id);
}

export async function updateConnection(
  db: Queryable,
  teamId: string,
  connectionId: string,
  changes: Partial<Omit<ConnectionRow, 'teamId' | 'id' | 'createdAt'>>,
) {
  await db
    .update(connections)
    .set(changes)
    .where(and(eq(connections.teamId, teamId), eq(connections.id, connectionId)));
}

/** The consent a connection currently works under: its newest AUTHORIZED one. */
export function currentConsent(rows: ConsentRow[]): ConsentRow | undefined {
  return rows.filter((row) => row.status === 'AUTHORIZED').at(-1);
}
