/**
 * Ingest rate: the sync's write path (`upsertTransactions`, one call per provider page, inside
 * a transaction and a savepoint as `syncTransactions` runs it) against `COPY ... FROM STDIN` of
 * the same rows into the same table, each from an empty table, in alternating rounds.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { type TransactionValues, upsertTransactions } from '../../src/banking/sync/queries.js';
import { PAGE_SIZE } from '../../src/providers/sandbox/adapter.js';
import { connectClient } from '../lib/database.js';
import { count } from '../lib/format.js';
import { timed } from '../lib/timing.js';
import {
  type AccountKey,
  copyLines,
  createAccount,
  syntheticBatches,
  TRANSACTION_COLUMNS,
} from '../lib/transactions.js';
import type { Scenario } from '../lib/types.js';

const SIZES = { quick: 100_000, full: 1_000_000 };
/** Measured runs of each path; the best counts (the least disturbed by the rest of the machine). */
const ROUNDS = { quick: 3, full: 2 };
/** Rows each path writes (and the table loses again) before the measured run. */
const WARM_UP_ROWS = 10 * PAGE_SIZE;
const TARGET = 0.5;

const seconds = (times: number[]) => times.map((time) => time.toFixed(2)).join(', ');

export const ingest: Scenario = {
  name: 'ingest',
  async run({ full, database, log }) {
    const total = full ? SIZES.full : SIZES.quick;
    const rounds = full ? ROUNDS.full : ROUNDS.quick;
    const now = new Date();
    const { db } = database.handle;
    const key: AccountKey = await createAccount(db, now);
    const client = await connectClient(database.url);
    try {
      const rowsInTable = async () => {
        const { rows } = await client.query<{ n: string }>('select count(*) as n from transactions');
        return Number(rows[0]?.n);
      };
      const empty = async () => {
        await client.query('truncate table transactions');
        await client.query('checkpoint').catch(() => {});
      };

      const viaCopy = async (batches: TransactionValues[][]) => {
        await client.query('begin');
        const copy = client.query(
          copyFrom(`copy transactions (${TRANSACTION_COLUMNS.join(', ')}) from stdin`),
        );
        await pipeline(
          Readable.from(
            (function* () {
              for (const batch of batches) yield copyLines(key, now, batch);
            })(),
          ),
          copy,
        );
        await client.query('commit');
        return copy.rowCount;
      };
      const viaUpsert = (batches: TransactionValues[][]) =>
        db.transaction((tx) =>
          tx.transaction(async (savepoint) => {
            let written = 0;
            for (const batch of batches) {
              const { inserted, updated } = await upsertTransactions(savepoint, { ...key, now }, batch);
              written += inserted + updated;
            }
            return written;
          }),
        );

      log(`ingest: warming up both paths with ${count(WARM_UP_ROWS)} rows`);
      const warmUp = syntheticBatches(WARM_UP_ROWS, PAGE_SIZE, now);
      await viaCopy(warmUp);
      await empty();
      await viaUpsert(warmUp);

      log(`ingest: generating ${count(total)} rows`);
      const batches = syntheticBatches(total, PAGE_SIZE, now);

      const copySeconds: number[] = [];
      const ourSeconds: number[] = [];
      const againSeconds: number[] = [];
      const measureCopy = async () => {
        await empty();
        log(`ingest: COPY FROM STDIN of ${count(total)} rows`);
        const copy = await timed(() => viaCopy(batches));
        if ((await rowsInTable()) !== total) throw new Error('COPY did not write every row');
        copySeconds.push(copy.seconds);
      };
      const measureOurs = async () => {
        await empty();
        log(`ingest: upsertTransactions of ${count(total)} rows in batches of ${count(PAGE_SIZE)}`);
        const ours = await timed(() => viaUpsert(batches));
        if (ours.result !== total || (await rowsInTable()) !== total) {
          throw new Error(`upsertTransactions wrote ${ours.result} rows of ${total}`);
        }
        ourSeconds.push(ours.seconds);
        log('ingest: upsertTransactions of the same rows again (all unchanged)');
        const again = await timed(() => viaUpsert(batches));
        if (again.result !== 0) throw new Error(`re-upserting unchanged rows wrote ${again.result} rows`);
        againSeconds.push(again.seconds);
      };
      // ABBA order, so that a drift in the machine's load weighs on both paths alike.
      for (let round = 0; round < rounds; round++) {
        if (round % 2 === 0) {
          await measureCopy();
          await measureOurs();
        } else {
          await measureOurs();
          await measureCopy();
        }
      }

      const { rows: indexes } = await client.query<{ name: string }>(
        `select indexname as name from pg_indexes where schemaname = 'public' and tablename = 'transactions'
         order by indexname`,
      );
      await empty();

      const copyRate = total / Math.min(...copySeconds);
      const ourRate = total / Math.min(...ourSeconds);
      const ratio = ourRate / copyRate;
      const copyBaseline = {
        label: 'COPY FROM STDIN, same rows',
        value: { value: copyRate, unit: 'rows/s' },
      } as const;
      return {
        rows: [
          {
            figure: `insert ${count(total)} rows: upsertTransactions, batches of ${count(PAGE_SIZE)}`,
            value: { value: ourRate, unit: 'rows/s' },
            baseline: copyBaseline,
            ratio,
            target: { text: `ours/COPY >= ${TARGET.toFixed(2)}`, pass: ratio >= TARGET },
          },
          {
            figure: `same ${count(total)} rows again, all unchanged (no row written)`,
            value: { value: total / Math.min(...againSeconds), unit: 'rows/s' },
            baseline: copyBaseline,
            target: null,
          },
        ],
        notes: [
          `ingest: one transaction per path, each from an empty table with its ${indexes.length} indexes ` +
            `(${indexes.map((index) => index.name).join(', ')}); best of ${rounds} rounds in ABBA order. ` +
            `Times (s): COPY ${seconds(copySeconds)}; upsertTransactions ${seconds(ourSeconds)}; ` +
            `unchanged again ${seconds(againSeconds)}.`,
        ],
      };
    } finally {
      await client.end();
    }
  },
};
