import type { FastifyInstance } from 'fastify';

/**
 * Serialised answers at least this long (in UTF-16 code units) go to Node as Buffers: from here
 * V8 puts a string, and so Node's copy of it behind the headers, in its large-object space. A
 * shorter answer's copy is a young-generation string, cheap to allocate and to collect, whereas
 * its Buffer's memory comes from malloc and is freed only in batches after each scavenge, which
 * made glibc hand pages back and fault them in again: 1 to 4.5 page faults per 50-row page
 * (24 KB) in 9 of 15 service processes at the old 16 KiB threshold, 0.2 in all 21 at this,
 * for no CPU per request measurably different either way.
 */
export const BUFFERED_BODY_MIN_LENGTH = 128 * 1024;

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
