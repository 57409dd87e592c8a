import { and, eq, gte, inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { accounts, transactions } from '../../db/schema.js';

export type AccountRow = typeof accounts.$inferSelect;
export type NewTransactionRow = typeof transactions.$inferInsert;

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
 * Where a booked transaction arrives under a new provider id with a link to the pending one it
 * replaces, the pending row takes the new provider id, so our `id` stays.
 */
export async function rekeyPendingTransaction(
  db: Queryable,
  key: { teamId: string; accountId: string; pendingRef: string; bookedRef: string },
) {
  await db.execute(sql`
    update ${transactions} set provider_transaction_id = ${key.bookedRef}
    where team_id = ${key.teamId} and account_id = ${key.accountId}
      and provider_transaction_id = ${key.pendingRef}
      and not exists (
        select 1 from ${transactions}
        where team_id = ${key.teamId} and account_id = ${key.accountId}
          and provider_transaction_id = ${key.bookedRef})`);
}

/**
 * Inserts new transactions and updates changed ones in one statement; unchanged rows are not
 * touched (no new row version). Returns how many were inserted and how many updated.
 */
export async function upsertTransactions(
  db: Queryable,
  rows: NewTransactionRow[],
): Promise<{ inserted: number; updated: number }> {
  if (rows.length === 0) return { inserted: 0, updated: 0 };
  const written = await db
    .insert(transactions)
    .values(rows)
    .onConflictDoUpdate({
      target: [transactions.teamId, transactions.accountId, transactions.providerTransactionId],
      set: {
        amountMinor: sql`excluded.amount_minor`,
        currency: sql`excluded.currency`,
        description: sql`excluded.description`,
        transactionDate: sql`excluded.transaction_date`,
        type: sql`excluded.type`,
        status: sql`excluded.status`,
        category: sql`excluded.category`,
        updatedAt: sql`excluded.updated_at`,
      },
      setWhere: sql`(${transactions.amountMinor}, ${transactions.currency}, ${transactions.description},
        ${transactions.transactionDate}, ${transactions.type}, ${transactions.status}, ${transactions.category})
        is distinct from (excluded.amount_minor, excluded.currency, excluded.description,
        excluded.transaction_date, excluded.type, excluded.status, excluded.category)`,
    })
    .returning({ inserted: sql<boolean>`(xmax = 0)` });
  const inserted = written.filter((row) => row.inserted).length;
  return { inserted, updated: written.length - inserted };
}

export async function pendingRefsOf(db: Queryable, teamId: string, accountId: string, since: Date | null) {
  const rows = await db
    .select({ ref: transactions.providerTransactionId })
    .from(transactions)
    .where(
      and(
        eq(transactions.teamId, teamId),
        eq(transactions.accountId, accountId),
        eq(transactions.status, 'PENDING'),
        since ? gte(transactions.transactionDate, since) : undefined,
      ),
    );
  return rows.map((row) => row.ref);
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
    .where(
      and(
        eq(transactions.teamId, teamId),
        eq(transactions.accountId, accountId),
        inArray(transactions.providerTransactionId, refs),
      ),
    )
    .returning({ id: transactions.id });
  return deleted.length;
}
