import { teamExists } from '../admin/queries.js';
import type { Database } from '../db/client.js';
import { notFound } from '../errors.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import { type AuditRow, listAuditRows } from './queries.js';
import type { AuditAction, AuditTargetType } from './record.js';
import {
  type AuditEventView,
  type AuditPageView,
  type AuditQueryInput,
  DEFAULT_AUDIT_LIMIT,
} from './schemas.js';

function toAuditEventView(row: AuditRow): AuditEventView {
  return {
    id: row.id,
    teamId: row.teamId,
    occurredAt: row.occurredAt.toISOString(),
    actor: { type: row.actorType, keyId: row.actorKeyId },
    action: row.action as AuditAction,
    target: { type: row.targetType as AuditTargetType, id: row.targetId },
    requestId: row.requestId,
    details: row.details,
  };
}

/** Reads a team's audit log for the operator. */
export function createAuditService(db: Database) {
  return {
    async list(teamId: string, query: AuditQueryInput): Promise<AuditPageView> {
      // The transactions list's keyset cursor (the schema's `cursor` format has read it), with
      // the event's time in the date's place.
      const position = query.cursor === undefined ? null : decodeCursor(query.cursor);
      if (!(await teamExists(db, teamId))) throw notFound('Team');
      const limit = query.limit ?? DEFAULT_AUDIT_LIMIT;
      const after = position ? { occurredAt: position.at, id: position.id } : null;
      const rows = await listAuditRows(
        db,
        { teamId, action: query.action, targetId: query.targetId, after },
        limit + 1,
      );
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        data: page.map(toAuditEventView),
        nextCursor:
          rows.length > limit && last
            ? encodeCursor({ at: last.occurredAt.toISOString(), id: last.id })
            : null,
      };
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
