import { describe, expect, it } from 'vitest';
import { MAX_PROVIDER_WAIT_MS, retryPlan } from '../../../src/banking/sync/scheduler.js';
import { AppError } from '../../../src/errors.js';

const now = new Date('2026-11-26T10:00:00.000Z');
const policy = { retryBaseMs: 60_000, syncIntervalMs: 6 * 3_600_000, maxFailures: 8 };
const inMs = (ms: number) => new Date(now.getTime() + ms);
const rateLimited = (retryAfterSeconds?: number) =>
  new AppError(
    'PROVIDER_RATE_LIMITED',
    "The bank's rate limit was reached",
    retryAfterSeconds === undefined ? {} : { retryAfterSeconds },
  );

describe('when a failed background sync is tried again', () => {
  it('backs a failure off exponentially up to the interval, and stops after the limit', () => {
    const outage = new AppError('PROVIDER_UNAVAILABLE', 'The bank is unavailable');
    expect(retryPlan(outage, 0, now, policy)).toEqual({ failures: 1, retryAt: inMs(60_000) });
    expect(retryPlan(outage, 1, now, policy)).toEqual({ failures: 2, retryAt: inMs(4 * 60_000) });
    expect(retryPlan(outage, 2, now, policy)).toEqual({ failures: 3, retryAt: inMs(16 * 60_000) });
    expect(retryPlan(new TypeError('a fault of ours'), 4, now, policy)).toEqual({
      failures: 5,
      retryAt: inMs(256 * 60_000),
    });
    expect(retryPlan(new TypeError('a fault of ours'), 6, now, policy)).toEqual({
      failures: 7,
      retryAt: inMs(policy.syncIntervalMs),
    });
    expect(retryPlan(outage, 6, now, { ...policy, syncIntervalMs: 30 * 60_000 })).toEqual({
      failures: 7,
      retryAt: inMs(30 * 60_000),
    });
    expect(retryPlan(outage, 7, now, policy)).toEqual({ failures: 8, retryAt: null });
  });

  it("waits for the bank's rate limit to reset, without counting it as a failure", () => {
    const resetIn = 13 * 3_600_000;
    expect(retryPlan(rateLimited(resetIn / 1000), 0, now, policy)).toEqual({
      failures: 0,
      retryAt: inMs(resetIn),
    });
    // However many times the limit is met, the connection keeps being synced.
    expect(retryPlan(rateLimited(60), 7, now, policy)).toEqual({ failures: 7, retryAt: inMs(60_000) });
  });

  it('waits a whole interval for a rate limit that gives no reset, at least the base and at most two days', () => {
    expect(retryPlan(rateLimited(), 3, now, policy)).toEqual({
      failures: 3,
      retryAt: inMs(policy.syncIntervalMs),
    });
    expect(retryPlan(rateLimited(0), 0, now, policy).retryAt).toEqual(inMs(policy.retryBaseMs));
    expect(retryPlan(rateLimited(30 * 86_400), 0, now, policy).retryAt).toEqual(inMs(MAX_PROVIDER_WAIT_MS));
  });

  it('tries a failure that says when to come back no earlier than that, and counts it', () => {
    const busy = new AppError('PROVIDER_UNAVAILABLE', 'The bank is unavailable', { retryAfterSeconds: 900 });
    expect(retryPlan(busy, 0, now, policy)).toEqual({ failures: 1, retryAt: inMs(900_000) });
    expect(retryPlan(busy, 7, now, policy)).toEqual({ failures: 8, retryAt: null });
  });

  it('rides out a bank outage of most of a day before the failure limit stops it', () => {
    const outage = new AppError('PROVIDER_UNAVAILABLE', 'The bank is unavailable');
    let at = now;
    let failures = 0;
    for (;;) {
      const plan = retryPlan(outage, failures, at, policy);
      if (!plan.retryAt) break;
      ({ failures } = plan);
      at = plan.retryAt;
    }
    expect(failures).toBe(policy.maxFailures - 1);
    expect(at.getTime() - now.getTime()).toBeGreaterThan(17 * 3_600_000);
  });

  it('stops at a failure only the user can cure, without counting it, until a consent update', () => {
    for (const code of [
      'CONSENT_EXPIRED',
      'PROVIDER_CONSENT_EXPIRED',
      'PROVIDER_CONSENT_REVOKED',
      'PROVIDER_LOGIN_REQUIRED',
    ] as const) {
      const error = new AppError(code, 'The user must consent again');
      expect(retryPlan(error, 0, now, policy)).toEqual({ failures: 0, retryAt: null });
      expect(retryPlan(error, 2, now, policy)).toEqual({ failures: 2, retryAt: null });
    }
  });
});
