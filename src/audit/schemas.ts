import { type Static, Type } from 'typebox';
import { Nullable, ResourceId, StringEnum, Timestamp } from '../http/schemas.js';
import { ACTOR_TYPES, AUDIT_ACTIONS, AUDIT_TARGET_TYPES } from './record.js';

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 500;

export const AuditQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_AUDIT_LIMIT, default: DEFAULT_AUDIT_LIMIT })),
  cursor: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 512,
      format: 'cursor',
      description: 'Opaque; from `nextCursor` or the Link header.',
    }),
  ),
  action: Type.Optional(StringEnum([...AUDIT_ACTIONS])),
  targetId: Type.Optional(ResourceId),
});

export const AuditEvent = Type.Object({
  id: Type.String(),
  teamId: Type.String(),
  occurredAt: Timestamp,
  actor: Type.Object({
    type: StringEnum([...ACTOR_TYPES], {
      description:
        "`api_key` (a team's key), `admin` (the ADMIN_TOKEN) or `system` (the background scheduler).",
    }),
    keyId: Nullable(Type.String(), { description: 'The API key, for `api_key` actors.' }),
  }),
  action: StringEnum([...AUDIT_ACTIONS]),
  target: Type.Object({ type: StringEnum([...AUDIT_TARGET_TYPES]), id: Type.String() }),
  requestId: Nullable(Type.String(), {
    description: 'The `x-request-id` of the request that made the change; null for the system.',
  }),
  details: Type.Record(Type.String(), Type.Unknown(), {
    description: 'Ids, statuses, scopes and counts of the change; never keys, secrets or provider tokens.',
  }),
});

export const AuditPage = Type.Object({
  data: Type.Array(AuditEvent),
  nextCursor: Nullable(Type.String(), { description: 'Null on the last page.' }),
});

export type AuditQueryInput = Static<typeof AuditQuery>;
export type AuditEventView = Static<typeof AuditEvent>;
export type AuditPageView = Static<typeof AuditPage>;
