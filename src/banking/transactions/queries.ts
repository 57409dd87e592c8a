import { and, desc, eq, gte, lt, lte, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { accounts, connections, transactions } from '../../db/schema.js';
import type { CursorPosition } from './cursor.js';
import type { Bound } from './date-range.js';

export interface TransactionFilter {
  teamId: string;
  accountId?: string | undefined;
  connectionId?: string | undefined;
  from?: Bound | undefined;
  to?: Bound | undefined;
  type?: 'CREDIT' | 'DEBIT' | undefined;
  category?: string | undefined;
  after?: CursorPosition | null | undefined;
}

/**
 * One page of transactions, newest first, with their account and connection, in one query.
 * Served by the (team_id, [account_id | connection_id | category | account_id, category,]
 * transaction_date desc, id desc) indexes; the cursor is a row comparison on the same key, so no
 * OFFSET is ever used and rows added since a page was served never move the next one.
 */
export async function listTransactionRows(db: Queryable, filter: TransactionFilter, limit: number) {
  const conditions: (SQL | undefined)[] = [
    eq(transactions.teamId, filter.teamId),
    filter.accountId ? eq(transactions.accountId, filter.accountId) : undefined,
    filter.connectionId ? eq(transactions.connectionId, filter.connectionId) : undefined,
    filter.from ? gte(transactions.transactionDate, filter.from.at) : undefined,
    filter.to
      ? filter.to.exclusive
        ? lt(transactions.transactionDate, filter.to.at)
        : lte(transactions.transactionDate, filter.to.at)
      : undefined,
    filter.type ? eq(transactions.type, filter.type) : undefined,
    filter.category ? eq(transactions.category, filter.category) : undefined,
    filter.after
      ? sql`(${transactions.transactionDate}, ${transactions.id}) < (${filter.after.transactionDate.toISOString()}::timestamptz, ${filter.after.id})`
      : undefined,
  ];
  return db
    .select({
      id: transactions.id,
      accountId: transactions.accountId,
      connectionId: transactions.connectionId,
      amountMinor: transactions.amountMinor,
      currency: transactions.currency,
      description: transactions.description,
      transactionDate: transactions.transactionDate,
      type: transactions.type,
      category: transactions.category,
      status: transactions.status,
      accountName: accounts.name,
      accountNumber: accounts.accountNumber,
      provider: connections.provider,
    })
    .from(transactions)
    .innerJoin(
      accounts,
      and(eq(accounts.teamId, transactions.teamId), eq(accounts.id, transactions.accountId)),
    )
    .innerJoin(
      connections,
      and(eq(connections.teamId, transactions.teamId), eq(connections.id, transactions.connectionId)),
    )
    .where(and(...conditions))
    .orderBy(desc(transactions.transactionDate), desc(transactions.id))
    .limit(limit);
}
