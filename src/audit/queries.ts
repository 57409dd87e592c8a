import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { auditEvents } from '../db/schema.js';

export type AuditRow = typeof auditEvents.$inferSelect;

export interface AuditFilter {
  teamId: string;
  action?: string | undefined;
  targetId?: string | undefined;
  /** The (occurredAt, id) of the last row of the previous page; the time as `toISOString` writes it. */
  after?: { occurredAt: string; id: string } | null;
}

/**
 * A page of a team's audit log, newest first. The (team_id, occurred_at, id) index serves it
 * read backwards; the cursor is a row comparison on the same key, so no OFFSET is ever used.
 */
export async function listAuditRows(db: Queryable, filter: AuditFilter, limit: number): Promise<AuditRow[]> {
  const conditions: (SQL | undefined)[] = [
    eq(auditEvents.teamId, filter.teamId),
    filter.action ? eq(auditEvents.action, filter.action) : undefined,
    filter.targetId ? eq(auditEvents.targetId, filter.targetId) : undefined,
    filter.after
      ? sql`(${auditEvents.occurredAt}, ${auditEvents.id}) < (${filter.after.occurredAt}::timestamptz, ${filter.after.id})`
      : undefined,
  ];
  return db
    .select()
    .from(auditEvents)
    .where(and(...conditions))
    .orderBy(desc(auditEvents.occurredAt), desc(auditEvents.id))
    .limit(limit);
}
