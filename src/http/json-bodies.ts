import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';

/**
 * Request bodies are JSON in UTF-8 only (RFC 8259 requires UTF-8 between systems). Fastify's
 * JSON parser reads every body as UTF-8 whatever charset its content type names, so a body a
 * client sent as `charset=latin1` would be stored with each accented letter turned into U+FFFD:
 * a body that names another charset is a 415 instead. Other content types are 415 already.
 * Bytes that are not UTF-8 at all would be turned into U+FFFD the same way, so that two consent
 * ids a client sent differently became one: such a body is a 400.
 */
export function acceptJsonInUtf8Only(app: FastifyInstance) {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    // No content coding is decoded here: a compressed body would be read as JSON text as it is,
    // so RFC 9110 (8.4) has it refused with a 415.
    const coding = request.headers['content-encoding'];
    if (coding !== undefined && !/^\s*identity\s*$/i.test(coding)) {
      return done(UNCOMPRESSED_ONLY, undefined);
    }
    const charset = charsetOf(request.headers['content-type']);
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
      return done(
        new AppError('UNSUPPORTED_MEDIA_TYPE', `JSON bodies are UTF-8; charset=${charset} is not accepted.`),
        undefined,
      );
    }
    const bytes = body as Buffer;
    // Many clients label every request JSON: an empty body is no body, for the route's schema to
    // judge (a route that takes none, such as a key's DELETE, runs; one that needs one says so).
    if (bytes.length === 0) return done(null, undefined);
    if (!isUtf8(bytes)) {
      return done(new AppError('MALFORMED_REQUEST', 'The body is not valid UTF-8.'), undefined);
    }
    const text = bytes.toString('utf8');
    parseJson(request, text, (error, value) => {
      // The parser refuses prototype keys with the same message as broken JSON; said apart here,
      // on the failing path only.
      if (error && isJson(text)) return done(PROTOTYPE_KEY, undefined);
      done(error, value);
    });
  });
}

const UNCOMPRESSED_ONLY = new AppError(
  'UNSUPPORTED_MEDIA_TYPE',
  'Bodies are accepted uncompressed only: send no Content-Encoding (or identity).',
);

const PROTOTYPE_KEY = new AppError(
  'MALFORMED_REQUEST',
  'The body is JSON, but holds a "__proto__" key or a "constructor" key with "prototype" in it, which are refused.',
);

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The `charset` parameter of a media type (RFC 9110: a token or a quoted string), if any. */
function charsetOf(contentType: string | undefined): string | undefined {
  const match = contentType && /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  return match ? (match[1] ?? match[2]) : undefined;
}
