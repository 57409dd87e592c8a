/**
 * Re-sync: the time of a second sync of an account whose data have not changed, beside the time
 * of its first sync, in one service process; the second must write nothing.
 */
import { runChild } from '../lib/child.js';
import { compiledPath } from '../lib/compile.js';
import { count } from '../lib/format.js';
import type { SyncChildInput, SyncChildResult } from '../lib/sync-child.js';
import type { Scenario } from '../lib/types.js';

const SIZES = { quick: 20_000, full: 100_000 };

export const resync: Scenario = {
  name: 'resync',
  async run({ full, database, log }) {
    const transactions = full ? SIZES.full : SIZES.quick;
    log(`resync: child process syncing 1 account of ${count(transactions)} transactions twice`);
    const outcome = await runChild<SyncChildInput, SyncChildResult>(
      await compiledPath('bench/lib/sync-child.ts'),
      {
        databaseUrl: database.url,
        transactions,
        days: 3650,
        syncs: 2,
      },
    );
    const [first, second] = outcome.syncs;
    if (!first || !second) throw new Error('the child ran fewer than two syncs');
    if (first.summary.transactionsAdded !== transactions) {
      throw new Error(
        `the first sync added ${first.summary.transactionsAdded} transactions of ${transactions}`,
      );
    }
    const { transactionsAdded, transactionsUpdated, transactionsRemoved } = second.summary;
    const changed = transactionsAdded + transactionsUpdated + transactionsRemoved;
    return {
      rows: [
        {
          figure: `re-sync of an unchanged account of ${count(transactions)} transactions`,
          value: { value: second.seconds, unit: 's' },
          baseline: { label: 'its first sync', value: { value: first.seconds, unit: 's' } },
          target: null,
        },
        {
          figure: 'rows the re-sync added, updated or removed',
          value: { value: changed, unit: 'rows' },
          baseline: {
            label: 'rows the first sync added',
            value: { value: first.summary.transactionsAdded, unit: 'rows' },
          },
          ratio: null,
          target: { text: '= 0', pass: changed === 0 },
        },
      ],
    };
  },
};
