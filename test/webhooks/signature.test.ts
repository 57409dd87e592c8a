import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  computeSignature,
  generateSecret,
  parseSignatureHeader,
  signatureHeader,
  verifySignature,
  webhookHeaders,
} from '../../src/webhooks/signature.js';

const SECRET = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA';
const BODY = '{"id":"evt_1","type":"sync.completed","createdAt":"2026-11-26T10:00:00.000Z","data":{}}';
const NOW = new Date('2026-11-26T10:00:00.000Z');
const T = NOW.getTime() / 1000;
const seconds = (n: number) => new Date(NOW.getTime() + n * 1000);

describe('webhook signatures', () => {
  it('makes secrets of whsec_ and 32 random bytes in base64url', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64url')).toHaveLength(32);
    expect(generateSecret()).not.toBe(secret);
  });

  it('signs "<t>.<raw body>" with HMAC-SHA256 under the whole secret, as Stripe does', () => {
    const expected = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');
    expect(computeSignature(SECRET, T, BODY)).toBe(expected);
    expect(signatureHeader(SECRET, BODY, NOW)).toBe(`t=${T},v1=${expected}`);
    expect(webhookHeaders(SECRET, 'evt_1', BODY, NOW)).toEqual({
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(T),
      'webhook-signature': `t=${T},v1=${expected}`,
    });
  });

  it('uses whole seconds', () => {
    const header = signatureHeader(SECRET, BODY, new Date(NOW.getTime() + 999));
    expect(header.startsWith(`t=${T},`)).toBe(true);
  });

  it('verifies its own signature, from a string or the raw bytes', () => {
    const header = signatureHeader(SECRET, BODY, NOW);
    expect(verifySignature(SECRET, header, BODY, NOW)).toBe(true);
    expect(verifySignature(SECRET, header, Buffer.from(BODY), NOW)).toBe(true);
  });

  it('rejects another secret, a changed body, a changed timestamp', () => {
    const header = signatureHeader(SECRET, BODY, NOW);
    expect(verifySignature(generateSecret(), header, BODY, NOW)).toBe(false);
    expect(verifySignature(SECRET, header, `${BODY} `, NOW)).toBe(false);
    expect(verifySignature(SECRET, header, BODY.replace('evt_1', 'evt_2'), NOW)).toBe(false);
    const moved = header.replace(`t=${T}`, `t=${T + 1}`);
    expect(verifySignature(SECRET, moved, BODY, NOW)).toBe(false);
  });

  it('rejects timestamps outside the replay window, either way', () => {
    const header = signatureHeader(SECRET, BODY, NOW);
    expect(verifySignature(SECRET, header, BODY, seconds(300))).toBe(true);
    expect(verifySignature(SECRET, header, BODY, seconds(301))).toBe(false);
    expect(verifySignature(SECRET, header, BODY, seconds(-300))).toBe(true);
    expect(verifySignature(SECRET, header, BODY, seconds(-301))).toBe(false);
    expect(verifySignature(SECRET, header, BODY, seconds(3600), 3600)).toBe(true);
    expect(verifySignature(SECRET, header, BODY, seconds(31), 30)).toBe(false);
  });

  it('accepts any one of several v1 signatures (secret rotation) and ignores other schemes', () => {
    const good = computeSignature(SECRET, T, BODY);
    const other = computeSignature(generateSecret(), T, BODY);
    expect(verifySignature(SECRET, `t=${T},v1=${other},v1=${good}`, BODY, NOW)).toBe(true);
    expect(verifySignature(SECRET, `t=${T}, v0=abc, v1=${good.toUpperCase()}`, BODY, NOW)).toBe(true);
    expect(verifySignature(SECRET, `t=${T},v1=${other}`, BODY, NOW)).toBe(false);
  });

  it('rejects malformed headers', () => {
    const good = computeSignature(SECRET, T, BODY);
    for (const header of [
      undefined,
      null,
      '',
      'garbage',
      `v1=${good}`,
      `t=${T}`,
      `t=${T},v1=${good.slice(1)}`,
      `t=${T},v1=${good}zz`,
      `t=abc,v1=${good}`,
      `t=${T},t=${T},v1=${good}`,
      `t=-${T},v1=${good}`,
    ]) {
      expect(verifySignature(SECRET, header, BODY, NOW), String(header)).toBe(false);
    }
    expect(verifySignature('', signatureHeader('', BODY, NOW), BODY, NOW)).toBe(false);
  });

  it('parses the header', () => {
    expect(parseSignatureHeader(`t=12,v1=${'a'.repeat(64)},v1=${'B'.repeat(64)}`)).toEqual({
      timestamp: 12,
      signatures: ['a'.repeat(64), 'b'.repeat(64)],
    });
    expect(parseSignatureHeader('t=12')).toBeNull();
  });
});
