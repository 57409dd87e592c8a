import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures, in Stripe's scheme. Each delivery carries
 *
 *   Webhook-Id: <event id>                (the same on every retry: receivers dedupe on it)
 *   Webhook-Timestamp: <unix seconds>
 *   Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * The HMAC key is the whole endpoint secret as UTF-8 text (`whsec_...`), as Stripe does. The
 * timestamp is signed with the body, so a receiver that rejects old timestamps (the replay
 * window, 5 minutes by default) cannot be fed a captured request again later.
 */

export const SIGNATURE_HEADER = 'webhook-signature';
export const ID_HEADER = 'webhook-id';
export const TIMESTAMP_HEADER = 'webhook-timestamp';
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** A new endpoint secret: `whsec_` and 32 random bytes as base64url (43 characters). */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

const unixSeconds = (at: Date) => Math.floor(at.getTime() / 1000);

/** The hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`. */
export function computeSignature(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/** The `Webhook-Signature` value for `rawBody` sent at `now`. */
export function signatureHeader(secret: string, rawBody: string | Buffer, now: Date): string {
  const timestamp = unixSeconds(now);
  return `t=${timestamp},v1=${computeSignature(secret, timestamp, rawBody)}`;
}

/** The three headers of a delivery of event `eventId` with body `rawBody`, signed at `now`. */
export function webhookHeaders(
  secret: string,
  eventId: string,
  rawBody: string,
  now: Date,
): Record<string, string> {
  return {
    [ID_HEADER]: eventId,
    [TIMESTAMP_HEADER]: String(unixSeconds(now)),
    [SIGNATURE_HEADER]: signatureHeader(secret, rawBody, now),
  };
}

/** `t` and every `v1` of a `Webhook-Signature` value; null when it is not one. */
export function parseSignatureHeader(header: string): { timestamp: number; signatures: string[] } | null {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator <= 0) continue;
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === 't') {
      if (!/^\d{1,15}$/.test(value) || timestamp !== undefined) return null;
      timestamp = Number(value);
    } else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) {
      signatures.push(value.toLowerCase());
    }
  }
  if (timestamp === undefined || signatures.length === 0) return null;
  return { timestamp, signatures };
}

/**
 * For receivers: true when `header` (the `Webhook-Signature` value) signs exactly `rawBody` (the
 * bytes received, before any JSON parsing) under `secret`, and its timestamp is within
 * `toleranceSeconds` of `now` either way (older is a replay, newer a skewed or forged clock).
 * Several `v1` entries are allowed (any one matching is enough); signatures are compared in
 * constant time.
 */
export function verifySignature(
  secret: string,
  header: string | null | undefined,
  rawBody: string | Buffer,
  now: Date = new Date(),
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
): boolean {
  if (typeof header !== 'string' || secret.length === 0) return false;
  const parsed = parseSignatureHeader(header);
  if (!parsed) return false;
  if (Math.abs(unixSeconds(now) - parsed.timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(computeSignature(secret, parsed.timestamp, rawBody), 'hex');
  let matched = false;
  for (const signature of parsed.signatures) {
    // Every candidate is compared (no early exit), each in constant time.
    if (timingSafeEqual(expected, Buffer.from(signature, 'hex'))) matched = true;
  }
  return matched;
}
