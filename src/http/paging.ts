import type { FastifyRequest } from 'fastify';

/** A host name or an IP literal, with an optional port: what a Host header should be. */
const AUTHORITY = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The same request with `cursor` replaced: the target of `Link: <...>; rel="next"`. On
 * `publicUrl` (`PUBLIC_URL`) when the deployment names where clients reach it, as behind a proxy
 * that ends TLS, which the request itself cannot show. Else absolute on the request's own host,
 * or relative (RFC 8288 resolves it against the request's URL) when the Host header is not a
 * plain host, so no header can write into the link or break its syntax. Only the query is
 * parsed: the path is the one the router matched.
 */
export function nextPageUrl(request: FastifyRequest, cursor: string, publicUrl?: string): string {
  const queryAt = request.url.indexOf('?');
  const path = queryAt === -1 ? request.url : request.url.slice(0, queryAt);
  const query = new URLSearchParams(queryAt === -1 ? '' : request.url.slice(queryAt + 1));
  query.set('cursor', cursor);
  const origin = publicUrl ?? (AUTHORITY.test(request.host) ? `${request.protocol}://${request.host}` : '');
  return `${origin}${path}?${query}`;
}

/** `Link: <url>; rel="next"` for the next page, like every paged list answers. */
export const nextPageLink = (request: FastifyRequest, cursor: string, publicUrl?: string) =>
  `<${nextPageUrl(request, cursor, publicUrl)}>; rel="next"`;
