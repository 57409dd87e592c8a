import { describe, expect, it } from 'vitest';
import type { ProviderTransaction } from '../../../src/providers/provider.js';
import { byId, CONNECTED_AT, DAY, DAY0, everything, sandbox, sized } from './helpers.js';

const at = (days: number) => new Date(CONNECTED_AT.getTime() + days * DAY);
/** Lots of transactions a day, so that tips and holds surely occur. */
const busy = sized({ accounts: 3, transactionsPerAccount: 18_000, days: 90 });

async function snapshot(days: number): Promise<ProviderTransaction[]> {
  const { provider } = sandbox(at(days));
  return [...(await everything(provider, busy)).byAccount.values()].flat();
}

describe('sandbox data as the clock moves on', () => {
  it('gives identical data to two calls at the same clock', async () => {
    const { provider } = sandbox(at(1.25));
    expect(await everything(provider, busy)).toEqual(await everything(provider, busy));
  });

  it('gives identical data all day long, the day of connection included', async () => {
    const { provider, clock } = sandbox(CONNECTED_AT);
    const onConnection = await everything(provider, busy);
    clock.now = new Date(DAY0 + DAY - 1);
    expect(await everything(provider, busy)).toEqual(onConnection);
    clock.now = new Date(DAY0 + 2 * DAY);
    const morning = await everything(provider, busy);
    expect(morning).not.toEqual(onConnection);
    clock.now = new Date(DAY0 + 3 * DAY - 1);
    expect(await everything(provider, busy)).toEqual(morning);
  });

  it('adds new transactions day by day and keeps the ids of the old ones', async () => {
    const { provider, clock } = sandbox();
    const ctx = sized({});
    const sizes: number[] = [];
    let previous = byId([...(await everything(provider, ctx)).byAccount.values()].flat());
    for (let day = 1; day <= 5; day++) {
      clock.now = at(day);
      const current = byId([...(await everything(provider, ctx)).byAccount.values()].flat());
      sizes.push(current.size);
      const newIds = [...current.keys()].filter((id) => !previous.has(id));
      expect(newIds.length, `day ${day}`).toBeGreaterThan(0);
      for (const id of newIds) {
        const t = current.get(id);
        // Dated after what the bank showed the day before: the connection, then each midnight.
        const shownBefore = Math.max(CONNECTED_AT.getTime(), DAY0 + (day - 1) * DAY);
        expect(t?.transactionDate.getTime()).toBeGreaterThan(shownBefore);
      }
      previous = current;
    }
    expect(sizes).toEqual([...sizes].sort((a, b) => a - b));
  });

  it('books pending transactions under the same id once they are two days old', async () => {
    const before = await snapshot(0);
    const after = byId(await snapshot(3));
    const pending = before.filter((t) => t.status === 'PENDING');
    expect(pending.length).toBeGreaterThan(100);
    const booked = pending.filter((t) => after.has(t.providerTransactionId));
    // only holds vanish, and holds only happen from the day of connection on
    for (const t of pending.filter((t) => t.transactionDate.getTime() < DAY0)) {
      expect(after.has(t.providerTransactionId)).toBe(true);
    }
    expect(booked.length).toBeGreaterThan(pending.length * 0.9);
    for (const t of booked) {
      const later = after.get(t.providerTransactionId);
      expect(later?.status).toBe('BOOKED');
      expect(later?.transactionDate).toEqual(t.transactionDate);
      expect(later?.description).toBe(t.description);
      expect(later?.category).toBe(t.category);
    }
  });

  it('books some restaurant payments with a tip added, and no other amount changes', async () => {
    const before = await snapshot(0);
    const after = byId(await snapshot(3));
    const kept = before.filter((t) => after.has(t.providerTransactionId));
    const changed = kept.filter((t) => after.get(t.providerTransactionId)?.amountMinor !== t.amountMinor);
    expect(changed.length).toBeGreaterThan(0);
    for (const t of changed) {
      expect(t.status).toBe('PENDING');
      expect(t.category).toBe('eating_out');
      const booked = after.get(t.providerTransactionId)?.amountMinor ?? 0;
      expect(booked).toBeGreaterThan(t.amountMinor);
      expect(booked).toBeLessThanOrEqual(Math.round(t.amountMinor * 1.2) + 1);
    }
    const bookedBefore = before.filter((t) => t.status === 'BOOKED');
    expect(bookedBefore.length).toBeGreaterThan(10_000);
    expect(bookedBefore.map((t) => after.get(t.providerTransactionId))).toEqual(bookedBefore);
  });

  it('drops authorisation holds once they are no longer pending, keeping everything else', async () => {
    const before = await snapshot(4);
    const after = byId(await snapshot(7));
    const vanished = before.filter((t) => !after.has(t.providerTransactionId));
    const pendingBefore = before.filter((t) => t.status === 'PENDING');
    expect(vanished.length).toBeGreaterThan(0);
    // about one card payment in fifteen; never a booked one
    expect(vanished.length).toBeLessThan(pendingBefore.length / 5);
    for (const t of vanished) {
      expect(t.status).toBe('PENDING');
      expect(t.type).toBe('DEBIT');
    }
  });

  it('keeps every transaction integer, non-negative and no later than the clock on any day', async () => {
    for (const days of [0.1, 2.5, 9.9]) {
      const all = await snapshot(days);
      expect(all.length).toBeGreaterThan(0);
      expect(all.filter((t) => !Number.isInteger(t.amountMinor) || t.amountMinor < 0)).toEqual([]);
      expect(all.filter((t) => t.transactionDate.getTime() > at(days).getTime())).toEqual([]);
    }
  });
});
