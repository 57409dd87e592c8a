/**
 * Faults below the level of a well-formed HTTP answer, shared by the providers' fakes: a body
 * that is not JSON, a connection reset part-way through an answer, an answer whose body stops
 * coming. What a fault sends is fixed here, so the tests of every provider mean the same thing.
 */
import type { ServerResponse } from 'node:http';

export type WireFault =
  /** This text as the body, with `content-type: application/json` (e.g. truncated JSON). */
  | { kind: 'raw'; status?: number; text: string }
  /** A 200 whose headers and first bytes arrive, then the TCP connection is reset. */
  | { kind: 'reset' }
  /** A 200 whose headers and first bytes arrive, then nothing more until the fake stops. */
  | { kind: 'stall' };

/** The first bytes of the answer a `reset` or `stall` cuts short: valid JSON so far. */
const PARTIAL_BODY = '{"request_id":"partial","data":[';

export function serveWireFault(response: ServerResponse, fault: WireFault): number {
  if (fault.kind === 'raw') {
    const status = fault.status ?? 200;
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(fault.text);
    return status;
  }
  // A length far beyond what is sent: the client cannot take the cut for the end of the body.
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': '65536' });
  response.write(PARTIAL_BODY);
  if (fault.kind === 'reset') {
    // Once the first bytes are out, an RST rather than a FIN: what a crashed proxy or bank sends.
    setTimeout(() => response.socket?.resetAndDestroy(), 20);
  }
  return 200;
}
