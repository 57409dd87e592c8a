import type { Transaction } from '../db/client.js';
import { auditEvents } from '../db/schema.js';
import { newId } from '../ids.js';

export const AUDIT_ACTIONS = [
  'team.created',
  'api_key.created',
  'api_key.revoked',
  'connection.created',
  'connection.disconnected',
  'connection.synced',
  'connection.sync_failed',
  'consent.renewed',
  'webhook_endpoint.created',
  'webhook_endpoint.deleted',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_TARGET_TYPES = ['team', 'api_key', 'connection', 'webhook_endpoint'] as const;
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];

export const ACTOR_TYPES = ['api_key', 'admin', 'system'] as const;
export type Actor = { type: 'api_key'; keyId: string } | { type: 'admin' } | { type: 'system' };

/** Who asked for a change and in which request; routes build it, services pass it down. */
export interface AuditContext {
  actor: Actor;
  requestId: string | null;
}

/** Changes nobody asked for in a request: the background scheduler's. */
export const SYSTEM_CONTEXT: AuditContext = { actor: { type: 'system' }, requestId: null };

/** A request made with a team's API key, as the team guard identified it. */
export const apiKeyContext = (request: { id: string; apiKeyId: string }): AuditContext => ({
  actor: { type: 'api_key', keyId: request.apiKeyId },
  requestId: request.id,
});

/** A request made with the ADMIN_TOKEN. */
export const adminContext = (request: { id: string }): AuditContext => ({
  actor: { type: 'admin' },
  requestId: request.id,
});

/**
 * Flat values only: a whole row or provider answer cannot be dropped in by accident, so a token,
 * a key hash or sealed provider state never reaches the log.
 */
export type AuditDetails = Record<string, string | number | boolean | null | string[]>;

export interface AuditEntry {
  teamId: string;
  action: AuditAction;
  targetType: AuditTargetType;
  targetId: string;
  details?: AuditDetails;
}

/**
 * Records a change in the audit log. It takes a transaction, not the database: the row is written
 * by the transaction of the change, so a change that rolls back leaves no row and a committed one
 * always has its row.
 */
export async function recordAudit(
  tx: Transaction,
  context: AuditContext,
  entry: AuditEntry,
  now: Date,
): Promise<void> {
  await tx.insert(auditEvents).values({
    teamId: entry.teamId,
    id: newId('aud'),
    occurredAt: now,
    actorType: context.actor.type,
    actorKeyId: context.actor.type === 'api_key' ? context.actor.keyId : null,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    requestId: context.requestId,
    details: entry.details ?? {},
  });
}
