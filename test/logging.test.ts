import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactQuery, writesAt } from '../src/logging.js';

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
  it('writes JSON lines without the authorization header, and with secret fields redacted', () => {
    const { logger, lines } = capture();
    logger.info({
      req: { headers: { authorization: 'Bearer obk_secret' } },
      body: { apiKey: 'obk_k', token: 't' },
    });
    const line = lines.join('');
    // A request is logged without its headers at all (method, URL, host, address).
    expect(JSON.parse(line).req.headers).toBeUndefined();
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

  it('redacts the values of secret-looking query parameters in a logged URL, keeping the rest', () => {
    expect(redactQuery('/api/banking/accounts?teamId=t1&api_key=obk_leak&limit=5')).toBe(
      '/api/banking/accounts?teamId=t1&api_key=[redacted]&limit=5',
    );
    expect(redactQuery('/x?access_token=a&Password=b&sig=c')).toBe(
      '/x?access_token=[redacted]&Password=[redacted]&sig=c',
    );
    expect(redactQuery('/api/banking/transactions?teamId=t1&type=DEBIT')).toBe(
      '/api/banking/transactions?teamId=t1&type=DEBIT',
    );
    const { logger, lines } = capture();
    logger.info(
      { req: { method: 'GET', url: '/a?apiKey=obk_leak', host: 'h', ip: '127.0.0.1' } },
      'incoming request',
    );
    expect(lines.join('')).not.toContain('obk_leak');
  });

  it("tells whether a logger writes at a level, by pino's level numbers", () => {
    expect(writesAt({ level: 'info' }, 'info')).toBe(true);
    expect(writesAt({ level: 'info' }, 'debug')).toBe(false);
    expect(writesAt({ level: 'debug' }, 'debug')).toBe(true);
    expect(writesAt({ level: 'warn' }, 'info')).toBe(false);
    expect(writesAt({ level: 'silent' }, 'info')).toBe(false);
    expect(writesAt(undefined, 'info')).toBe(false);
  });
});
