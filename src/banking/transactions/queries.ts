import { and, desc, eq, exists, gte, lt, lte, type Placeholder, type SQL, sql } from 'drizzle-orm';
import { alias, unionAll } from 'drizzle-orm/pg-core';
import type { Database } from '../../db/client.js';
import { isoTimestamp } from '../../db/format.js';
import { driverRows, literalLimit, prepared } from '../../db/prepared.js';
import { accounts, connections, transactions } from '../../db/schema.js';
import type { CursorPosition } from '../../http/cursor.js';
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
 * Served by the (team_id, [account_id | connection_id | category | account_id, category |
 * connection_id, category,] type, transaction_date desc, id desc) indexes (see src/db/schema.ts),
 * each type's range read in order and the two merged when no type is asked; the cursor is a row
 * comparison on the same key, so no OFFSET is ever used and rows added since a page was served
 * never move the next one.
 */
export async function listTransactionRows(db: Database, filter: TransactionFilter, limit: number) {
  // One prepared query per combination of filters in use and page size (see `literalLimit`); the
  // values are parameters.
  const shape: ListShape = {
    account: filter.accountId !== undefined,
    connection: filter.connectionId !== undefined,
    from: filter.from !== undefined,
    to: filter.to === undefined ? 'none' : filter.to.exclusive ? 'before' : 'upto',
    type: filter.type !== undefined,
    category: filter.category !== undefined,
    after: Boolean(filter.after),
  };
  // One letter per filter in use: PostgreSQL cuts statement names at 63 characters.
  const filters = [
    shape.account && 'a',
    shape.connection && 'c',
    shape.from && 'f',
    shape.to === 'before' && 'b',
    shape.to === 'upto' && 'u',
    shape.type && 't',
    shape.category && 'g',
    shape.after && 'k',
  ].filter(Boolean);
  const name = `transactions_${filters.join('') || 'all'}_limit${limit}`;
  const query = prepared(db, name, () => buildTransactionList(db, shape, limit));
  return driverRows<TransactionListRow>(query, {
    teamId: filter.teamId,
    accountId: filter.accountId,
    connectionId: filter.connectionId,
    from: filter.from?.at.toISOString(),
    to: filter.to?.at.toISOString(),
    type: filter.type,
    category: filter.category,
    afterDate: filter.after?.at,
    afterId: filter.after?.id,
  });
}

/**
 * A row as the driver answers it. The date comes formatted by PostgreSQL as the API shows it, and
 * the amount as the driver reads a bigint (text in node-postgres, a number or bigint in PGlite).
 */
export interface TransactionListRow {
  id: string;
  account_id: string;
  connection_id: string;
  amount_minor: string | number | bigint;
  currency: string;
  description: string;
  transaction_date: string;
  type: 'CREDIT' | 'DEBIT';
  category: string | null;
  status: 'BOOKED' | 'PENDING';
  name: string;
  account_number: string | null;
  provider: string;
}

interface ListShape {
  account: boolean;
  connection: boolean;
  from: boolean;
  to: 'none' | 'before' | 'upto';
  type: boolean;
  category: boolean;
  after: boolean;
}

/** Each type as a literal of the statement. */
const TYPES: Record<(typeof transactions.type.enumValues)[number], SQL> = {
  CREDIT: sql`'CREDIT'`,
  DEBIT: sql`'DEBIT'`,
};

/**
 * `read` of each type's rows: every transactions index read in date order holds each type's rows
 * as a range of their own (src/db/schema.ts), so a read across types is one per type, merged. A
 * type added to the schema stops `TYPES` compiling until it is read here too.
 */
export function eachType<Read>(read: (type: SQL) => Read): [Read, Read] {
  return [read(TYPES.CREDIT), read(TYPES.DEBIT)];
}

/** What a type's range selects of each row: the transaction, its account's name and number, its provider. */
const RANGE_COLUMNS = {
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
};

/** The account of an `accountId` filter, apart from the account each row is joined to. */
const filteredAccount = alias(accounts, 'filtered_account');

function buildTransactionList(db: Database, shape: ListShape, limit: number) {
  // Each type's rows are one range of an index in the list's order (src/db/schema.ts), so a
  // page of both types merges the two ranges, newest first (a Merge Append in the plan): no
  // sort, and no range read past the rows the page takes.
  const source = shape.type
    ? typeRange(db, shape, sql.placeholder('type'), limit)
    : unionAll(...eachType((type) => typeRange(db, shape, type, limit)));
  const page = source.as('page');
  // The page's row is the range's, with the date formatted as the API shows it.
  const columns = Object.fromEntries(
    Object.keys(RANGE_COLUMNS).map((name) => [name, page[name as keyof typeof RANGE_COLUMNS]]),
  );
  return db
    .select({ ...columns, transactionDate: isoTimestamp(page.transactionDate).as('transaction_date') })
    .from(page)
    .orderBy(desc(page.transactionDate), desc(page.id))
    .limit(literalLimit(limit));
}

/** The first `limit` rows of one type that match the page's other filters, newest first. */
function typeRange(db: Database, shape: ListShape, type: SQL | Placeholder, limit: number) {
  const param = (name: string) => sql.placeholder(name);
  const conditions: (SQL | undefined)[] = [
    eq(transactions.teamId, param('teamId')),
    shape.account ? eq(transactions.accountId, param('accountId')) : undefined,
    shape.connection && !shape.account ? eq(transactions.connectionId, param('connectionId')) : undefined,
    // An account belongs to one connection, so with both filters whether they agree is asked of
    // the account once (a one-time filter in the plan), not of each of its rows: an account of
    // another connection answers at once instead of after walking the account's history.
    shape.connection && shape.account
      ? exists(
          db
            .select({ one: sql`1` })
            .from(filteredAccount)
            .where(
              and(
                eq(filteredAccount.teamId, param('teamId')),
                eq(filteredAccount.id, param('accountId')),
                eq(filteredAccount.connectionId, param('connectionId')),
              ),
            ),
        )
      : undefined,
    shape.category ? eq(transactions.category, param('category')) : undefined,
    eq(transactions.type, type),
    shape.from ? gte(transactions.transactionDate, sql`${param('from')}::timestamptz`) : undefined,
    shape.to === 'before' ? lt(transactions.transactionDate, sql`${param('to')}::timestamptz`) : undefined,
    shape.to === 'upto' ? lte(transactions.transactionDate, sql`${param('to')}::timestamptz`) : undefined,
    shape.after
      ? sql`(${transactions.transactionDate}, ${transactions.id}) < (${param('afterDate')}::timestamptz, ${param('afterId')})`
      : undefined,
  ];
  return (
    db
      .select(RANGE_COLUMNS)
      .from(transactions)
      // Every row has its account and connection (foreign keys, and sync writes a row with its
      // account's connection), so these joins never drop a row. Written as left joins, they leave
      // the planner's estimate of a type's rows the index's own: with inner joins, accounts and
      // connections without statistics (autovacuum never analyses a table of a few rows) cut the
      // 71,000 CREDIT rows of a 1,000,000-row team to an estimate under one page, and PostgreSQL
      // joined and sorted all of them for the first page (0.4 to 0.5 s instead of 2 ms). The team
      // is written into each join so that its scan stays the team's.
      .leftJoin(accounts, and(eq(accounts.teamId, param('teamId')), eq(accounts.id, transactions.accountId)))
      .leftJoin(
        connections,
        and(eq(connections.teamId, param('teamId')), eq(connections.id, transactions.connectionId)),
      )
      .where(and(...conditions))
      .orderBy(desc(transactions.transactionDate), desc(transactions.id))
      .limit(literalLimit(limit))
  );
}
