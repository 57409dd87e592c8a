import { type Static, Type } from 'typebox';
import { Money, Nullable, ResourceId, StringEnum, TeamId, Timestamp } from '../../http/schemas.js';
import { ACCOUNT_TYPES } from '../../providers/provider.js';
import { TransactionItem } from '../transactions/schemas.js';

export const Account = Type.Object(
  {
    id: Type.String(),
    connectionId: Type.String(),
    accountName: Type.String(),
    accountNumber: Nullable(Type.String(), {
      description: 'Domestic account number, or the IBAN (electronic form) where there is none.',
    }),
    sortCode: Nullable(Type.String()),
    currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217.' }),
    type: StringEnum([...ACCOUNT_TYPES]),
    balance: Money,
    availableBalance: Nullable(Money),
    connection: Type.Object({ id: Type.String(), provider: Type.String(), status: Type.String() }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'Account' },
);

/**
 * A transaction as the list shows it, without its account (the details are the account's):
 * the list's own item schema, so the two cannot drift apart.
 */
export const RecentTransaction = Type.Pick(TransactionItem, [
  'id',
  'amount',
  'currency',
  'description',
  'transactionDate',
  'type',
  'category',
  'status',
]);

export const AccountDetails = Type.Object(
  {
    ...Account.properties,
    transactionCount: Type.Integer({ minimum: 0 }),
    recentTransactions: Type.Array(RecentTransaction, { description: 'The 10 newest, newest first.' }),
  },
  { $id: 'AccountDetails' },
);

export type AccountView = Static<typeof Account>;
export type AccountDetailsView = Static<typeof AccountDetails>;

export const ListAccountsQuery = Type.Object({
  teamId: TeamId,
  connectionId: Type.Optional(ResourceId),
});

export const AccountParams = Type.Object({ id: ResourceId });
export const AccountQuery = Type.Object({ teamId: TeamId });
