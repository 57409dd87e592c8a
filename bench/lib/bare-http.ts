/**
 * A child process that is nothing but `node:http` answering every request with the same bytes
 * (a body and headers captured from the service): the most any HTTP server in Node can do here.
 */
import { createServer } from 'node:http';

export interface BareHttpInput {
  bodyBase64: string;
  headers: Record<string, string>;
}

const raw = process.argv[2];
if (!raw || !process.send) throw new Error('run this module through startBareHttp');
const input = JSON.parse(raw) as BareHttpInput;
const body = Buffer.from(input.bodyBase64, 'base64');
const headers = { ...input.headers, 'content-length': String(body.length) };
const server = createServer((_request, response) => {
  response.writeHead(200, headers);
  response.end(body);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
