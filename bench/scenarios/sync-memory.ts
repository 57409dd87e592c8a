/**
 * Bounded memory: the peak RSS of a service process syncing one account of N transactions end
 * to end (sandbox provider -> sync -> PostgreSQL), beside the same process's peak RSS after
 * building the app and before syncing.
 */
import { runChild } from '../lib/child.js';
import { compiledPath } from '../lib/compile.js';
import { count, kbToMb } from '../lib/format.js';
import type { SyncChildInput, SyncChildResult } from '../lib/sync-child.js';
import type { Scenario } from '../lib/types.js';

const SIZES = { quick: 100_000, full: 1_000_000 };
const TARGET_MB = 300;

export const syncMemory: Scenario = {
  name: 'sync-memory',
  async run({ full, database, log }) {
    const transactions = full ? SIZES.full : SIZES.quick;
    log(`sync-memory: child process syncing 1 account of ${count(transactions)} transactions`);
    const outcome = await runChild<SyncChildInput, SyncChildResult>(
      await compiledPath('bench/lib/sync-child.ts'),
      {
        databaseUrl: database.url,
        transactions,
        days: 3650,
        syncs: 1,
      },
    );
    const sync = outcome.syncs[0];
    if (!sync) throw new Error('the child ran no sync');
    if (sync.summary.transactionsAdded !== transactions) {
      throw new Error(`the sync added ${sync.summary.transactionsAdded} transactions of ${transactions}`);
    }
    const peak = kbToMb(sync.maxRssKb);
    return {
      rows: [
        {
          figure: `peak RSS, sync of 1 account x ${count(transactions)} transactions`,
          value: { value: peak, unit: 'MB' },
          baseline: {
            label: 'peak RSS of the same process before the sync',
            value: { value: kbToMb(outcome.baselineMaxRssKb), unit: 'MB' },
          },
          target: { text: `< ${TARGET_MB} MB${full ? '' : ' (set for 1,000,000)'}`, pass: peak < TARGET_MB },
        },
      ],
      notes: [
        `sync-memory: the sync took ${sync.seconds.toFixed(2)} s end to end ` +
          `(${count(transactions / sync.seconds)} transactions/s); heap in use after it ` +
          `${(sync.heapUsedBytes / 1e6).toFixed(0)} MB. MB = 10^6 bytes. The child runs \`src/\` compiled ` +
          'to JavaScript with plain `node`, as `npm start` does (through tsx it would start some 80 MB higher).',
      ],
    };
  },
};
