import { and, asc, eq, sql } from 'drizzle-orm';
import type { Database, Queryable } from '../../db/client.js';
import { isoTimestamp } from '../../db/format.js';
import { driverRows, prepared } from '../../db/prepared.js';
import { accounts, connections } from '../../db/schema.js';

const accountColumns = {
  id: accounts.id,
  connectionId: accounts.connectionId,
  name: accounts.name,
  accountNumber: accounts.accountNumber,
  sortCode: accounts.sortCode,
  currency: accounts.currency,
  type: accounts.type,
  balanceMinor: accounts.balanceMinor,
  availableBalanceMinor: accounts.availableBalanceMinor,
  transactionCount: accounts.transactionCount,
  createdAt: isoTimestamp(accounts.createdAt).as('created_at'),
  updatedAt: isoTimestamp(accounts.updatedAt).as('updated_at'),
  provider: connections.provider,
  connectionStatus: sql<string>`${connections.status}`.as('connection_status'),
};

/**
 * An account with its connection as the driver answers it (see `driverRows`): bigints as the
 * engine reads them (text in node-postgres, a number or bigint in PGlite), timestamps formatted
 * by PostgreSQL.
 */
export interface AccountRow {
  id: string;
  connection_id: string;
  name: string;
  account_number: string | null;
  sort_code: string | null;
  currency: string;
  type: (typeof accounts.type.enumValues)[number];
  balance_minor: string | number | bigint;
  available_balance_minor: string | number | bigint | null;
  transaction_count: number;
  created_at: string;
  updated_at: string;
  provider: string;
  connection_status: string;
}

/** Accounts with their connection, in one query. */
function selectAccounts(db: Queryable) {
  return db
    .select(accountColumns)
    .from(accounts)
    .innerJoin(
      connections,
      and(eq(connections.teamId, accounts.teamId), eq(connections.id, accounts.connectionId)),
    );
}

export async function listAccountRows(db: Database, teamId: string, connectionId?: string) {
  const byConnection = connectionId !== undefined;
  const query = prepared(db, byConnection ? 'accounts_of_connection' : 'accounts_of_team', () =>
    selectAccounts(db)
      .where(
        and(
          eq(accounts.teamId, sql.placeholder('teamId')),
          byConnection ? eq(accounts.connectionId, sql.placeholder('connectionId')) : undefined,
        ),
      )
      .orderBy(asc(accounts.createdAt), asc(accounts.connectionId), asc(accounts.position), asc(accounts.id)),
  );
  return driverRows<AccountRow>(query, { teamId, connectionId });
}

export async function findAccountRow(db: Database, teamId: string, accountId: string) {
  const query = prepared(db, 'account_by_id', () =>
    selectAccounts(db).where(
      and(eq(accounts.teamId, sql.placeholder('teamId')), eq(accounts.id, sql.placeholder('accountId'))),
    ),
  );
  const [row] = await driverRows<AccountRow>(query, { teamId, accountId });
  return row ?? null;
}

export async function connectionExists(db: Queryable, teamId: string, connectionId: string) {
  const [row] = await db
    .select({ id: connections.id })
    .from(connections)
    .where(and(eq(connections.teamId, teamId), eq(connections.id, connectionId)));
  return row !== undefined;
}

export async function accountExists(db: Queryable, teamId: string, accountId: string) {
  const [row] = await db
    .select({ id: accounts.id })
    .from(accounts)
    .where(and(eq(accounts.teamId, teamId), eq(accounts.id, accountId)));
  return row !== undefined;
}
