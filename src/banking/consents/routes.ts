import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BANKING_ERRORS, problemResponses } from '../../http/schemas.js';
import { withInputCheck } from '../../http/validation.js';
import { ConsentLinkSchema, LinkBody } from './schemas.js';
import type { ConsentLinkService } from './service.js';

export function consentLinkRoutes(service: ConsentLinkService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/consents/link',
      {
        schema: {
          tags: ['connections'],
          security: [{ apiKey: [] }],
          operationId: 'createConsentLink',
          summary: 'Start a consent at the bank',
          description:
            'Creates the provider-side authorisation (GoCardless agreement and requisition, Plaid link token) ' +
            'and answers the URL to send the user to; afterwards call `POST /api/banking/connect` with `consentId`.',
          body: withInputCheck(LinkBody, service.linkProblems),
          response: {
            201: {
              ...ConsentLinkSchema,
              description: 'Where to send the user, and the consent id to connect once they return.',
            },
            ...problemResponses(...BANKING_ERRORS, 413, 415, 422, 502, 503, 504),
          },
        },
      },
      async (request, reply) => reply.code(201).send(await service.createLink(request.teamId, request.body)),
    );
  };
}
