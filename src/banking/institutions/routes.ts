import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BANKING_ERRORS, problemResponses } from '../../http/schemas.js';
import { withInputCheck } from '../../http/validation.js';
import { InstitutionsQuery, ProviderItem, ProvidersQuery } from './schemas.js';
import type { InstitutionsService } from './service.js';

const tags = ['institutions'];
const security = [{ apiKey: [] }];

export function institutionRoutes(service: InstitutionsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/providers',
      {
        schema: {
          tags,
          security,
          operationId: 'listProviders',
          summary: 'The providers of this deployment, and why any is unavailable',
          querystring: ProvidersQuery,
          response: {
            200: Type.Array(ProviderItem, { description: 'Every provider, and why any is unavailable.' }),
            ...problemResponses(...BANKING_ERRORS),
          },
        },
      },
      async () => service.providers(),
    );

    app.get(
      '/institutions',
      {
        schema: {
          tags,
          security,
          operationId: 'listInstitutions',
          summary: "Search a provider's banks",
          description: 'Cached for an hour per provider, country and text.',
          querystring: withInputCheck(InstitutionsQuery, service.queryProblems),
          response: {
            200: Type.Array(Type.Ref('Institution'), { description: 'The banks that match.' }),
            ...problemResponses(...BANKING_ERRORS, 422, 502, 503, 504),
          },
        },
      },
      async (request) => service.search(request.query),
    );
  };
}
