import { describe, expect, it } from 'vitest';
import { DISPATCHER_DEFAULTS, retryDelayMs } from '../../src/webhooks/dispatcher.js';

describe('webhook retry backoff', () => {
  it('doubles from 10 s up to 1 h, jittered within the upper half', () => {
    const low = (attempts: number) => retryDelayMs(attempts, DISPATCHER_DEFAULTS, () => 0);
    const high = (attempts: number) => retryDelayMs(attempts, DISPATCHER_DEFAULTS, () => 1);
    expect([1, 2, 3, 4].map(high)).toEqual([10_000, 20_000, 40_000, 80_000]);
    expect([1, 2, 3, 4].map(low)).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect(high(9)).toBe(2_560_000);
    expect(high(10)).toBe(3_600_000);
    expect(high(40)).toBe(3_600_000);
    expect(low(40)).toBe(1_800_000);
    for (let i = 0; i < 100; i++) {
      const delay = retryDelayMs(3);
      expect(delay).toBeGreaterThanOrEqual(20_000);
      expect(delay).toBeLessThanOrEqual(40_000);
    }
  });

  it('gives up after about three hours of retries at the defaults', () => {
    let total = 0;
    for (let attempts = 1; attempts < DISPATCHER_DEFAULTS.maxAttempts; attempts++) {
      total += retryDelayMs(attempts, DISPATCHER_DEFAULTS, () => 1);
    }
    expect(total / 3_600_000).toBeCloseTo(3.42, 1);
  });
});
