import type { FastifyReply } from 'fastify';

/**
 * Aborts when the client closes its connection before it has the whole answer: work queued for
 * it that has not started can then be left undone, since nobody will read its outcome.
 */
export function clientGoneSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const response = reply.raw;
  // Closed already (the client left before the handler ran): 'close' will not come again.
  if (response.destroyed) controller.abort();
  else {
    response.once('close', () => {
      if (!response.writableFinished) controller.abort();
    });
  }
  return controller.signal;
}
