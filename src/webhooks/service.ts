import { type AuditContext, recordAudit } from '../audit/record.js';
import type { Database } from '../db/client.js';
import { AppError, type FieldError, invalidInput, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { SecretBox } from '../secrets.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './outbox.js';
import {
  deleteEndpoint,
  failPendingDeliveries,
  findEndpoint,
  insertEndpoint,
  listDeliveries,
  listEndpoints,
  type WebhookEndpointRow,
} from './queries.js';
import type {
  CreatedWebhookEndpointView,
  CreateWebhookInput,
  WebhookDeliveryView,
  WebhookEndpointView,
} from './schemas.js';
import { generateSecret } from './signature.js';
import { type WebhookUrlPolicy, webhookUrlProblem } from './url.js';

/** How many deliveries the log shows, newest first. */
export const DELIVERY_LOG_LIMIT = 100;

export interface WebhooksDeps {
  db: Database;
  clock: () => Date;
  /** Seals endpoint secrets at rest; without a key (`NO_SECRET_BOX`) endpoints cannot be created. */
  secrets: SecretBox;
  urlPolicy: WebhookUrlPolicy;
}

function toEndpointView(row: WebhookEndpointRow): WebhookEndpointView {
  return {
    id: row.id,
    url: row.url,
    events: row.events as WebhookEventType[],
    createdAt: row.createdAt.toISOString(),
  };
}

/** Webhook endpoints of a team: register (the secret is shown once), list, delete, delivery log. */
export function createWebhooksService({ db, clock, secrets, urlPolicy }: WebhooksDeps) {
  /** The input check of registering (src/http/validation.ts): a URL this deployment may call. */
  const createProblems = (input: Partial<CreateWebhookInput>): FieldError[] => {
    const problem = input.url === undefined ? null : webhookUrlProblem(input.url, urlPolicy);
    return problem ? [{ path: '/url', message: problem, in: 'body' }] : [];
  };

  return {
    createProblems,

    async create(
      teamId: string,
      input: CreateWebhookInput,
      audit: AuditContext,
    ): Promise<CreatedWebhookEndpointView> {
      const problems = createProblems(input);
      if (problems.length > 0) throw invalidInput(problems);
      const wanted = new Set(input.events ?? WEBHOOK_EVENT_TYPES);
      const events = WEBHOOK_EVENT_TYPES.filter((type) => wanted.has(type));
      const secret = generateSecret();
      let sealed: string;
      try {
        sealed = secrets.seal(secret);
      } catch {
        throw new AppError(
          'SERVICE_UNAVAILABLE',
          'Webhook endpoints need an encryption key for their signing secrets, and this deployment has none ' +
            '(set ENCRYPTION_KEY).',
        );
      }
      const now = clock();
      const row = await db.transaction(async (tx) => {
        const inserted = await insertEndpoint(tx, {
          teamId,
          id: newId('whe'),
          url: input.url,
          secret: sealed,
          events,
          createdAt: now,
        });
        await recordAudit(
          tx,
          audit,
          {
            teamId,
            action: 'webhook_endpoint.created',
            targetType: 'webhook_endpoint',
            targetId: inserted.id,
            // The origin only: a receiver's path or query often carries a token of its own.
            details: { origin: new URL(input.url).origin, events },
          },
          now,
        );
        return inserted;
      });
      return { ...toEndpointView(row), secret };
    },

    async list(teamId: string): Promise<WebhookEndpointView[]> {
      return (await listEndpoints(db, teamId)).map(toEndpointView);
    },

    /** Soft delete: the endpoint disappears and its pending deliveries end as FAILED. */
    async remove(teamId: string, endpointId: string, audit: AuditContext): Promise<void> {
      const now = clock();
      await db.transaction(async (tx) => {
        if (!(await deleteEndpoint(tx, teamId, endpointId, now))) throw notFound('Webhook endpoint');
        await failPendingDeliveries(tx, teamId, endpointId);
        await recordAudit(
          tx,
          audit,
          {
            teamId,
            action: 'webhook_endpoint.deleted',
            targetType: 'webhook_endpoint',
            targetId: endpointId,
          },
          now,
        );
      });
    },

    async deliveries(teamId: string, endpointId: string): Promise<WebhookDeliveryView[]> {
      if (!(await findEndpoint(db, teamId, endpointId))) throw notFound('Webhook endpoint');
      const rows = await listDeliveries(db, teamId, endpointId, DELIVERY_LOG_LIMIT);
      return rows.map((row) => ({
        ...row,
        type: row.type as WebhookEventType,
        nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null,
        deliveredAt: row.deliveredAt?.toISOString() ?? null,
        createdAt: row.createdAt.toISOString(),
      }));
    },
  };
}

export type WebhooksService = ReturnType<typeof createWebhooksService>;
