import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/webhooks/signature.js';

/** What the receiver got: one POST, whether its signature verified, and what it answered. */
export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  valid: boolean;
  status: number;
}

/** How the receiver answers a request: a status, after an optional delay. */
export type Answer = (request: ReceivedRequest) => number | Promise<number>;

/**
 * A webhook receiver on 127.0.0.1 (port 0, then the same port across restarts), as a team would
 * run one: it verifies each request's signature against the secret of the endpoint its path
 * belongs to, at the time `now()` says, before answering.
 */
export interface Receiver {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  requests: ReceivedRequest[];
  /** Valid, answered-2xx requests (the deliveries the team counts). */
  deliveries(path?: string): ReceivedRequest[];
  secrets: Map<string, string>;
  answer: Answer;
  /** The time signatures are checked at. */
  now: () => Date;
  /** Stops listening (connections are refused) until `start()`. */
  down(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(now: () => Date): Promise<Receiver> {
  let server: Server | undefined;
  let port = 0;
  const requests: ReceivedRequest[] = [];
  const receiver: Receiver = {
    origin: '',
    requests,
    secrets: new Map(),
    answer: () => 200,
    now,
    deliveries: (path) =>
      requests.filter(
        (r) => r.valid && r.status >= 200 && r.status < 300 && (path === undefined || r.path === path),
      ),
    async down() {
      const current = server;
      server = undefined;
      if (!current) return;
      current.closeAllConnections();
      await new Promise<void>((resolve) => current.close(() => resolve()));
    },
    async start() {
      if (server) return;
      const next = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', async () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const path = request.url ?? '/';
          const secret = receiver.secrets.get(path);
          const signature = request.headers['webhook-signature'];
          const received: ReceivedRequest = {
            path,
            headers: request.headers,
            body,
            valid:
              request.method === 'POST' &&
              secret !== undefined &&
              verifySignature(
                secret,
                typeof signature === 'string' ? signature : undefined,
                body,
                receiver.now(),
              ),
            status: 0,
          };
          requests.push(received);
          let status = received.valid ? await receiver.answer(received) : 400;
          if (response.destroyed) status = 0;
          received.status = status;
          if (status === 0) return;
          response.writeHead(
            status,
            status >= 300 && status < 400 ? { location: 'http://127.0.0.1:1/' } : {},
          );
          response.end(status < 300 ? 'ok' : 'no');
        });
      });
      await new Promise<void>((resolve, reject) => {
        next.once('error', reject);
        next.listen(port, '127.0.0.1', () => resolve());
      });
      port = (next.address() as AddressInfo).port;
      receiver.origin = `http://127.0.0.1:${port}`;
      server = next;
    },
    close: () => receiver.down(),
  };
  await receiver.start();
  return receiver;
}
