import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INCREMENTAL_OVERLAP_MS } from '../../src/banking/sync/service.js';
import type { ConsentContext, TransactionPage, TransactionQuery } from '../../src/providers/provider.js';
import { SandboxProvider } from '../../src/providers/sandbox/index.js';
import { connectSandbox, startTestApp, type TestApp, TestClock } from '../support/app.js';
import { listAllTransactions, syncConnection } from '../support/fixtures.js';

/** The sandbox bank, noting the window each transactions call asked for. */
class RecordingBank extends SandboxProvider {
  readonly windows: { account: string; from: Date | null }[] = [];
  override async listTransactions(
    consent: ConsentContext,
    query: TransactionQuery,
  ): Promise<TransactionPage> {
    if (!query.cursor) this.windows.push({ account: query.providerAccountId, from: query.from });
    return super.listTransactions(consent, query);
  }
}

const content = (
  rows: { transactionDate: string; amount: number; description: string; status: string; type: string }[],
) =>
  rows
    .map((row) => `${row.transactionDate}|${row.amount}|${row.type}|${row.status}|${row.description}`)
    .sort();

describe('incremental sync', () => {
  let t: TestApp;
  const clock = new TestClock();
  const bank = new RecordingBank({ clock: clock.now });
  beforeAll(async () => {
    t = await startTestApp({ clock, providers: [bank] });
  });
  afterAll(() => t.close());

  it('reads from a few days before the last booked transaction and ends with what a full import gives', async () => {
    const incremental = await t.createTeam('Incremental');
    const full = await t.createTeam('Full');
    // Both teams connect the same bank customer at the same moment: the same data.
    const mine = await connectSandbox(t.as(incremental), incremental, { consentId: 'customer-inc' });
    const theirs = await connectSandbox(t.as(full), full, { consentId: 'customer-inc' });

    await syncConnection(t, incremental, mine.id);
    expect(bank.windows.every((window) => window.from === null)).toBe(true);
    const afterFirst = await listAllTransactions(t, incremental, { connectionId: mine.id });

    bank.windows.length = 0;
    clock.advanceDays(3);
    const second = await syncConnection(t, incremental, mine.id);
    expect(second.sync.transactionsAdded).toBeGreaterThan(0);
    // Each account's window starts at the UTC midnight of its last booked transaction less the overlap.
    const lastBooked = new Map<string, number>();
    for (const row of afterFirst) {
      if (row.status !== 'BOOKED') continue;
      const at = Date.parse(row.transactionDate);
      lastBooked.set(row.accountId, Math.max(lastBooked.get(row.accountId) ?? 0, at));
    }
    const expected = [...lastBooked.values()]
      .map((at) => Math.floor((at - INCREMENTAL_OVERLAP_MS) / 86_400_000) * 86_400_000)
      .sort();
    expect(bank.windows.map((window) => window.from?.getTime()).sort()).toEqual(expected);

    // History before the window is untouched: every first-sync row still there or booked since.
    const afterSecond = await listAllTransactions(t, incremental, { connectionId: mine.id });
    const stillThere = new Set(afterSecond.map((row) => row.id));
    const gone = afterFirst.filter((row) => !stillThere.has(row.id));
    expect(gone.every((row) => row.status === 'PENDING')).toBe(true);

    // The other team imports everything at once at the same moment: the same content.
    await syncConnection(t, full, theirs.id);
    const fullImport = await listAllTransactions(t, full, { connectionId: theirs.id });
    expect(content(afterSecond)).toEqual(content(fullImport));
  });
});
