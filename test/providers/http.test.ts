import { describe, expect, it } from 'vitest';
import { createHttpClient, type HttpRequest } from '../../src/providers/http.js';

/** A fetch that fails each call with `failures[n]` in turn (an error or a status), then answers 200. */
function scriptedFetch(failures: (Error | number)[]) {
  const calls: string[] = [];
  const fetch = async (url: string | URL | Request, init?: RequestInit) => {
    calls.push(`${init?.method} ${String(url)}`);
    const failure = failures[calls.length - 1];
    if (failure instanceof Error) throw failure;
    return new Response('{"ok":true}', { status: failure ?? 200 });
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

/** What undici's fetch throws when the connection fails: a TypeError whose cause has the code. */
const networkError = (code: string) =>
  Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });

function client(failures: (Error | number)[]) {
  const scripted = scriptedFetch(failures);
  const http = createHttpClient({
    baseUrl: 'https://provider.test',
    retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 2 },
    fetch: scripted.fetch,
  });
  return { http, calls: scripted.calls };
}

const get: HttpRequest = { method: 'GET', path: '/accounts' };
const create: HttpRequest = { method: 'POST', path: '/requisitions', body: { reference: 'r1' } };

describe('the providers HTTP client', () => {
  it('sends a GET again after a reset connection or a 5xx, up to its retries', async () => {
    const { http, calls } = client([networkError('ECONNRESET'), 503]);
    await expect(http.request(get)).resolves.toMatchObject({ status: 200 });
    expect(calls).toHaveLength(3);
  });

  it('does not send a POST again once it may have reached the provider', async () => {
    for (const failure of [networkError('ECONNRESET'), networkError('UND_ERR_SOCKET'), 500]) {
      const { http, calls } = client([failure]);
      await expect(http.request(create)).rejects.toMatchObject({ kind: 'unavailable' });
      expect(calls).toHaveLength(1);
    }
  });

  it('sends a POST again when the connection was never made', async () => {
    const { http, calls } = client([networkError('ECONNREFUSED'), networkError('ENOTFOUND')]);
    await expect(http.request(create)).resolves.toMatchObject({ status: 200 });
    expect(calls).toHaveLength(3);
  });

  it('sends a POST that only reads again, as its adapter declares', async () => {
    const { http, calls } = client([networkError('ECONNRESET'), 502]);
    await expect(http.request({ ...create, repeatable: true })).resolves.toMatchObject({ status: 200 });
    expect(calls).toHaveLength(3);
  });

  it('holds a request to its own number of retries', async () => {
    const { http, calls } = client([500, 500]);
    await expect(http.request({ ...get, retries: 0 })).rejects.toMatchObject({ kind: 'unavailable' });
    expect(calls).toHaveLength(1);
  });

  it('answers a 4xx at once, without retrying it', async () => {
    const { http, calls } = client([404]);
    await expect(http.request(get)).resolves.toMatchObject({ status: 404 });
    expect(calls).toHaveLength(1);
  });

  it('refuses an answer past its size as it comes in, and stops reading it', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
      },
    });
    const http = createHttpClient({
      baseUrl: 'https://provider.test',
      maxAnswerBytes: 1024 * 1024,
      fetch: (async () => new Response(endless, { status: 200 })) as typeof globalThis.fetch,
    });
    await expect(http.request(get)).rejects.toMatchObject({
      kind: 'unavailable',
      message: 'the provider answered more than 1 MiB',
    });
    // 1 MiB in 64 KiB chunks, then the one past it: the rest was never asked for.
    expect(pulled).toBeLessThanOrEqual(18);

    const declared = createHttpClient({
      baseUrl: 'https://provider.test',
      maxAnswerBytes: 10,
      fetch: (async () =>
        new Response('{"a":"0123456789"}', {
          headers: { 'content-length': '18' },
        })) as typeof globalThis.fetch,
    });
    await expect(declared.request(get)).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('reads an answer within its size whole, a byte-order mark dropped', async () => {
    const http = createHttpClient({
      baseUrl: 'https://provider.test',
      fetch: (async () => new Response('\uFEFF{"name":"Café"}')) as typeof globalThis.fetch,
    });
    await expect(http.request(get)).resolves.toMatchObject({ status: 200, body: { name: 'Café' } });
  });
});
