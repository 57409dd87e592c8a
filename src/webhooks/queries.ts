import { and, asc, desc, eq, isNull } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { webhookDeliveries, webhookEndpoints, webhookEvents } from '../db/schema.js';

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;

export const DELETED_ENDPOINT_ERROR = 'endpoint deleted';

export async function insertEndpoint(db: Queryable, row: typeof webhookEndpoints.$inferInsert) {
  const [inserted] = await db.insert(webhookEndpoints).values(row).returning();
  if (!inserted) throw new Error('webhook endpoint insert returned no row');
  return inserted;
}

/** The team's endpoints that are not deleted, oldest first. */
export async function listEndpoints(db: Queryable, teamId: string): Promise<WebhookEndpointRow[]> {
  return db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.teamId, teamId), isNull(webhookEndpoints.deletedAt)))
    .orderBy(asc(webhookEndpoints.createdAt), asc(webhookEndpoints.id));
}

/** An endpoint of the team that is not deleted, or null. */
export async function findEndpoint(
  db: Queryable,
  teamId: string,
  endpointId: string,
): Promise<WebhookEndpointRow | null> {
  const [row] = await db
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.teamId, teamId),
        eq(webhookEndpoints.id, endpointId),
        isNull(webhookEndpoints.deletedAt),
      ),
    );
  return row ?? null;
}

/** Soft-deletes an endpoint; false when the team has no such endpoint (or it is deleted already). */
export async function deleteEndpoint(db: Queryable, teamId: string, endpointId: string, now: Date) {
  const deleted = await db
    .update(webhookEndpoints)
    .set({ deletedAt: now })
    .where(
      and(
        eq(webhookEndpoints.teamId, teamId),
        eq(webhookEndpoints.id, endpointId),
        isNull(webhookEndpoints.deletedAt),
      ),
    )
    .returning({ id: webhookEndpoints.id });
  return deleted.length === 1;
}

/** Ends every PENDING delivery to an endpoint: FAILED, 'endpoint deleted'. */
export async function failPendingDeliveries(db: Queryable, teamId: string, endpointId: string) {
  await db
    .update(webhookDeliveries)
    .set({ status: 'FAILED', lastError: DELETED_ENDPOINT_ERROR, nextAttemptAt: null })
    .where(
      and(
        eq(webhookDeliveries.teamId, teamId),
        eq(webhookDeliveries.endpointId, endpointId),
        eq(webhookDeliveries.status, 'PENDING'),
      ),
    );
}

/** The delivery log of an endpoint, newest first, with each event's type. */
export async function listDeliveries(db: Queryable, teamId: string, endpointId: string, limit: number) {
  return db
    .select({
      id: webhookDeliveries.id,
      eventId: webhookDeliveries.eventId,
      type: webhookEvents.type,
      status: webhookDeliveries.status,
      attempts: webhookDeliveries.attempts,
      lastStatusCode: webhookDeliveries.lastStatusCode,
      lastError: webhookDeliveries.lastError,
      nextAttemptAt: webhookDeliveries.nextAttemptAt,
      deliveredAt: webhookDeliveries.deliveredAt,
      createdAt: webhookDeliveries.createdAt,
    })
    .from(webhookDeliveries)
    .innerJoin(
      webhookEvents,
      and(
        eq(webhookEvents.teamId, webhookDeliveries.teamId),
        eq(webhookEvents.id, webhookDeliveries.eventId),
      ),
    )
    .where(and(eq(webhookDeliveries.teamId, teamId), eq(webhookDeliveries.endpointId, endpointId)))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit);
}
