import type { Database } from '../../db/client.js';
import { notFound } from '../../errors.js';
import { toMajorUnits } from '../../money.js';
import {
  type AccountWithConnectionRow,
  connectionExists,
  findAccountRow,
  listAccountRows,
  recentTransactionRows,
} from './queries.js';
import type { AccountDetailsView, AccountView } from './schemas.js';

const RECENT_TRANSACTIONS = 10;

function toAccountView(row: AccountWithConnectionRow): AccountView {
  return {
    id: row.id,
    connectionId: row.connectionId,
    accountName: row.name,
    accountNumber: row.accountNumber,
    sortCode: row.sortCode,
    currency: row.currency,
    type: row.type,
    balance: toMajorUnits(row.balanceMinor, row.currency),
    availableBalance:
      row.availableBalanceMinor === null ? null : toMajorUnits(row.availableBalanceMinor, row.currency),
    connection: { id: row.connectionId, provider: row.provider, status: row.connectionStatus },
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
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
      const recent = await recentTransactionRows(db, teamId, accountId, RECENT_TRANSACTIONS);
      return {
        ...toAccountView(row),
        transactionCount: row.transactionCount,
        recentTransactions: recent.map((transaction) => ({
          id: transaction.id,
          amount: toMajorUnits(transaction.amountMinor, transaction.currency),
          currency: transaction.currency,
          description: transaction.description,
          transactionDate: transaction.transactionDate,
          type: transaction.type,
          category: transaction.category,
          status: transaction.status,
        })),
      };
    },
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
