import type { Database } from '../../db/client.js';
import { type FieldError, invalidInput, notFound } from '../../errors.js';
import { toMajorUnits } from '../../money.js';
import { accountExists, connectionExists } from '../accounts/queries.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { type Bound, parseBound } from './date-range.js';
import { listTransactionRows, type TransactionFilter, type TransactionListRow } from './queries.js';
import { DEFAULT_LIMIT, type ListTransactionsInput, type TransactionView } from './schemas.js';

export interface TransactionPage {
  items: TransactionView[];
  /** The cursor of the next page, or null on the last one. */
  nextCursor: string | null;
}

export function createTransactionsService(db: Database) {
  return {
    async list(teamId: string, input: ListTransactionsInput): Promise<TransactionPage> {
      const errors: FieldError[] = [];
      const bound = (value: string | undefined, edge: 'from' | 'to'): Bound | undefined => {
        if (value === undefined) return undefined;
        const parsed = parseBound(value, edge);
        if ('path' in parsed) errors.push(parsed);
        return 'at' in parsed ? parsed : undefined;
      };
      const from = bound(input.from, 'from');
      const to = bound(input.to, 'to');
      if (from && to && (to.exclusive ? to.at <= from.at : to.at < from.at)) {
        errors.push({ path: '/to', in: 'query', message: 'must not be before `from`' });
      }
      const after = input.cursor === undefined ? null : decodeCursor(input.cursor);
      if (input.cursor !== undefined && !after)
        errors.push({ path: '/cursor', in: 'query', message: 'is not a valid cursor' });
      if (errors.length > 0) throw invalidInput(errors);

      const limit = input.limit ?? DEFAULT_LIMIT;
      const filter: TransactionFilter = {
        teamId,
        accountId: input.accountId,
        connectionId: input.connectionId,
        from,
        to,
        type: input.type,
        category: input.category,
        after,
      };
      const rows = await listTransactionRows(db, filter, limit + 1);
      // A row served proves its account and connection are the team's (the query joins both),
      // so the ids of the filters are looked up only when nothing matched: one query per page.
      if (rows.length === 0) {
        if (input.accountId && !(await accountExists(db, teamId, input.accountId))) throw notFound('Account');
        if (input.connectionId && !(await connectionExists(db, teamId, input.connectionId))) {
          throw notFound('Connection');
        }
      }
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toTransactionView),
        nextCursor:
          rows.length > limit && last ? encodeCursor({ at: last.transaction_date, id: last.id }) : null,
      };
    },
  };
}

export type TransactionsService = ReturnType<typeof createTransactionsService>;

/** A row of the list query as the API shows it: the amount in major units, account and connection nested. */
export function toTransactionView(row: TransactionListRow): TransactionView {
  return {
    id: row.id,
    accountId: row.account_id,
    connectionId: row.connection_id,
    amount: toMajorUnits(Number(row.amount_minor), row.currency),
    currency: row.currency,
    description: row.description,
    transactionDate: row.transaction_date,
    type: row.type,
    category: row.category,
    status: row.status,
    account: {
      id: row.account_id,
      accountName: row.name,
      accountNumber: row.account_number,
      connection: { id: row.connection_id, provider: row.provider },
    },
  };
}
