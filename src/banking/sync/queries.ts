import { and, desc, eq, gte, inArray, min, type SQL, sql } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/pg-core';
import { type Queryable, rowsOf } from '../../db/client.js';
import { accounts, transactions } from '../../db/schema.js';
import { eachType } from '../transactions/queries.js';

export type AccountRow = typeof accounts.$inferSelect;

export async function accountsOfConnection(db: Queryable, teamId: string, connectionId: string) {
  return db
    .select()
    .from(accounts)
    .where(and(eq(accounts.teamId, teamId), eq(accounts.connectionId, connectionId)));
}

export async function insertAccount(db: Queryable, row: typeof accounts.$inferInsert) {
  await db.insert(accounts).values(row);
}

/** Writes the changed fields of an account; nothing when `changes` is empty. */
export async function updateAccount(
  db: Queryable,
  teamId: string,
  accountId: string,
  changes: Partial<AccountRow>,
) {
  if (Object.keys(changes).length === 0) return;
  await db
    .update(accounts)
    .set(changes)
    .where(and(eq(accounts.teamId, teamId), eq(accounts.id, accountId)));
}

export async function adjustTransactionCount(
  db: Queryable,
  teamId: string,
  accountId: string,
  delta: number,
) {
  if (delta === 0) return;
  await db
    .update(accounts)
    .set({ transactionCount: sql`${accounts.transactionCount} + ${delta}` })
    .where(and(eq(accounts.teamId, teamId), eq(accounts.id, accountId)));
}

/**
 * Moves a stored transaction to a new provider id (a pending one that booked under a new id, or
 * history listed again under new ids after a re-consent), so our `id` stays. Nothing happens
 * when a row already has the new id.
 */
export async function rekeyTransaction(
  db: Queryable,
  key: { teamId: string; accountId: string; fromRef: string; toRef: string },
) {
  await db.execute(sql`
    update ${transactions} set provider_transaction_id = ${key.toRef}
    where team_id = ${key.teamId} and account_id = ${key.accountId}
      and provider_transaction_id = ${key.fromRef}
      and not exists (
        select 1 from ${transactions}
        where team_id = ${key.teamId} and account_id = ${key.accountId}
          and provider_transaction_id = ${key.toRef})`);
}

/** The rows of one account of a team that also meet `conditions`. */
function ofAccount(teamId: string, accountId: string, ...conditions: (SQL | undefined)[]) {
  return and(eq(transactions.teamId, teamId), eq(transactions.accountId, accountId), ...conditions);
}

/** What a re-consent needs to recognise an account's stored history under new ids. */
export async function storedTransactionsOf(db: Queryable, teamId: string, accountId: string) {
  return db
    .select({
      providerTransactionId: transactions.providerTransactionId,
      amountMinor: transactions.amountMinor,
      type: transactions.type,
      currency: transactions.currency,
      description: transactions.description,
      transactionDate: transactions.transactionDate,
    })
    .from(transactions)
    .where(ofAccount(teamId, accountId))
    .orderBy(transactions.transactionDate, transactions.id);
}

export interface TransactionValues {
  id: string;
  providerTransactionId: string;
  amountMinor: number;
  currency: string;
  description: string;
  transactionDate: Date;
  type: 'CREDIT' | 'DEBIT';
  status: 'BOOKED' | 'PENDING';
  category: string | null;
}

/**
 * Inserts new transactions and updates changed ones of one account in one statement. Rows go in
 * as one array per column through `unnest`, so a batch of thousands is a dozen parameters, not
 * tens of thousands. Unchanged rows are not touched (no new row version). Returns how many rows
 * were inserted and how many updated.
 */
