import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { Scope } from '../providers/provider.js';

/*
 * Every table carries `team_id`, and `team_id` leads every primary key and every index that
 * serves a list, so the schema can be distributed by team (Citus-style) without a redesign.
 * `api_keys.id` is the one global lookup (a key arrives without its team); in a distributed
 * setup that table becomes a reference table.
 * Money is stored as integer minor units (`*_minor`), never as floats.
 */

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
};

export const teams = pgTable('teams', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: timestamps.createdAt,
});

export const apiKeys = pgTable(
  'api_keys',
  {
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id),
    id: text('id').notNull(),
    /** SHA-256 of the whole key; the key itself is shown once and never stored. */
    keyHash: text('key_hash').notNull(),
    createdAt: timestamps.createdAt,
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.id] }), uniqueIndex('api_keys_id_key').on(t.id)],
);

export const connections = pgTable(
  'connections',
  {
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id),
    id: text('id').notNull(),
    provider: text('provider').notNull(),
    providerId: text('provider_id').notNull(),
    /** The provider-side consent the connection currently uses. */
    consentRef: text('consent_ref').notNull(),
    status: text('status', { enum: ['ACTIVE', 'DISCONNECTED'] }).notNull(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    /** The provider's state for this connection (tokens, cursors), sealed by `secrets.ts`. */
    providerState: text('provider_state'),
    lastSyncedAt: timestamp('last_synced_at', { withTimezone: true, mode: 'date' }),
    lastSyncStatus: text('last_sync_status', { enum: ['SUCCEEDED', 'FAILED'] }),
    lastSyncError: text('last_sync_error'),
    /**
     * When the background scheduler next syncs this connection; null when it should not. Also the
     * lease of an instance that took it: taking moves it 15 minutes ahead, so a crashed instance's
     * connection comes due again then.
     */
    nextSyncAt: timestamp('next_sync_at', { withTimezone: true, mode: 'date' }),
    /** Background syncs failed in a row (for backoff; reset by a success). */
    syncFailures: integer('sync_failures').notNull().default(0),
    /**
     * Unused: read by no version, and no longer written. It stays until a later migration drops
     * it, so that instances of the version before, which still write it, keep working while a
     * rolling deployment replaces them.
     */
    syncLeaseUntil: timestamp('sync_lease_until', { withTimezone: true, mode: 'date' }),
    /** When `consent.expiring` was raised for the current consent (once per consent). */
    expiryNotifiedAt: timestamp('expiry_notified_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (t) => [
    primaryKey({ columns: [t.teamId, t.id] }),
    index('connections_team_created_idx').on(t.teamId, t.createdAt, t.id),
    // The scheduler's queue runs across teams: which connection is due next.
    index('connections_due_idx').on(t.nextSyncAt).where(sql`${t.status} = 'ACTIVE'`),
  ],
);

/** A provider consent id can be connected once per team and provider, ever. */
export const consentReferences = pgTable(
  'consent_references',
  {
    teamId: text('team_id').notNull(),
    provider: text('provider').notNull(),
    consentRef: text('consent_ref').notNull(),
    connectionId: text('connection_id').notNull(),
    createdAt: timestamps.createdAt,
  },
  (t) => [
    primaryKey({ columns: [t.teamId, t.provider, t.consentRef] }),
    foreignKey({ columns: [t.teamId, t.connectionId], foreignColumns: [connections.teamId, connections.id] }),
  ],
);

export const consents = pgTable(
  'consents',
  {
    teamId: text('team_id').notNull(),
    id: text('id').notNull(),
    connectionId: text('connection_id').notNull(),
    status: text('status', { enum: ['AUTHORIZED', 'REVOKED'] }).notNull(),
    scopes: text('scopes').array().notNull().$type<Scope[]>(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamps.createdAt,
  },
  (t) => [
    primaryKey({ columns: [t.teamId, t.id] }),
    foreignKey({ columns: [t.teamId, t.connectionId], foreignColumns: [connections.teamId, connections.id] }),
    index('consents_team_connection_idx').on(t.teamId, t.connectionId, t.createdAt, t.id),
  ],
);

export const accounts = pgTable(
  'accounts',
  {
    teamId: text('team_id').notNull(),
    id: text('id').notNull(),
    connectionId: text('connection_id').notNull(),
    providerAccountId: text('provider_account_id').notNull(),
    /** The provider's id for the account across consents, where it has one. */
    stableReference: text('stable_reference'),
    name: text('name').notNull(),
    accountNumber: text('account_number'),
    sortCode: text('sort_code'),
    currency: text('currency').notNull(),
    type: text('type', { enum: ['CHECKING', 'SAVINGS', 'CREDIT', 'INVESTMENT'] }).notNull(),
    balanceMinor: bigint('balance_minor', { mode: 'number' }).notNull().default(0),
    availableBalanceMinor: bigint('available_balance_minor', { mode: 'number' }),
    /** Maintained by sync in the same transaction as the rows, so details never count rows. */
    transactionCount: integer('transaction_count').notNull().default(0),
    /** The provider's order of the connection's accounts (current account first, as the bank lists them). */
    position: integer('position').notNull().default(0),
    ...timestamps,
  },
  (t) => [
    primaryKey({ columns: [t.teamId, t.id] }),
    foreignKey({ columns: [t.teamId, t.connectionId], foreignColumns: [connections.teamId, connections.id] }),
    uniqueIndex('accounts_team_connection_ref_key').on(t.teamId, t.connectionId, t.providerAccountId),
    index('accounts_team_created_idx').on(t.teamId, t.createdAt, t.connectionId, t.position),
  ],
);

export const transactions = pgTable(
  'transactions',
  {
    teamId: text('team_id').notNull(),
    id: text('id').notNull(),
    accountId: text('account_id').notNull(),
    connectionId: text('connection_id').notNull(),
    providerTransactionId: text('provider_transaction_id').notNull(),
    /** Magnitude, always >= 0; `type` gives the direction. */
    amountMinor: bigint('amount_minor', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    description: text('description').notNull(),
    transactionDate: timestamp('transaction_date', { withTimezone: true, mode: 'date' }).notNull(),
    type: text('type', { enum: ['CREDIT', 'DEBIT'] }).notNull(),
    status: text('status', { enum: ['BOOKED', 'PENDING'] }).notNull(),
    category: text('category'),
    ...timestamps,
  },
  (t) => {
    // The keys every list index ends with (see below). A function, not a shared array: drizzle's
    // `.on()` resets a column's `.desc().nullsFirst()` once it has read it.
    const typeThenListOrder = () =>
      [t.type, t.transactionDate.desc().nullsFirst(), t.id.desc().nullsFirst()] as const;
    return [
      primaryKey({ columns: [t.teamId, t.id] }),
      foreignKey({ columns: [t.teamId, t.accountId], foreignColumns: [accounts.teamId, accounts.id] }),
      check('transactions_amount_minor_check', sql`${t.amountMinor} >= 0`),
      uniqueIndex('transactions_team_account_ref_key').on(t.teamId, t.accountId, t.providerTransactionId),
      /*
       * The list's indexes, one per combination of the filters that can match nothing on their own
       * (account or connection, category), each with `type` after them and then the list's order
       * (transaction_date desc, id desc): every equality filter of a page is a prefix of one index,
       * so a page is an index scan stopped after `limit` rows, with the keyset cursor and a from/to
       * range as index conditions, and a combination that matches nothing ("refunds in groceries",
       * `category=groceries&type=CREDIT`) is a descent to an empty range, however long the history.
       * A page that asks no type reads the two types' ranges merged in order (see
       * src/banking/transactions/queries.ts). NULLS FIRST is what `ORDER BY ... DESC` means:
       * drizzle's bare `.desc()` writes NULLS LAST, which no such ORDER BY matches, and PostgreSQL
       * then read the whole team and sorted it (1 s at 1,000,000 rows; see docs/BENCHMARKS.md).
       * An account's connection is asked of the account, so an account filter needs no connection key.
       */
      index('transactions_team_type_date_idx').on(t.teamId, ...typeThenListOrder()),
      index('transactions_team_account_type_date_idx').on(t.teamId, t.accountId, ...typeThenListOrder()),
      index('transactions_team_connection_type_date_idx').on(
        t.teamId,
        t.connectionId,
        ...typeThenListOrder(),
      ),
      // A rare category (0.5% of rows) would otherwise be found by walking the date index through
      // 200 rows for every one served; this reads the category's rows alone, in the list's order.
      index('transactions_team_category_type_date_idx').on(t.teamId, t.category, ...typeThenListOrder()),
      // Category within one account ("eating out on the current account"): with the category
      // index alone, a rare category on one of 10 accounts read 10 rows for each one served.
      index('transactions_team_account_category_type_date_idx').on(
        t.teamId,
        t.accountId,
        t.category,
        ...typeThenListOrder(),
      ),
      // The same within one connection: a category that one connection never has (eating out on a
      // savings bank) would otherwise walk the category's entries of every other connection.
      index('transactions_team_connection_category_type_date_idx').on(
        t.teamId,
        t.connectionId,
        t.category,
        ...typeThenListOrder(),
      ),
      index('transactions_team_account_pending_idx')
        .on(t.teamId, t.accountId)
        .where(sql`${t.status} = 'PENDING'`),
      // Rows under a provider id a bank used for two transactions (`variantRef`): nearly always
      // none, so a sync can tell in one look whether it must match incoming rows to them.
      index('transactions_team_account_variant_ref_idx')
        .on(t.teamId, t.accountId)
        .where(sql`${t.providerTransactionId} like '%~%'`),
    ];
  },
);

export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id),
    id: text('id').notNull(),
    url: text('url').notNull(),
    /** The signing secret, sealed by `secrets.ts`. */
    secret: text('secret').notNull(),
    /** Event types sent to this endpoint. */
    events: text('events').array().notNull(),
    createdAt: timestamps.createdAt,
    deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    primaryKey({ columns: [t.teamId, t.id] }),
    index('webhook_endpoints_team_idx').on(t.teamId, t.createdAt),
  ],
);

