import { describe, expect, it } from 'vitest';
import { parseProcStat, serverBudgetMs } from '../../bench/lib/cpu-budget.js';

describe('parseProcStat', () => {
  it('counts every state but idle and I/O wait as busy, in milliseconds', () => {
    // user nice system idle iowait irq softirq steal guest guest_nice
    const text = 'cpu  100 2 30 500 7 1 20 4 9 0\ncpu0 50 1 15 250 3 0 10 2 4 0\nintr 1 2 3\n';
    expect(parseProcStat(text)).toEqual({ busyMs: 1_570, totalMs: 6_640 });
  });

  it('reads the machine line, not one core', () => {
    const text = 'cpu0 50 1 15 250 3 0 10 2 0 0\ncpu  100 2 30 500 7 1 20 4 0 0\n';
    expect(parseProcStat(text)?.totalMs).toBe(6_640);
  });

  it('answers null for text without a whole cpu line', () => {
    expect(parseProcStat('')).toBeNull();
    expect(parseProcStat('cpu  100 2 30\n')).toBeNull();
  });
});

describe('serverBudgetMs', () => {
  it('leaves the server what the cores give per request less the rest of the machine', () => {
    // 16,000 requests a second on 2 cores: 0.125 ms of CPU per request in all.
    expect(serverBudgetMs(16_000, 2, 0.08)).toBeCloseTo(0.045);
  });

  it('is the same budget for any rate that costs the same per request', () => {
    expect(serverBudgetMs(8_000, 1, 0.08)).toBeCloseTo(serverBudgetMs(16_000, 2, 0.08));
  });

  it('is negative when the rest of the machine alone takes more than the rate allows', () => {
    expect(serverBudgetMs(40_000, 2, 0.06)).toBeLessThan(0);
  });
});
