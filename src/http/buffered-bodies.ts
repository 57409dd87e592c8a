import type { FastifyInstance } from 'fastify';

/**
 * Serialised answers at least this long (in UTF-16 code units) go to Node as Buffers. Shorter
 * ones are left alone: at 4 KB and 24 KB neither way was measurably cheaper.
 */
export const BUFFERED_BODY_MIN_LENGTH = 16 * 1024;

/**
 * Hands Node's HTTP layer each long serialised answer as a Buffer rather than a string. Given a
 * string, Node prepends the status line and headers to it, which copies the whole body once more
 * into a new string (for a page of 500 transactions, a 245 KB copy, allocated afresh in V8's
 * large-object space); given a Buffer, it writes the headers and the body side by side in one
 * `writev`. What it saves is measured in docs/DECISIONS.md (Storage and tenancy).
 */
export function registerBufferedBodies(app: FastifyInstance) {
  app.addHook('onSend', (_request, _reply, payload, done) => {
    if (typeof payload === 'string' && payload.length >= BUFFERED_BODY_MIN_LENGTH) {
      done(null, Buffer.from(payload));
    } else {
      done(null, payload);
    }
  });
}
