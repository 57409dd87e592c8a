import type { Database } from '../../db/client.js';
import { notFound } from '../../errors.js';
import { toMajorUnits } from '../../money.js';
import { listTransactionRows } from '../transactions/queries.js';
import { toTransactionView } from '../transactions/service.js';
import { type AccountRow, connectionExists, findAccountRow, listAccountRows } from './queries.js';
import type { AccountDetailsView, AccountView } from './schemas.js';

const RECENT_TRANSACTIONS = 10;

/** A row of the accounts query as the API shows it: amounts in major units, the connection nested. */
export function toAccountView(row: AccountRow): AccountView {
  return {
    id: row.id,
    connectionId: row.connection_id,
    accountName: row.name,
    accountNumber: row.account_number,
    sortCode: row.sort_code,
    currency: row.currency,
    type: row.type,
    balance: toMajorUnits(Number(row.balance_minor), row.currency),
    availableBalance:
      row.available_balance_minor === null
        ? null
        : toMajorUnits(Number(row.available_balance_minor), row.currency),
    connection: { id: row.connection_id, provider: row.provider, status: row.connection_status },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function createAccountsService(db: Database) {
  return {
    async list(teamId: string, connectionId?: string): Promise<AccountView[]> {
      const rows = await listAccountRows(db, teamId, connectionId);
      // An account listed proves its connection is the team's: the id is looked up only when none is.
      if (
        rows.length === 0 &&
        connectionId !== undefined &&
        !(await connectionExists(db, teamId, connectionId))
      ) {
        throw notFound('Connection');
      }
      return rows.map(toAccountView);
    },

    async details(teamId: string, accountId: string): Promise<AccountDetailsView> {
      const row = await findAccountRow(db, teamId, accountId);
      if (!row) throw notFound('Account');
      // The account's first page of the transactions list, through the list's own query and indexes.
      const recent = await listTransactionRows(db, { teamId, accountId }, RECENT_TRANSACTIONS);
      return {
        ...toAccountView(row),
        transactionCount: row.transaction_count,
        // The list's own view of each row; the response schema writes the fields it names.
        recentTransactions: recent.map(toTransactionView),
      };
    },
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
