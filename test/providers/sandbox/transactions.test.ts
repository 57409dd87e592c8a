import { describe, expect, it } from 'vitest';
import type { ProviderTransaction } from '../../../src/providers/provider.js';
import { ProviderError } from '../../../src/providers/provider.js';
import { PAGE_SIZE, SANDBOX_CATEGORIES } from '../../../src/providers/sandbox/index.js';
import {
  allPages,
  allTransactions,
  CONNECTED_AT,
  consent,
  DAY,
  DAY0,
  everything,
  sandbox,
  sized,
} from './helpers.js';

const time = (t: ProviderTransaction) => t.transactionDate.getTime();
/** Day index of a transaction relative to the UTC day of the connection. */
const dayOf = (t: ProviderTransaction) => Math.floor((time(t) - DAY0) / DAY);
const HISTORY_END = new Date(DAY0 - 1);

describe('sandbox transactions', () => {
  it('gives identical data for the same consent and clock, even from another provider instance', async () => {
    const first = await everything(sandbox().provider, consent());
    const second = await everything(sandbox().provider, consent());
    expect(second).toEqual(first);
  });

  it('gives another consent different transactions', async () => {
    const alpha = await everything(sandbox().provider, consent());
    const beta = await everything(sandbox().provider, consent({ consentId: 'consent-beta' }));
    const ids = (data: typeof alpha) =>
      new Set([...data.byAccount.values()].flat().map((t) => t.providerTransactionId));
    const alphaIds = ids(alpha);
    expect([...ids(beta)].filter((id) => alphaIds.has(id))).toEqual([]);
    const amounts = (data: typeof alpha) => [...data.byAccount.values()].flat().map((t) => t.amountMinor);
    expect(amounts(beta)).not.toEqual(amounts(alpha));
  });

  it('gives a default connection a few hundred realistic transactions over about 90 days', async () => {
    const { accounts, byAccount } = await everything(sandbox().provider, consent());
    const all = [...byAccount.values()].flat();
    expect(all.length).toBeGreaterThan(250);
    expect(all.length).toBeLessThan(700);
    const [checking, savings, credit] = accounts.map((a) => byAccount.get(a.providerAccountId) ?? []);
    expect(checking?.length).toBeGreaterThan(200);
    expect(credit?.length).toBeGreaterThan(80);
    expect(savings?.length).toBeGreaterThan(3);
    expect(savings?.length).toBeLessThan(30);
    expect(Math.min(...all.map(dayOf))).toBeGreaterThanOrEqual(-90);
    expect(Math.min(...all.map(dayOf))).toBeLessThan(-85);
    // salary credits each month, card repayments, direct debits
    const salaries = checking?.filter((t) => t.description === 'ACME LTD SALARY') ?? [];
    expect(salaries.length).toBeGreaterThanOrEqual(2);
    for (const salary of salaries) {
      expect(salary).toMatchObject({ type: 'CREDIT', category: 'income' });
      expect(salary.amountMinor).toBeGreaterThan(200_000);
    }
    expect(credit?.some((t) => t.type === 'CREDIT' && t.category === 'transfers')).toBe(true);
    expect(checking?.some((t) => t.category === 'bills')).toBe(true);
    expect(savings?.some((t) => t.description === 'INTEREST PAID')).toBe(true);
  });

  it('uses only the fixed category vocabulary, with some null categories', async () => {
    const all = [
      ...(await everything(sandbox().provider, sized({ transactionsPerAccount: 3000 }))).byAccount.values(),
    ].flat();
    const categories = new Set(all.map((t) => t.category));
    for (const category of categories) {
      if (category !== null) expect(SANDBOX_CATEGORIES).toContain(category);
    }
    expect(categories.has(null)).toBe(true);
    expect(categories.size).toBeGreaterThan(8);
  });

  it('keeps amounts integer minor units >= 0 with a CREDIT or DEBIT direction and the account currency', async () => {
    for (const providerId of ['sandbox-gb', 'sandbox-eu']) {
      const ctx = sized({ accounts: 4, transactionsPerAccount: 2000 }, { providerId });
      const { accounts, byAccount } = await everything(sandbox().provider, ctx);
      for (const account of accounts) {
        const transactions = byAccount.get(account.providerAccountId) ?? [];
        expect(transactions.length).toBe(2000);
        const wrong = transactions.filter(
          (t) =>
            !Number.isInteger(t.amountMinor) ||
            t.amountMinor < 0 ||
            (t.type !== 'CREDIT' && t.type !== 'DEBIT') ||
            t.currency !== account.currency ||
            t.description.length === 0,
        );
        expect(wrong).toEqual([]);
      }
    }
  });

  it('describes EU transactions with euro-area merchants', async () => {
    const { accounts, byAccount } = await everything(
      sandbox().provider,
      consent({ providerId: 'sandbox-eu' }),
    );
    const descriptions = new Set(
      (byAccount.get(accounts[0]?.providerAccountId ?? '') ?? []).map((t) => t.description),
    );
    expect([...descriptions].some((d) => /REWE|LIDL|EDEKA|ALDI|CARREFOUR/.test(d))).toBe(true);
    expect(descriptions.has('GEHALT ACME SE')).toBe(true);
  });

  it('varies the time of day of transactions', async () => {
    const { accounts, byAccount } = await everything(sandbox().provider, consent());
    const hours = new Set(
      (byAccount.get(accounts[0]?.providerAccountId ?? '') ?? []).map((t) => t.transactionDate.getUTCHours()),
    );
    expect(hours.size).toBeGreaterThan(10);
  });

  it('puts exactly transactionsPerAccount transactions in the history days, spread evenly', async () => {
    const ctx = sized({ accounts: 2, transactionsPerAccount: 1234, days: 30 });
    const { provider } = sandbox();
    for (const account of await provider.listAccounts(ctx)) {
      const history = await allTransactions(provider, ctx, account.providerAccountId, { to: HISTORY_END });
      expect(history).toHaveLength(1234);
      const perDay = new Map<number, number>();
      for (const t of history) perDay.set(dayOf(t), (perDay.get(dayOf(t)) ?? 0) + 1);
      expect([...perDay.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i - 30));
      for (const count of perDay.values()) expect([41, 42]).toContain(count);
    }
  });

  it('lists exactly transactionsPerAccount per account when asked at the moment of connection', async () => {
    const ctx = sized({ accounts: 2, transactionsPerAccount: 777, days: 15 });
    const { provider } = sandbox(CONNECTED_AT);
    for (const account of await provider.listAccounts(ctx)) {
      expect(
        await allTransactions(provider, ctx, account.providerAccountId, { to: CONNECTED_AT }),
      ).toHaveLength(777);
    }
  });

  it('puts no transactions at all in an account sized to zero', async () => {
    const ctx = sized({ transactionsPerAccount: 0 });
    const { provider } = sandbox(new Date(CONNECTED_AT.getTime() + 10 * DAY));
    const { byAccount } = await everything(provider, ctx);
    expect([...byAccount.values()].flat()).toEqual([]);
  });

  it('covers exactly `days` days of history before the day of connection', async () => {
    const ctx = sized({ days: 7 });
    const { accounts, byAccount } = await everything(sandbox().provider, ctx);
    const checking = byAccount.get(accounts[0]?.providerAccountId ?? '') ?? [];
    expect(Math.min(...checking.map(dayOf))).toBe(-7);
  });

  it('continues after the day of connection at the same average rate', async () => {
    const ctx = sized({ accounts: 1, transactionsPerAccount: 300, days: 30 });
    // On day 30 the bank shows everything up to the end of day 29.
    const { provider } = sandbox(new Date(DAY0 + 30 * DAY));
    const [account] = await provider.listAccounts(ctx);
    const after = await allTransactions(provider, ctx, account?.providerAccountId ?? '', {
      from: new Date(DAY0),
    });
    // holds (a few card payments from day 0 on) are gone once older than two days
    expect(after.length).toBeGreaterThan(270);
    expect(after.length).toBeLessThanOrEqual(300);
  });

  it('handles a million transactions in an account page by page', async () => {
    const ctx = sized({ accounts: 1, transactionsPerAccount: 1_000_000, days: 90 });
    const { provider } = sandbox();
    const [account] = await provider.listAccounts(ctx);
    let cursor: string | null = null;
    let count = 0;
    let pages = 0;
    let previous = Number.NEGATIVE_INFINITY;
    do {
      const page = await provider.listTransactions(ctx, {
        providerAccountId: account?.providerAccountId ?? '',
        from: null,
        to: HISTORY_END,
        cursor,
      });
      expect(page.transactions.length).toBeLessThanOrEqual(PAGE_SIZE);
      for (const t of page.transactions) {
        if (time(t) < previous) throw new Error('out of order');
        previous = time(t);
      }
      count += page.transactions.length;
      pages++;
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(count).toBe(1_000_000);
    expect(pages).toBe(1000);
  });

  it('pages in at most 1000 transactions that add up to one ordered sequence with no duplicates', async () => {
    const ctx = sized({ accounts: 1, transactionsPerAccount: 4321, days: 20 });
    const { provider } = sandbox(new Date(CONNECTED_AT.getTime() + 3 * DAY));
    const [account] = await provider.listAccounts(ctx);
    const id = account?.providerAccountId ?? '';
    const pages = await allPages(provider, ctx, id);
    expect(pages.length).toBeGreaterThan(4);
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(PAGE_SIZE);
    for (const page of pages.slice(0, -1)) expect(page).toHaveLength(PAGE_SIZE);
    const all = pages.flat();
    expect(new Set(all.map((t) => t.providerTransactionId)).size).toBe(all.length);
    for (let i = 1; i < all.length; i++)
      expect(time(all[i] as ProviderTransaction)).toBeGreaterThanOrEqual(
        time(all[i - 1] as ProviderTransaction),
      );
    // the same sequence, asked for one day at a time (each day fits in one page)
    const dayByDay: ProviderTransaction[] = [];
    for (let day = -20; day <= 3; day++) {
      const from = new Date(DAY0 + day * DAY);
      const to = new Date(DAY0 + (day + 1) * DAY - 1);
      const page = await provider.listTransactions(ctx, { providerAccountId: id, from, to });
      expect(page.nextCursor).toBeNull();
      dayByDay.push(...page.transactions);
    }
    expect(dayByDay).toEqual(all);
  });

  it('answers an empty last page never: the cursor is null once nothing is left', async () => {
    const ctx = sized({ accounts: 1, transactionsPerAccount: 2000, days: 10 });
    const { provider } = sandbox(new Date(DAY0 - 1));
    const [account] = await provider.listAccounts(ctx);
    const pages = await allPages(provider, ctx, account?.providerAccountId ?? '');
    expect(pages.map((p) => p.length)).toEqual([1000, 1000]);
  });

  it('returns only transactions dated within [from, to], from null meaning the start of history', async () => {
    const ctx = sized({ accounts: 1, transactionsPerAccount: 900, days: 30 });
    const { provider } = sandbox(new Date(CONNECTED_AT.getTime() + 2 * DAY));
    const [account] = await provider.listAccounts(ctx);
    const id = account?.providerAccountId ?? '';
    const all = await allTransactions(provider, ctx, id);
    const from = new Date('2026-02-20T12:34:56.000Z');
    const to = new Date('2026-03-01T08:00:00.000Z');
    const window = await allTransactions(provider, ctx, id, { from, to });
    expect(window.length).toBeGreaterThan(200);
    expect(window).toEqual(all.filter((t) => time(t) >= from.getTime() && time(t) <= to.getTime()));
    expect(await allTransactions(provider, ctx, id, { from: to, to: from })).toEqual([]);
    expect(await allTransactions(provider, ctx, id, { to: new Date(DAY0 - 31 * DAY) })).toEqual([]);
  });

  it("shows a day's transactions from the next day on, as a bank that books overnight", async () => {
    const now = new Date('2026-03-14T11:11:11.000Z');
    const ctx = sized({ accounts: 3, transactionsPerAccount: 3000, days: 30 });
    const { provider } = sandbox(now);
    const { byAccount } = await everything(provider, ctx);
    const all = [...byAccount.values()].flat();
    expect(Math.max(...all.map(time))).toBeLessThan(Date.UTC(2026, 2, 14));
    expect(all.some((t) => dayOf(t) === 3)).toBe(true);
    expect(all.some((t) => dayOf(t) === 4)).toBe(false);
  });

  it('marks transactions of the last two days before the clock PENDING and older ones BOOKED', async () => {
    const now = CONNECTED_AT.getTime();
    const { byAccount } = await everything(sandbox().provider, sized({ transactionsPerAccount: 2000 }));
    const all = [...byAccount.values()].flat();
    expect(all.filter((t) => t.status !== (now - time(t) < 2 * DAY ? 'PENDING' : 'BOOKED'))).toEqual([]);
    expect(all.some((t) => t.status === 'PENDING')).toBe(true);
  });

  it('gives every transaction a stable, unique sbx_txn_ id', async () => {
    const { byAccount } = await everything(
      sandbox().provider,
      sized({ accounts: 5, transactionsPerAccount: 5000 }),
    );
    const ids = [...byAccount.values()].flat().map((t) => t.providerTransactionId);
    expect(ids.filter((id) => !/^sbx_txn_[0-9a-f]{16}$/.test(id ?? ''))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('refuses an unknown account and a malformed cursor as invalid', async () => {
    const { provider } = sandbox();
    const unknown = await provider
      .listTransactions(consent(), { providerAccountId: 'sbx_acc_nope', from: null, to: CONNECTED_AT })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ProviderError);
    expect((unknown as ProviderError).kind).toBe('invalid');
    const [account] = await provider.listAccounts(consent());
    for (const cursor of ['garbage', '', 'c2J4MTp4Onk']) {
      const bad = await provider
        .listTransactions(consent(), {
          providerAccountId: account?.providerAccountId ?? '',
          from: null,
          to: CONNECTED_AT,
          cursor,
        })
        .catch((e: unknown) => e);
      expect((bad as ProviderError).kind, cursor).toBe('invalid');
    }
  });
});
