import { type Static, Type } from 'typebox';
import { Nullable, ResourceId, StringEnum, TeamId, Timestamp } from '../http/schemas.js';
import { WEBHOOK_EVENT_TYPES } from './outbox.js';
import { MAX_URL_LENGTH } from './url.js';

const EVENT_TYPES_HELP = `A non-empty subset of ${WEBHOOK_EVENT_TYPES.map((type) => `\`${type}\``).join(', ')}.`;

export const CreateWebhookBody = Type.Object({
  teamId: TeamId,
  url: Type.String({
    minLength: 1,
    maxLength: MAX_URL_LENGTH,
    description:
      'Where events are POSTed: an https:// URL of a public host. This machine (localhost, 127.0.0.0/8, [::1]), ' +
      'over plain http:// too, only where the deployment allows it (WEBHOOK_ALLOW_LOOPBACK=true, for development). ' +
      'Redirects are not followed.',
    examples: ['https://example.com/webhooks/banking'],
  }),
  events: Type.Optional(
    Type.Array(StringEnum([...WEBHOOK_EVENT_TYPES]), {
      minItems: 1,
      maxItems: WEBHOOK_EVENT_TYPES.length,
      uniqueItems: true,
      description: `The event types to send. ${EVENT_TYPES_HELP} Default: all of them.`,
    }),
  ),
});

export const WebhookEndpoint = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(StringEnum([...WEBHOOK_EVENT_TYPES]), { description: 'The event types sent to it.' }),
  createdAt: Timestamp,
});

export const CreatedWebhookEndpoint = Type.Object({
  ...WebhookEndpoint.properties,
  secret: Type.String({
    description:
      'The signing secret (`whsec_...`), shown only here. Each delivery carries ' +
      '`Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.',
  }),
});

export const WebhooksQuery = Type.Object({ teamId: TeamId });
export const WebhookParams = Type.Object({ id: ResourceId });

export const WebhookDelivery = Type.Object({
  id: Type.String(),
  eventId: Type.String({ description: 'Also sent as the `Webhook-Id` header, the same on every attempt.' }),
  type: StringEnum([...WEBHOOK_EVENT_TYPES]),
  status: StringEnum(['PENDING', 'SUCCEEDED', 'FAILED']),
  attempts: Type.Integer({ minimum: 0 }),
  lastStatusCode: Nullable(Type.Integer(), {
    description: "The endpoint's HTTP status at the last attempt; null when it could not be reached.",
  }),
  lastError: Nullable(Type.String()),
  nextAttemptAt: Nullable(Timestamp, {
    description: 'When a PENDING delivery is tried next.',
  }),
  deliveredAt: Nullable(Timestamp),
  createdAt: Timestamp,
});

export type CreateWebhookInput = Static<typeof CreateWebhookBody>;
export type WebhookEndpointView = Static<typeof WebhookEndpoint>;
export type CreatedWebhookEndpointView = Static<typeof CreatedWebhookEndpoint>;
export type WebhookDeliveryView = Static<typeof WebhookDelivery>;
