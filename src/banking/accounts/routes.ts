import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BANKING_ERRORS, problemResponses } from '../../http/schemas.js';
import { AccountParams, AccountQuery, ListAccountsQuery } from './schemas.js';
import type { AccountsService } from './service.js';

const tags = ['accounts'];
const security = [{ apiKey: [] }];

export function accountRoutes(service: AccountsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/accounts',
      {
        schema: {
          tags,
          security,
          operationId: 'listAccounts',
          summary: "List the team's bank accounts with balances",
          querystring: ListAccountsQuery,
          response: {
            200: Type.Array(Type.Ref('Account'), { description: "The team's accounts with their balances." }),
            ...problemResponses(...BANKING_ERRORS, 404),
          },
        },
      },
      async (request) => service.list(request.teamId, request.query.connectionId),
    );

    app.get(
      '/accounts/:id',
      {
        schema: {
          tags,
          security,
          operationId: 'getAccountDetails',
          summary: 'An account with its transaction count and 10 newest transactions',
          params: AccountParams,
          querystring: AccountQuery,
          response: {
            200: {
              ...Type.Ref('AccountDetails'),
              description: 'The account, its transaction count and 10 newest transactions.',
            },
            ...problemResponses(...BANKING_ERRORS, 404),
          },
        },
      },
      async (request) => service.details(request.teamId, request.params.id),
    );
  };
}