export async function upsertTransactions(
  db: Queryable,
  key: { teamId: string; accountId: string; connectionId: string; now: Date },
  rows: TransactionValues[],
): Promise<{ inserted: number; updated: number }> {
  if (rows.length === 0) return { inserted: 0, updated: 0 };
  const column = <T>(pick: (row: TransactionValues) => T) => sql.param(rows.map(pick));
  const now = key.now.toISOString();
  const result = await db.execute(sql`
    insert into ${transactions} (team_id, id, account_id, connection_id, provider_transaction_id, amount_minor,
      currency, description, transaction_date, type, status, category, created_at, updated_at)
    select ${key.teamId}, t.id, ${key.accountId}, ${key.connectionId}, t.ref, t.amount, t.currency, t.description,
      t.date, t.type, t.status, t.category, ${now}::timestamptz, ${now}::timestamptz
    from unnest(
      ${column((row) => row.id)}::text[],
      ${column((row) => row.providerTransactionId)}::text[],
      ${column((row) => row.amountMinor)}::bigint[],
      ${column((row) => row.currency)}::text[],
      ${column((row) => row.description)}::text[],
      ${column((row) => row.transactionDate.toISOString())}::timestamptz[],
      ${column((row) => row.type)}::text[],
      ${column((row) => row.status)}::text[],
      ${column((row) => row.category)}::text[]
    ) as t(id, ref, amount, currency, description, date, type, status, category)
    on conflict (team_id, account_id, provider_transaction_id) do update set
      amount_minor = excluded.amount_minor, currency = excluded.currency, description = excluded.description,
      transaction_date = excluded.transaction_date, type = excluded.type, status = excluded.status,
      category = excluded.category, updated_at = excluded.updated_at
    where (transactions.amount_minor, transactions.currency, transactions.description, transactions.transaction_date,
        transactions.type, transactions.status, transactions.category)
      is distinct from (excluded.amount_minor, excluded.currency, excluded.description, excluded.transaction_date,
        excluded.type, excluded.status, excluded.category)
    returning (xmax = 0) as inserted`);
  const written = rowsOf<{ inserted: boolean }>(result);
  const inserted = written.filter((row) => row.inserted).length;
  return { inserted, updated: written.length - inserted };
}

export async function pendingRefsOf(db: Queryable, teamId: string, accountId: string, since: Date | null) {
  const rows = await db
    .select({ ref: transactions.providerTransactionId })
    .from(transactions)
    .where(
      ofAccount(
        teamId,
        accountId,
        eq(transactions.status, 'PENDING'),
        since ? gte(transactions.transactionDate, since) : undefined,
      ),
    );
  return rows.map((row) => row.ref);
}

/**
 * Whether the account holds a row whose provider id a bank used for two transactions
 * (`variantRef`): almost never, so one look through a partial index spares every other sync the
 * lookup of `storedRefs`.
 */
export async function hasVariantRefs(db: Queryable, teamId: string, accountId: string): Promise<boolean> {
  const rows = await db
    .select({ one: sql`1` })
    .from(transactions)
    .where(ofAccount(teamId, accountId, sql`${transactions.providerTransactionId} like '%~%'`))
    .limit(1);
  return rows.length > 0;
}

/** Which of `refs` the account holds. */
export async function storedRefs(
  db: Queryable,
  teamId: string,
  accountId: string,
  refs: string[],
): Promise<Set<string>> {
  if (refs.length === 0) return new Set();
  const rows = await db
    .select({ ref: transactions.providerTransactionId })
    .from(transactions)
    .where(ofAccount(teamId, accountId, inArray(transactions.providerTransactionId, refs)));
  return new Set(rows.map((row) => row.ref));
}

export async function deleteTransactionsByRef(
  db: Queryable,
  teamId: string,
  accountId: string,
  refs: string[],
) {
  if (refs.length === 0) return 0;
  const deleted = await db
    .delete(transactions)
    .where(ofAccount(teamId, accountId, inArray(transactions.providerTransactionId, refs)))
    .returning({ id: transactions.id });
  return deleted.length;
}

/** The date of the account's oldest PENDING row (a few rows, read through the partial pending index). */
export async function oldestPendingDate(
  db: Queryable,
  teamId: string,
  accountId: string,
): Promise<Date | null> {
  const [row] = await db
    .select({ date: min(transactions.transactionDate) })
    .from(transactions)
    .where(ofAccount(teamId, accountId, eq(transactions.status, 'PENDING')));
  return row?.date ?? null;
}

/** The date of the account's newest booked transaction, or null before any. */
export async function lastBookedDate(db: Queryable, teamId: string, accountId: string): Promise<Date | null> {
  // The account's rows are in date order within each type, so the newest of each is read and
  // the later one taken.
  const newestOfType = (type: SQL) =>
    db
      .select({ date: transactions.transactionDate })
      .from(transactions)
      .where(ofAccount(teamId, accountId, eq(transactions.type, type), eq(transactions.status, 'BOOKED')))
      .orderBy(desc(transactions.transactionDate))
      .limit(1);
  const rows = await unionAll(...eachType(newestOfType));
  return rows.reduce<Date | null>((newest, row) => (newest && newest > row.date ? newest : row.date), null);
}
