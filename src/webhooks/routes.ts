import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { apiKeyContext } from '../audit/record.js';
import { BANKING_ERRORS, problemResponses } from '../http/schemas.js';
import { withInputCheck } from '../http/validation.js';
import {
  CreatedWebhookEndpoint,
  CreateWebhookBody,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookParams,
  WebhooksQuery,
} from './schemas.js';
import type { WebhooksService } from './service.js';

const tags = ['webhooks'];
const security = [{ apiKey: [] }];

export function webhookRoutes(service: WebhooksService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/webhooks',
      {
        // The response holds a credential: kept for replay only when it can be sealed.
        config: { shownOnce: true },
        schema: {
          tags,
          security,
          operationId: 'createWebhookEndpoint',
          summary: 'Register a webhook endpoint',
          description:
            'Events are POSTed as JSON `{id, type, createdAt, data}`, signed with the secret answered here (and ' +
            'only here): `Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, ' +
            'with `Webhook-Id` (the event id, the same on every retry) and `Webhook-Timestamp`. A 2xx answer ' +
            'within 10 s is a delivery; anything else is retried with exponential backoff (10 s doubling, at ' +
            'most 1 h apart, 12 attempts). 503 when the deployment has no encryption key for the secret.',
          body: withInputCheck(CreateWebhookBody, service.createProblems),
          response: {
            201: {
              ...CreatedWebhookEndpoint,
              description: 'The endpoint, with its signing secret shown this once.',
            },
            ...problemResponses(...BANKING_ERRORS, 413, 415, 503),
          },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await service.create(request.teamId, request.body, apiKeyContext(request))),
    );

    app.get(
      '/webhooks',
      {
        schema: {
          tags,
          security,
          operationId: 'listWebhookEndpoints',
          summary: "List the team's webhook endpoints, oldest first (without secrets)",
          querystring: WebhooksQuery,
          response: {
            200: Type.Array(WebhookEndpoint, { description: "The team's endpoints, oldest first." }),
            ...problemResponses(...BANKING_ERRORS),
          },
        },
      },
      async (request) => service.list(request.teamId),
    );

    app.delete(
      '/webhooks/:id',
      {
        schema: {
          tags,
          security,
          operationId: 'deleteWebhookEndpoint',
          summary: 'Delete a webhook endpoint',
          description: 'Its pending deliveries stop (they end FAILED with `endpoint deleted`).',
          querystring: WebhooksQuery,
          params: WebhookParams,
          response: {
            204: Type.Null({ description: 'Deleted' }),
            ...problemResponses(...BANKING_ERRORS, 404),
          },
        },
      },
      async (request, reply) => {
        await service.remove(request.teamId, request.params.id, apiKeyContext(request));
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/webhooks/:id/deliveries',
      {
        schema: {
          tags,
          security,
          operationId: 'listWebhookDeliveries',
          summary: "An endpoint's delivery log, newest first (at most 100)",
          querystring: WebhooksQuery,
          params: WebhookParams,
          response: {
            200: Type.Array(WebhookDelivery, { description: 'Deliveries, newest first.' }),
            ...problemResponses(...BANKING_ERRORS, 404),
          },
        },
      },
      async (request) => service.deliveries(request.teamId, request.params.id),
    );
  };
}
