import type { IncomingMessage } from 'node:http';

/**
 * What is wrong with a request's `Host` or `Authorization` headers, or null. RFC 9112 (3.2)
 * requires a server to answer 400 to an HTTP/1.1 request without a Host and to any request with
 * more than one. Node answers the first itself with an empty 400 (so the app turns that check off
 * to answer it as problem+json), and keeps the first of several without a word. It keeps the
 * first of several `Authorization` headers too, where a proxy in front may read the last: the
 * service would then act as another key than the one the proxy saw, so several are a 400 as well.
 */
export function headerCountProblem(request: IncomingMessage): string | null {
  const raw = request.rawHeaders;
  let hosts = 0;
  let credentials = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
    else if (name.length === 13 && name.toLowerCase() === 'authorization') credentials++;
  }
  if (hosts > 1) return 'A request must carry one Host header, not several.';
  if (credentials > 1) return 'A request must carry at most one Authorization header.';
  if (hosts === 0 && (request.httpVersionMajor > 1 || request.httpVersionMinor >= 1)) {
    return 'An HTTP/1.1 request must carry a Host header.';
  }
  return null;
}
