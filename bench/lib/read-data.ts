/**
 * A team with a long history for the read scenarios: 2 connections of 5 accounts each, and
 * transactions written by `COPY ... FROM STDIN` (never through HTTP), one every `STEP_MS`
 * going back in time from `newest`, spread round-robin over the 10 accounts. Growing the table
 * appends *older* history, so the newest rows (the first page) are the same at every size, as
 * for a team whose years of history pile up behind its recent weeks.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createAdminService } from '../../src/admin/service.js';
import { SYSTEM_CONTEXT } from '../../src/audit/record.js';
import type { Database } from '../../src/db/client.js';
import { accounts, connections } from '../../src/db/schema.js';
import { newId } from '../../src/ids.js';
import { TRANSACTION_COLUMNS } from './transactions.js';

export const CONNECTIONS = 2;
export const ACCOUNTS_PER_CONNECTION = 5;
/** 1,000,000 rows cover ten years (274 a day); 10,000 rows the newest 36 days. */
export const STEP_MS = Math.floor((3650 * 86_400_000) / 1_000_000);

export interface ReadTeam {
  teamId: string;
  apiKey: string;
  connectionIds: string[];
  /** Row `i` belongs to `accountIds[i % accountIds.length]`. */
  accountIds: string[];
  /** The date of row 0, the newest. */
  newest: Date;
  /** Rows written so far (rows 0 .. rows-1). */
  rows: number;
}

/**
 * Categories by share of the rows (per mille): a common one (`eating_out`, 21%), `income` (the
 * CREDIT rows, 7%), a rare one (`charity`, 0.5%) and uncategorised rows.
 */
const CATEGORIES: readonly [number, string | null, string][] = [
  [5, 'charity', 'RNLI DONATION'],
  [75, 'income', 'SALARY ACME LTD'],
  [285, 'eating_out', 'PRET A MANGER'],
  [425, 'groceries', 'TESCO STORES 2931'],
  [565, 'transport', 'TFL TRAVEL CHARGE'],
  [705, 'bills', 'OCTOPUS ENERGY'],
  [845, 'subscriptions', 'NETFLIX.COM'],
  [915, 'shopping', 'AMAZON.CO.UK'],
  [1000, null, 'CARD PAYMENT'],
];

/** A fixed pseudo-random number for row `i` (a 32-bit integer hash), so every run writes the same data. */
function hash(i: number): number {
  let x = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

function categoryOf(i: number): [string | null, string] {
  const r = hash(i) % 1000;
  for (const [upTo, category, description] of CATEGORIES) if (r < upTo) return [category, description];
  return [null, 'CARD PAYMENT'];
}

/** A team with an API key, its connections and accounts, and no transactions yet. */
export async function createReadTeam(db: Database, newest: Date): Promise<ReadTeam> {
  const admin = createAdminService(db, () => new Date());
  const { teamId, apiKey } = await admin.createTeam({ name: 'Bench reads' }, SYSTEM_CONTEXT);
  const connectionIds: string[] = [];
  const accountIds: string[] = [];
  const now = new Date();
  for (let c = 0; c < CONNECTIONS; c++) {
    const connectionId = newId('conn');
    connectionIds.push(connectionId);
    await db.insert(connections).values({
      teamId,
      id: connectionId,
      provider: 'sandbox',
      providerId: 'sandbox-gb',
      consentRef: `bench-reads-${c}`,
      status: 'ACTIVE',
      createdAt: now,
      updatedAt: now,
    });
  }
  // Round-robin over connections, so that row i's connection is accountIds[i % 10]'s.
  for (let a = 0; a < CONNECTIONS * ACCOUNTS_PER_CONNECTION; a++) {
    const accountId = newId('acct');
    accountIds.push(accountId);
    await db.insert(accounts).values({
      teamId,
      id: accountId,
      connectionId: connectionIds[a % CONNECTIONS] as string,
      providerAccountId: `bench_reads_${a}`,
      name: `Account ${a + 1}`,
      accountNumber: String(10_000_000 + a),
      sortCode: '04-00-04',
      currency: 'GBP',
      type: 'CHECKING',
      balanceMinor: 123_456,
      position: a,
      createdAt: now,
      updatedAt: now,
    });
  }
  return { teamId, apiKey, connectionIds, accountIds, newest, rows: 0 };
}

export const rowDate = (team: ReadTeam, i: number) => new Date(team.newest.getTime() - i * STEP_MS);
export const connectionOfAccount = (team: ReadTeam, a: number) =>
  team.connectionIds[a % team.connectionIds.length] as string;

function* copyText(team: ReadTeam, from: number, to: number): Generator<string> {
  const stamp = team.newest.toISOString();
  const chunk = 5_000;
  for (let start = from; start < to; start += chunk) {
    let text = '';
    for (let i = start; i < Math.min(to, start + chunk); i++) {
      const a = i % team.accountIds.length;
      const [category, description] = categoryOf(i);
      const date = rowDate(team, i);
      const status = team.newest.getTime() - date.getTime() < 2 * 86_400_000 ? 'PENDING' : 'BOOKED';
      const amount = 1 + (hash(i + 7) % 250_000);
      text += `${team.teamId}\t${newId('txn')}\t${team.accountIds[a]}\t${connectionOfAccount(team, a)}\tbench_${i}\t${amount}\tGBP\t${description}\t${date.toISOString()}\t${
        category === 'income' ? 'CREDIT' : 'DEBIT'
      }\t${status}\t${category ?? '\\N'}\t${stamp}\t${stamp}\n`;
    }
    yield text;
  }
}

/**
 * Appends rows `team.rows` .. `total - 1` (older than every row already there) by COPY, keeps
 * the accounts' `transaction_count` as sync would, then `VACUUM ANALYZE`, as autovacuum would
 * after a load of this size, so that plans see the table's real statistics.
 */
export async function growHistory(client: pg.Client, team: ReadTeam, total: number): Promise<void> {
  if (total <= team.rows) return;
  await client.query('begin');
  await pipeline(
    Readable.from(copyText(team, team.rows, total)),
    client.query(copyFrom(`copy transactions (${TRANSACTION_COLUMNS.join(', ')}) from stdin`)),
  );
  const n = team.accountIds.length;
  for (let a = 0; a < n; a++) {
    const count = Math.floor(total / n) + (a < total % n ? 1 : 0);
    await client.query('update accounts set transaction_count = $1 where team_id = $2 and id = $3', [
      count,
      team.teamId,
      team.accountIds[a],
    ]);
  }
  await client.query('commit');
  team.rows = total;
  await client.query('vacuum analyze transactions');
  await client.query('vacuum analyze accounts');
  await client.query('vacuum analyze connections');
}
