import { type Static, Type } from 'typebox';
import {
  DATE_HELP,
  DateOrDateTime,
  Money,
  Nullable,
  ResourceId,
  StringEnum,
  TeamId,
  Timestamp,
} from '../../http/schemas.js';

export const DEFAULT_LIMIT = 500;
export const MAX_LIMIT = 5000;

export const ListTransactionsQuery = Type.Object({
  teamId: TeamId,
  accountId: Type.Optional(ResourceId),
  connectionId: Type.Optional(ResourceId),
  from: Type.Optional({
    ...DateOrDateTime,
    description: `Earliest transactionDate, inclusive. ${DATE_HELP}`,
  }),
  to: Type.Optional({
    ...DateOrDateTime,
    description: `Latest transactionDate, inclusive (a date includes the whole UTC day). ${DATE_HELP}`,
  }),
  type: Type.Optional(StringEnum(['CREDIT', 'DEBIT'])),
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT })),
  cursor: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 512,
      format: 'cursor',
      description: 'Opaque; from the `Link: rel="next"` header.',
    }),
  ),
});

export const TransactionItem = Type.Object(
  {
    id: Type.String(),
    accountId: Type.String(),
    connectionId: Type.String(),
    amount: { ...Money, minimum: 0, description: 'Magnitude in major units; `type` gives the direction.' },
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    description: Type.String(),
    transactionDate: Timestamp,
    type: StringEnum(['CREDIT', 'DEBIT'], { description: 'CREDIT is money in, DEBIT money out.' }),
    category: Nullable(Type.String()),
    status: StringEnum(['BOOKED', 'PENDING']),
    account: Type.Object({
      id: Type.String(),
      accountName: Type.String(),
      accountNumber: Nullable(Type.String()),
      connection: Type.Object({ id: Type.String(), provider: Type.String() }),
    }),
  },
  { $id: 'Transaction' },
);

export type ListTransactionsInput = Static<typeof ListTransactionsQuery>;
export type TransactionView = Static<typeof TransactionItem>;
