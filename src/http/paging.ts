import type { FastifyRequest } from 'fastify';

/** The same request with `cursor` replaced: the target of `Link: <...>; rel="next"`. */
export function nextPageUrl(request: FastifyRequest, cursor: string): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  url.searchParams.set('cursor', cursor);
  return url.toString();
}

/** `Link: <url>; rel="next"` for the next page, like every paged list answers. */
export const nextPageLink = (request: FastifyRequest, cursor: string) =>
  `<${nextPageUrl(request, cursor)}>; rel="next"`;
