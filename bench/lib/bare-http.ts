/**
 * A child process that answers every request with the same bytes (a body and headers captured
 * from the service) and does nothing else: with `node:http`, the most any HTTP server in Node
 * can do here; with Fastify, what the framework costs before the service does any work.
 */
import { createServer } from 'node:http';
import Fastify from 'fastify';
import { childInput, reportPort } from './child.js';

export interface BareHttpInput {
  framework: 'node:http' | 'fastify';
  bodyBase64: string;
  headers: Record<string, string>;
}

const input = childInput<BareHttpInput>();
const body = Buffer.from(input.bodyBase64, 'base64');

if (input.framework === 'fastify') {
  const app = Fastify({ logger: false });
  app.get('/*', (_request, reply) => reply.headers(input.headers).send(body));
  await app.listen({ port: 0, host: '127.0.0.1' });
  reportPort(app.server.address());
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
} else {
  const headers = { ...input.headers, 'content-length': String(body.length) };
  const server = createServer((_request, response) => {
    response.writeHead(200, headers);
    response.end(body);
  });
  server.listen(0, '127.0.0.1', () => reportPort(server.address()));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
