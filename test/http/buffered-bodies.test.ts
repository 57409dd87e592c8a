import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUFFERED_BODY_MIN_LENGTH, registerBufferedBodies } from '../../src/http/buffered-bodies.js';

describe('long answers sent as Buffers', () => {
  const app = Fastify();
  const seen: string[] = [];
  // Multi-byte characters, so that a length counted in characters would be caught.
  const longName = 'Zürich café £ 💶 '.repeat(Math.ceil(BUFFERED_BODY_MIN_LENGTH / 10));
  let origin = '';

  beforeAll(async () => {
    registerBufferedBodies(app);
    app.addHook('onSend', (_request, _reply, payload, done) => {
      seen.push(Buffer.isBuffer(payload) ? 'buffer' : typeof payload);
      done(null, payload);
    });
    const schema = { response: { 200: { type: 'object', properties: { name: { type: 'string' } } } } };
    app.get('/long', { schema }, async () => ({ name: longName }));
    app.get('/short', { schema }, async () => ({ name: 'Zürich' }));
    origin = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  it('sends a long JSON answer whole, its content-length counted in bytes, as JSON', async () => {
    const response = await fetch(`${origin}/long`);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Number(response.headers.get('content-length'))).toBe(bytes.length);
    expect(bytes.length).toBeGreaterThan(JSON.stringify({ name: longName }).length);
    expect(JSON.parse(bytes.toString('utf8'))).toEqual({ name: longName });
    expect(seen.at(-1)).toBe('buffer');
  });

  it('leaves a short answer as the string it was serialised to', async () => {
    const response = await fetch(`${origin}/short`);
    expect(await response.json()).toEqual({ name: 'Zürich' });
    expect(Number(response.headers.get('content-length'))).toBe(Buffer.byteLength('{"name":"Zürich"}'));
    expect(seen.at(-1)).toBe('string');
  });
});
