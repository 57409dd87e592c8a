import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { nextPageLink } from '../../http/paging.js';
import { BANKING_ERRORS, problemResponses } from '../../http/schemas.js';
import { withInputCheck } from '../../http/validation.js';
import { ListTransactionsQuery } from './schemas.js';
import { readListQuery, type TransactionsService } from './service.js';

export function transactionRoutes(
  service: TransactionsService,
  publicUrl: string | undefined,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/transactions',
      {
        schema: {
          tags: ['transactions'],
          security: [{ apiKey: [] }],
          operationId: 'listTransactions',
          summary: "List the team's transactions, newest first",
          description:
            'Filters combine with AND. Pages by `limit` (1 to 5000, default 500) and an opaque `cursor`; when ' +
            'more rows exist the response carries `Link: <url>; rel="next"`. The body is a plain array.',
          querystring: withInputCheck(ListTransactionsQuery, (query) => readListQuery(query).errors),
          response: {
            200: {
              ...Type.Array(Type.Ref('Transaction')),
              description: 'A page of transactions; see the Link header for the next one.',
              headers: {
                link: Type.String({ description: '`<url>; rel="next"`, present when more rows exist.' }),
              },
            },
            ...problemResponses(...BANKING_ERRORS, 404),
          },
        },
      },
      async (request, reply) => {
        const page = await service.list(request.teamId, request.query);
        if (page.nextCursor) reply.header('link', nextPageLink(request, page.nextCursor, publicUrl));
        return page.items;
      },
    );
  };
}
