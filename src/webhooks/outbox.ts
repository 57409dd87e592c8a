import { and, arrayContains, eq, isNull } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { webhookDeliveries, webhookEndpoints, webhookEvents } from '../db/schema.js';
import { newId } from '../ids.js';

export const WEBHOOK_EVENT_TYPES = [
  'sync.completed',
  'sync.failed',
  'consent.expiring',
  'connection.disconnected',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookEvent {
  teamId: string;
  type: WebhookEventType;
  /** The event's `data`: the object the event is about, as the API shows it. */
  data: Record<string, unknown>;
}

/**
 * Records an event in the outbox, in the caller's transaction, with one pending delivery per
 * endpoint of the team subscribed to its type. It is sent only after that transaction commits
 * (by the dispatcher), so an event is never sent for a change that was rolled back.
 */
export async function recordEvent(tx: Queryable, event: WebhookEvent, now: Date): Promise<string> {
  const id = newId('evt');
  await tx.insert(webhookEvents).values({
    teamId: event.teamId,
    id,
    type: event.type,
    payload: { id, type: event.type, createdAt: now.toISOString(), data: event.data },
    createdAt: now,
  });
  const endpoints = await tx
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.teamId, event.teamId),
        isNull(webhookEndpoints.deletedAt),
        arrayContains(webhookEndpoints.events, [event.type]),
      ),
    );
  if (endpoints.length > 0) {
    await tx.insert(webhookDeliveries).values(
      endpoints.map((endpoint) => ({
        teamId: event.teamId,
        id: newId('whd'),
        eventId: id,
        endpointId: endpoint.id,
        status: 'PENDING' as const,
        nextAttemptAt: now,
        createdAt: now,
      })),
    );
  }
  return id;
}
