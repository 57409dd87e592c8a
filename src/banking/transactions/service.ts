import type { Database } from '../../db/client.js';
import { type FieldError, invalidInput, notFound } from '../../errors.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import { toMajorUnits } from '../../money.js';
import { accountExists, connectionExists } from '../accounts/queries.js';
import { parseBound } from './date-range.js';
import { listTransactionRows, type TransactionFilter, type TransactionListRow } from './queries.js';
import { DEFAULT_LIMIT, type ListTransactionsInput, type TransactionView } from './schemas.js';

export interface TransactionPage {
  items: TransactionView[];
  /** The cursor of the next page, or null on the last one. */
  nextCursor: string | null;
}

/**
 * The query's date bounds and cursor as the list reads them, and what is wrong with them that no
 * one value tells: `to` before `from`. Given the fields that passed the schema, it is also the
 * route's input check, so a problem lists this beside the schema's errors. A real date and a
 * cursor of ours are the schema's formats (`date-or-date-time`, `cursor`).
 */
export function readListQuery(input: Partial<ListTransactionsInput>) {
  const errors: FieldError[] = [];
  const from = input.from === undefined ? undefined : schemaChecked(parseBound(input.from, 'from'));
  const to = input.to === undefined ? undefined : schemaChecked(parseBound(input.to, 'to'));
  if (from && to && (to.exclusive ? to.at <= from.at : to.at < from.at)) {
    errors.push({ path: '/to', in: 'query', message: 'must not be before `from`' });
  }
  const after = input.cursor === undefined ? null : schemaChecked(decodeCursor(input.cursor));
  return { from, to, after, errors };
}

/** A value the schema's format has already read; reaching here unread is a bug, not a client's error. */
function schemaChecked<T extends object>(read: T | FieldError | null): T {
  if (read === null || 'message' in read) throw new Error('a value passed a format that refuses it');
  return read;
}

export function createTransactionsService(db: Database) {
  return {
    async list(teamId: string, input: ListTransactionsInput): Promise<TransactionPage> {
      const { from, to, after, errors } = readListQuery(input);
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
