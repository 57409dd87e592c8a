import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';

/**
 * Request bodies are JSON in UTF-8 only (RFC 8259 requires UTF-8 between systems). Fastify's
 * JSON parser reads every body as UTF-8 whatever charset its content type names, so a body a
 * client sent as `charset=latin1` would be stored with each accented letter turned into U+FFFD:
 * a body that names another charset is a 415 instead. Other content types are 415 already.
 */
export function acceptJsonInUtf8Only(app: FastifyInstance) {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const charset = charsetOf(request.headers['content-type']);
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
      return done(
        new AppError('UNSUPPORTED_MEDIA_TYPE', `JSON bodies are UTF-8; charset=${charset} is not accepted.`),
        undefined,
      );
    }
    parseJson(request, String(body), done);
  });
}

/** The `charset` parameter of a media type (RFC 9110: a token or a quoted string), if any. */
function charsetOf(contentType: string | undefined): string | undefined {
  const match = contentType && /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  return match ? (match[1] ?? match[2]) : undefined;
}
