import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logging.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

describe('logging', () => {
  it('writes JSON lines with the authorization header and secret fields redacted', () => {
    const { logger, lines } = capture();
    logger.info({
      req: { headers: { authorization: 'Bearer obk_secret' } },
      body: { apiKey: 'obk_k', token: 't' },
    });
    const line = lines.join('');
    expect(JSON.parse(line).req.headers.authorization).toBe('[redacted]');
    expect(line).not.toContain('obk_secret');
    expect(line).not.toContain('obk_k');
  });

  it('logs a failed query without the values bound to it', () => {
    const { logger, lines } = capture();
    const error = Object.assign(new Error('Failed query: select 1 where key = $1\nparams: obk_leak'), {
      params: ['obk_leak'],
    });
    logger.error({ err: error }, 'request failed');
    const line = lines.join('');
    expect(line).toContain('Failed query');
    expect(line).not.toContain('obk_leak');
  });
});
