import type { TransactionValues } from '../../src/banking/sync/queries.js';
import type { Queryable } from '../../src/db/client.js';
import { accounts, connections, teams } from '../../src/db/schema.js';
import { newId } from '../../src/ids.js';

/** The team, connection and account that synthetic transactions belong to. */
export interface AccountKey {
  teamId: string;
  connectionId: string;
  accountId: string;
}

/** Inserts a team with one ACTIVE sandbox connection and one account, as a sync would leave them. */
export async function createAccount(db: Queryable, now: Date): Promise<AccountKey> {
  const key = { teamId: newId('team'), connectionId: newId('conn'), accountId: newId('acct') };
  await db.insert(teams).values({ id: key.teamId, name: 'Bench team', createdAt: now });
  await db.insert(connections).values({
    teamId: key.teamId,
    id: key.connectionId,
    provider: 'sandbox',
    providerId: 'sandbox-gb',
    consentRef: `bench-${key.connectionId}`,
    status: 'ACTIVE',
    createdAt: now,
    updatedAt: now,
  });
  await db.insert(accounts).values({
    teamId: key.teamId,
    id: key.accountId,
    connectionId: key.connectionId,
    providerAccountId: `bench_acc_${key.accountId}`,
    name: 'Current Account',
    accountNumber: '12345678',
    sortCode: '04-00-04',
    currency: 'GBP',
    type: 'CHECKING',
    createdAt: now,
    updatedAt: now,
  });
  return key;
}

const MERCHANTS: readonly [string, string | null][] = [
  ['TESCO STORES 2931', 'groceries'],
  ['Sainsbury’s Local', 'groceries'],
  ['PRET A MANGER', 'eating_out'],
  ["Nando's Oxford St", 'eating_out'],
  ['TfL Travel Charge', 'transport'],
  ['Uber *Trip', 'transport'],
  ['Amazon.co.uk*2K4', 'shopping'],
  ['Netflix.com', 'subscriptions'],
  ['Spotify P1A2B3', 'subscriptions'],
  ['Thames Water', 'bills'],
  ['Octopus Energy', 'bills'],
  ['Transfer to J SMITH', null],
  ['SALARY ACME LTD', 'income'],
  ['Café Nero 0231', 'eating_out'],
];

/** mulberry32: a small seeded generator, so every run writes the same data. */
function rng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const hex8 = (n: number) =>
  Math.floor(n * 2 ** 32)
    .toString(16)
    .padStart(8, '0');

/**
 * `total` transactions shaped like a provider's (random 16-hex ids, ten years in date order, as
 * a sync receives them), cut into batches of `batchSize` (the sync writes one per provider page).
 */
export function syntheticBatches(total: number, batchSize: number, now: Date): TransactionValues[][] {
  const next = rng(0x0b5e55ed);
  const spanMs = 3650 * 86_400_000;
  const start = now.getTime() - spanMs;
  const batches: TransactionValues[][] = [];
  for (let offset = 0; offset < total; offset += batchSize) {
    const batch: TransactionValues[] = [];
    for (let i = offset; i < Math.min(total, offset + batchSize); i++) {
      const [description, category] = MERCHANTS[Math.floor(next() * MERCHANTS.length)] ?? [
        'Card payment',
        null,
      ];
      const date = new Date(start + Math.floor((i / total) * spanMs) + Math.floor(next() * 60_000));
      batch.push({
        id: newId('txn'),
        providerTransactionId: `sbx_txn_${hex8(next())}${hex8(next())}`,
        amountMinor: 1 + Math.floor(next() * 250_000),
        currency: 'GBP',
        description,
        transactionDate: date,
        type: category === 'income' ? 'CREDIT' : 'DEBIT',
        status: now.getTime() - date.getTime() < 2 * 86_400_000 ? 'PENDING' : 'BOOKED',
        category,
      });
    }
    batches.push(batch);
  }
  return batches;
}

/** The columns of `transactions` in the order both write paths fill them. */
export const TRANSACTION_COLUMNS = [
  'team_id',
  'id',
  'account_id',
  'connection_id',
  'provider_transaction_id',
  'amount_minor',
  'currency',
  'description',
  'transaction_date',
  'type',
  'status',
  'category',
  'created_at',
  'updated_at',
] as const;

/** A value in COPY's text format: backslash escapes, `\N` for null. */
function copyText(value: string | null): string {
  if (value === null) return '\\N';
  return value.replace(/[\\\t\n\r]/g, (char) =>
    char === '\\' ? '\\\\' : char === '\t' ? '\\t' : char === '\n' ? '\\n' : '\\r',
  );
}

/** One batch as COPY text-format lines, in `TRANSACTION_COLUMNS` order. */
export function copyLines(key: AccountKey, now: Date, batch: TransactionValues[]): string {
  const stamp = now.toISOString();
  const fixed = [copyText(key.teamId), copyText(key.accountId), copyText(key.connectionId)];
  let text = '';
  for (const row of batch) {
    text += `${fixed[0]}\t${copyText(row.id)}\t${fixed[1]}\t${fixed[2]}\t${copyText(row.providerTransactionId)}\t${
      row.amountMinor
    }\t${copyText(row.currency)}\t${copyText(row.description)}\t${row.transactionDate.toISOString()}\t${
      row.type
    }\t${row.status}\t${copyText(row.category)}\t${stamp}\t${stamp}\n`;
  }
  return text;
}