/** The outbox: events written in the same transaction as the change that caused them. */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    teamId: text('team_id').notNull(),
    id: text('id').notNull(),
    type: text('type').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamps.createdAt,
  },
  (t) => [
    primaryKey({ columns: [t.teamId, t.id] }),
    index('webhook_events_team_idx').on(t.teamId, t.createdAt),
  ],
);

/** One row per event and endpoint: its attempts, and the delivery log. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    teamId: text('team_id').notNull(),
    id: text('id').notNull(),
    eventId: text('event_id').notNull(),
    endpointId: text('endpoint_id').notNull(),
    status: text('status', { enum: ['PENDING', 'SUCCEEDED', 'FAILED'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamps.createdAt,
  },
  (t) => [
    primaryKey({ columns: [t.teamId, t.id] }),
    foreignKey({ columns: [t.teamId, t.eventId], foreignColumns: [webhookEvents.teamId, webhookEvents.id] }),
    foreignKey({
      columns: [t.teamId, t.endpointId],
      foreignColumns: [webhookEndpoints.teamId, webhookEndpoints.id],
    }),
    index('webhook_deliveries_team_endpoint_idx').on(t.teamId, t.endpointId, t.createdAt),
    // The dispatcher's queue runs across teams: which delivery is due next.
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'PENDING'`),
  ],
);

/**
 * Idempotency keys of POST requests (Stripe's semantics, see docs/DECISIONS.md). `scope` is the
 * team of the API key, or `:admin` for the operator API (a colon never occurs in a team id).
 * A row is IN_PROGRESS while its request runs and COMPLETED with the response to replay.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    /** SHA-256 of the method, the path and the canonical JSON body. */
    requestHash: text('request_hash').notNull(),
    status: text('status', { enum: ['IN_PROGRESS', 'COMPLETED'] }).notNull(),
    /** While IN_PROGRESS: after this the request is presumed dead (its process crashed). */
    lockedUntil: timestamp('locked_until', { withTimezone: true, mode: 'date' }),
    responseStatus: integer('response_status'),
    /** The response body, sealed by `secrets.ts` when a key is configured (it may hold a credential). */
    responseBody: text('response_body'),
    createdAt: timestamps.createdAt,
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] }), index('idempotency_keys_expiry_idx').on(t.expiresAt)],
);

/**
 * Who changed what: one row per change to a connection, a consent, a key or a webhook endpoint,
 * written in the transaction of the change.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    teamId: text('team_id').notNull(),
    id: text('id').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** `api_key` (a team's key), `admin` (the ADMIN_TOKEN) or `system` (the scheduler). */
    actorType: text('actor_type', { enum: ['api_key', 'admin', 'system'] }).notNull(),
    actorKeyId: text('actor_key_id'),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id').notNull(),
    requestId: text('request_id'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    primaryKey({ columns: [t.teamId, t.id] }),
    index('audit_events_team_idx').on(t.teamId, t.occurredAt, t.id),
  ],
);
