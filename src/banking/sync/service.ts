import { setImmediate } from 'node:timers/promises';
import { type AuditContext, recordAudit, SYSTEM_CONTEXT } from '../../audit/record.js';
import type { Database, Transaction } from '../../db/client.js';
import { DATABASE_UNAVAILABLE, isDatabaseUnavailable } from '../../db/unavailable.js';
import { AppError, notFound } from '../../errors.js';
import { newId } from '../../ids.js';
import type {
  BankProvider,
  Clock,
  ConsentContext,
  ProviderAccount,
  ProviderState,
  Scope,
  TransactionPage,
} from '../../providers/provider.js';
import { callProvider, type ProviderRegistry } from '../../providers/registry.js';
import type { SecretBox } from '../../secrets.js';
import { recordEvent } from '../../webhooks/outbox.js';
import { sealProviderState } from '../connections/provider-state.js';
import {
  consentsOf,
  currentConsent,
  findConnection,
  updateConnection,
  withLockedConnection,
} from '../connections/queries.js';
import {
  againWhileConsentMoves,
  assertActive,
  CONSENT_MOVED,
  consentContext,
  MAX_CONSENT_ATTEMPTS,
  toConnectionView,
} from '../connections/service.js';
import { KeyedMutex } from '../keyed-mutex.js';
import { matchAccounts } from './account-matching.js';
import { HistoryCarryOver } from './carry-over.js';
import { isVariantRef, stableIdAssigner, variantRef } from './fingerprint.js';
import {
  type AccountRow,
  accountsOfConnection,
  adjustTransactionCount,
  deleteTransactionsByRef,
  hasVariantRefs,
  insertAccount,
  lastBookedDate,
  oldestPendingDate,
  pendingRefsOf,
  rekeyTransaction,
  storedRefs,
  storedTransactionsOf,
  updateAccount,
  upsertTransactions,
} from './queries.js';
import { SyncSlots } from './slots.js';
import { storableAccount, storablePage } from './storable.js';

export interface SyncSummary {
  accountsAdded: number;
  accountsUpdated: number;
  transactionsAdded: number;
  transactionsUpdated: number;
  transactionsRemoved: number;
}

/** How far before the last booked transaction an incremental sync starts reading. */
export const INCREMENTAL_OVERLAP_MS = 5 * 86_400_000;

const startOfUtcDay = (date: Date) => new Date(Math.floor(date.getTime() / 86_400_000) * 86_400_000);

export interface SyncDeps {
  db: Database;
  providers: ProviderRegistry;
  clock: Clock;
  secrets: SecretBox;
  /** How long after a successful sync the scheduler syncs again (ms). */
  syncIntervalMs: number;
  /** How many syncs run at once, in all and per team; unbounded when absent. */
  slots?: SyncSlots;
  /** Called after a sync committed or failed: events may be waiting in the outbox. */
  onEvents?: () => void;
  /** Where a background sync's unexpected failure is told, with its stack (an expected one is on the connection). */
  log?: { error(obj: object, msg: string): void };
}

/** The consent context of one sync, whose provider state later pages may replace. */
interface ProviderSession {
  context: ConsentContext;
  changed: boolean;
  update(state: ProviderState): void;
  snapshot(): { context: ConsentContext; changed: boolean };
  /** Back to a snapshot, when the writes made with the newer state were rolled back. */
  restore(snapshot: { context: ConsentContext; changed: boolean }): void;
}

function providerSession(context: ConsentContext): ProviderSession {
  const session: ProviderSession = {
    context,
    changed: false,
    update(state) {
      session.context = { ...session.context, state };
      session.changed = true;
    },
    snapshot: () => ({ context: session.context, changed: session.changed }),
    restore(snapshot) {
      session.context = snapshot.context;
      session.changed = snapshot.changed;
    },
  };
  return session;
}

const CONSENT_KEPT_CHANGING = new AppError(
  'SERVICE_UNAVAILABLE',
  `The connection's consent changed during each of ${MAX_CONSENT_ATTEMPTS} attempts to sync it: sync again.`,
  { retryAfterSeconds: 1 },
);

/** Its status is never read (the client has gone); the log shows 499, as nginx's do. */
const CLIENT_GONE = new AppError(
  'CLIENT_CLOSED_REQUEST',
  'The client closed the request before its sync started.',
);

/**
 * A sync imports what the consent's scopes allow in one database transaction under a lock on
 * the connection row, so a provider failure writes nothing and concurrent syncs of one
 * connection (in this process or another) run one after the other. Transactions stream from the
 * provider a page at a time. Writes are idempotent upserts: a second sync of unchanged data
 * changes no row.
 */
export function createSyncService({
  db,
  providers,
  clock,
  secrets,
  syncIntervalMs,
  slots = new SyncSlots(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY),
  onEvents = () => {},
  log,
}: SyncDeps) {
  /** Spread over ±10% of the interval, so connections made together do not sync together for ever. */
  const nextScheduledSync = (now: Date) =>
    new Date(now.getTime() + syncIntervalMs * (0.9 + Math.random() * 0.2));

  const inProcess = new KeyedMutex();

  async function writeAccount(
    tx: Transaction,
    key: { teamId: string; connectionId: string; now: Date; scopes: Scope[]; position: number },
    existing: AccountRow | undefined,
    fetched: ProviderAccount,
  ): Promise<{ accountId: string; added: boolean; updated: boolean; rebound: boolean } | null> {
    const { teamId, connectionId, now, scopes, position } = key;
    const details = {
      providerAccountId: fetched.providerAccountId,
      stableReference: fetched.stableReference ?? null,
      name: fetched.name,
      accountNumber: fetched.accountNumber,
      sortCode: fetched.sortCode,
      currency: fetched.currency,
      type: fetched.type,
    };
    const balances = {
      balanceMinor: fetched.balanceMinor ?? existing?.balanceMinor ?? 0,
      availableBalanceMinor: fetched.availableBalanceMinor,
    };
    if (!existing) {
      // Without the `accounts` scope, no account is created; known ones still get what the
      // other scopes allow.
      if (!scopes.includes('accounts')) return null;
      const accountId = newId('acct');
      await insertAccount(tx, {
        teamId,
        id: accountId,
        connectionId,
        position,
        ...details,
        ...(scopes.includes('balances') ? balances : {}),
        createdAt: now,
        updatedAt: now,
      });
      return { accountId, added: true, updated: false, rebound: false };
    }
    // A known account moves to a new provider account id (a re-consent) only in a sync that also
    // reads its transactions: the move is what makes that sync carry the history over
    // (`rebound`). Moved by a sync without the scope, the account would look settled to the next
    // one, which would import the new consent's copy of the whole history beside our own.
    const { providerAccountId, ...described } = details;
    const wanted: Partial<AccountRow> = {
      ...(scopes.includes('accounts') ? described : {}),
      ...(scopes.includes('transactions') ? { providerAccountId } : {}),
      ...(scopes.includes('balances') ? balances : {}),
    };
    const changes = Object.fromEntries(
      Object.entries(wanted).filter(([field, value]) => existing[field as keyof AccountRow] !== value),
    ) as Partial<AccountRow>;
    const updated = Object.keys(changes).length > 0;
    if (updated) await updateAccount(tx, teamId, existing.id, { ...changes, updatedAt: now });
    const rebound = existing.providerAccountId !== fetched.providerAccountId;
    return { accountId: existing.id, added: false, updated, rebound };
  }

  /**
   * Streams an account's transactions from the provider page by page and upserts each page, so
   * memory stays bounded by a page whatever the history's length. Pending rows the bank no
   * longer reports are deleted at the end.
   */
  async function syncTransactions(
    tx: Transaction,
    bank: BankProvider,
    session: ProviderSession,
    key: {
      teamId: string;
      connectionId: string;
      accountId: string;
      providerAccountId: string;
      now: Date;
      /** The account was just matched to a new provider account (a re-consent). */
      rebound: boolean;
    },
  ) {
    const { teamId, connectionId, accountId, providerAccountId, now } = key;
    // After the first import only what is new is fetched: from a few days before the last booked
    // transaction (late bookings), or from the oldest row still pending if that is earlier (a
    // hotel's hold can stay pending for weeks, and only a pending row the bank was asked about
    // can be found gone), at a day boundary so fingerprint occurrences stay stable. Providers
    // with a cursor of their own (Plaid) use that instead. A re-bound account reads its whole
    // history again, to carry it over. A booked date the bank put in the future (a standing
    // order, a value date months ahead) counts as today: else nothing booked before it would be
    // asked for until then.
    const lastBooked = key.rebound ? null : await lastBookedDate(tx, teamId, accountId);
    const oldestPending = lastBooked ? await oldestPendingDate(tx, teamId, accountId) : null;
    const from = lastBooked
      ? startOfUtcDay(
          new Date(
            Math.min(
              Math.min(lastBooked.getTime(), now.getTime()) - INCREMENTAL_OVERLAP_MS,
              oldestPending?.getTime() ?? Infinity,
            ),
          ),
        )
      : null;
    const unseenPending = new Set(await pendingRefsOf(tx, teamId, accountId, from));
    const carryOver = key.rebound
      ? new HistoryCarryOver(await storedTransactionsOf(tx, teamId, accountId))
      : null;
    const removedRefs = new Set<string>();
    // A provider that reports `removed` sends changes, not the whole history: what it does not
    // mention is unchanged, so only what it says it removed goes.
    let reportsChanges = false;
    const assignIds = stableIdAssigner();
    // Rows under a bank id used twice (`variantRef`) are matched to incoming ones, which costs a
    // lookup per page: only for an account that holds such rows, or from the page that makes them.
    let holdsVariants = await hasVariantRefs(tx, teamId, accountId);
    let inserted = 0;
    let updated = 0;
    let cursor: string | null = null;
    do {
      const page: TransactionPage = await callProvider(async () =>
        storablePage(
          await bank.listTransactions(session.context, { providerAccountId, from, to: now, cursor }),
        ),
      );
      if (page.state) session.update(page.state);
      if (page.removed) reportsChanges = true;
      for (const ref of page.removed ?? []) removedRefs.add(ref);
      const storedVariants = holdsVariants
        ? await storedRefs(
            tx,
            teamId,
            accountId,
            page.transactions.flatMap((t) =>
              t.providerTransactionId ? [variantRef(t.providerTransactionId, t)] : [],
            ),
          )
        : undefined;
      const identified = assignIds(page.transactions, storedVariants);
      holdsVariants ||= identified.some((transaction) => isVariantRef(transaction.providerTransactionId));
      for (const transaction of identified) {
        const toRef = transaction.providerTransactionId;
        unseenPending.delete(toRef);
        const pendingRef = transaction.pendingTransactionId;
        const fromRef = pendingRef && pendingRef !== toRef ? pendingRef : carryOver?.claim(transaction);
        if (fromRef) {
          unseenPending.delete(fromRef);
          await rekeyTransaction(tx, { teamId, accountId, fromRef, toRef });
        }
      }
      const written = await upsertTransactions(
        tx,
        { teamId, accountId, connectionId, now },
        identified.map((transaction) => ({
          id: newId('txn'),
          providerTransactionId: transaction.providerTransactionId,
          amountMinor: transaction.amountMinor,
          currency: transaction.currency,
          description: transaction.description,
          transactionDate: transaction.transactionDate,
          type: transaction.type,
          status: transaction.status,
          category: transaction.category,
        })),
      );
      inserted += written.inserted;
      updated += written.updated;
      cursor = page.nextCursor;
      // The embedded database answers on this thread without ever waiting on I/O, so a long sync
      // would otherwise keep every timer and socket waiting until it ends: /healthz, a SIGTERM,
      // other requests. One turn of the event loop per page lets them in.
      await setImmediate();
    } while (cursor);
    // A pending transaction the bank no longer reports was cancelled (or booked under a new
    // id without a link): it goes, and so does what the bank says it removed.
    const vanished = reportsChanges ? [] : [...unseenPending];
    const removed = await deleteTransactionsByRef(tx, teamId, accountId, [...vanished, ...removedRefs]);
    await adjustTransactionCount(tx, teamId, accountId, inserted - removed);
    return { inserted, updated, removed };
  }

  /** The connection and its current consent, if it can sync now: else 404, or 409 as a sync answers. */
  async function syncableConnection(teamId: string, connectionId: string, now: Date) {
    const connection = await findConnection(db, teamId, connectionId);
    if (!connection) throw notFound('Connection');
    assertActive(connection);
    const consent = currentConsent(await consentsOf(db, teamId, [connectionId]));
    if (!consent || consent.expiresAt <= now) {
      throw new AppError('CONSENT_EXPIRED', 'The consent has expired; ask the user to renew it at the bank.');
    }
    return { connection, consent };
  }

  /**
   * A sync, started again when the connection's consent changed while it waited for the
   * connection: what it listed before then was read under the old consent, and the new one may
   * grant other scopes (or be another consent at the bank).
   */
  function runSync(teamId: string, connectionId: string, audit: AuditContext) {
    return againWhileConsentMoves(() => syncOnce(teamId, connectionId, audit), CONSENT_KEPT_CHANGING);
  }

  async function syncOnce(teamId: string, connectionId: string, audit: AuditContext) {
    const now = clock();
    const { connection, consent } = await syncableConnection(teamId, connectionId, now);
    const { scopes } = consent;
    const session = providerSession(consentContext(connection, secrets));
    const bank = providers.get(connection.provider);
    const accounts = await callProvider(async () =>
      (await bank.listAccounts(session.context)).map(storableAccount),
    );

    // Transactions are read from the provider inside the write transaction, page by page: a
    // provider failure part-way rolls everything back, and the connection row stays locked.
    const outcome = await withLockedConnection(db, teamId, connectionId, async (tx, locked) => {
      if (!locked) throw notFound('Connection');
      assertActive(locked);
      const current = currentConsent(await consentsOf(tx, teamId, [connectionId]));
      if (current?.id !== consent.id || locked.consentRef !== connection.consentRef) throw CONSENT_MOVED;
      const summary: SyncSummary = {
        accountsAdded: 0,
        accountsUpdated: 0,
        transactionsAdded: 0,
        transactionsUpdated: 0,
        transactionsRemoved: 0,
      };
      const matches = matchAccounts(await accountsOfConnection(tx, teamId, connectionId), accounts);
      // Each account is written under a savepoint. A rate limit part-way keeps the accounts
      // already done (the next sync resumes; re-reading them is idempotent) and answers 503;
      // any other failure rolls the whole sync back.
      let rateLimited: AppError | null = null;
      for (const [position, account] of accounts.entries()) {
        const stateBefore = session.snapshot();
        try {
          const counts = await tx.transaction(async (savepoint) => {
            const written = await writeAccount(
              savepoint,
              { teamId, connectionId, now, scopes, position },
              matches.get(account.providerAccountId),
              account,
            );
            if (!written) return null;
            const transactions = scopes.includes('transactions')
              ? await syncTransactions(savepoint, bank, session, {
                  teamId,
                  connectionId,
                  accountId: written.accountId,
                  providerAccountId: account.providerAccountId,
                  now,
                  rebound: written.rebound,
                })
              : { inserted: 0, updated: 0, removed: 0 };
            return { written, transactions };
          });
          if (!counts) continue;
          if (counts.written.added) summary.accountsAdded++;
          if (counts.written.updated) summary.accountsUpdated++;
          summary.transactionsAdded += counts.transactions.inserted;
          summary.transactionsUpdated += counts.transactions.updated;
          summary.transactionsRemoved += counts.transactions.removed;
        } catch (error) {
          session.restore(stateBefore);
          if (!(error instanceof AppError && error.code === 'PROVIDER_RATE_LIMITED')) throw error;
          rateLimited = error;
          break;
        }
      }
      const changed = Object.values(summary).some((count) => count > 0);
      const sealedState = session.changed
        ? { providerState: sealProviderState(session.context.state, secrets) }
        : {};
      if (rateLimited) {
        await updateConnection(tx, teamId, connectionId, {
          updatedAt: changed ? now : locked.updatedAt,
          ...sealedState,
        });
        return { rateLimited };
      }
      const finished = {
        lastSyncedAt: now,
        lastSyncStatus: 'SUCCEEDED' as const,
        lastSyncError: null,
        updatedAt: changed ? now : locked.updatedAt,
        nextSyncAt: nextScheduledSync(now),
        syncFailures: 0,
      };
      await updateConnection(tx, teamId, connectionId, { ...finished, ...sealedState });
      const view = toConnectionView(
        { ...locked, ...finished },
        await consentsOf(tx, teamId, [connectionId]),
        now,
      );
      const result = { ...view, sync: summary };
      await recordEvent(tx, { teamId, type: 'sync.completed', data: result }, now);
      await recordAudit(
        tx,
        audit,
        {
          teamId,
          action: 'connection.synced',
          targetType: 'connection',
          targetId: connectionId,
          details: { status: finished.lastSyncStatus, ...summary },
        },
        now,
      );
      return { result };
    });
    if ('rateLimited' in outcome) throw outcome.rateLimited;
    return outcome.result;
  }

  /**
   * A failed sync wrote nothing; what failed is recorded on the connection, with a `sync.failed`
   * event, in a transaction of its own.
   */
  async function recordFailure(teamId: string, connectionId: string, thrown: unknown, audit: AuditContext) {
    // A fault of ours is recorded too, so that a client waiting on `lastSyncStatus` sees the sync
    // end, but by its code only: its message may hold SQL or a stack (the log has it).
    // A database that went away is told as such, not as a fault of ours.
    const error =
      thrown instanceof AppError
        ? thrown
        : isDatabaseUnavailable(thrown)
          ? DATABASE_UNAVAILABLE
          : new AppError('INTERNAL_ERROR', 'The sync failed unexpectedly.');
    if (error.code === 'NOT_FOUND' || error.code === 'CONNECTION_DISCONNECTED') return;
    const now = clock();
    await withLockedConnection(db, teamId, connectionId, async (tx, connection) => {
      if (!connection) return;
      const failure = { lastSyncStatus: 'FAILED' as const, lastSyncError: `${error.code}: ${error.message}` };
      await updateConnection(tx, teamId, connectionId, failure);
      const view = toConnectionView(
        { ...connection, ...failure },
        await consentsOf(tx, teamId, [connectionId]),
        now,
      );
      await recordEvent(
        tx,
        { teamId, type: 'sync.failed', data: { ...view, error: { code: error.code } } },
        now,
      );
      await recordAudit(
        tx,
        audit,
        {
          teamId,
          action: 'connection.sync_failed',
          targetType: 'connection',
          targetId: connectionId,
          // The code only: a provider's message may quote what the bank answered.
          details: { status: failure.lastSyncStatus, code: error.code },
        },
        now,
      );
    });
  }

  /**
   * Runs a sync one at a time per connection. A background sync's failure is recorded on the
   * connection; an explicit request's is not (its caller gets the error, and a request that fails
   * writes nothing).
   */
  function serialised(
    teamId: string,
    connectionId: string,
    background: boolean,
    audit: AuditContext,
    clientGone?: AbortSignal,
  ) {
    return inProcess.run(`${teamId}/${connectionId}`, async () => {
      // A client that left while its sync waited for another would not read the outcome: its
      // sync is not run, so that retries by a client that gives up sooner than a long sync takes
      // do not each fetch the whole connection again (a bank may allow only a few calls a day).
      if (clientGone?.aborted) throw CLIENT_GONE;
      try {
        return await slots.run(
          teamId,
          async () => {
            if (clientGone?.aborted) throw CLIENT_GONE;
            return runSync(teamId, connectionId, audit);
          },
          clientGone,
          CLIENT_GONE,
        );
      } catch (error) {
        if (background) {
          if (!(error instanceof AppError))
            log?.error({ err: error, teamId, connectionId }, 'background sync failed');
          // A failure to record it (the database may be what failed) must not hide the first.
          await recordFailure(teamId, connectionId, error, audit).catch((err: unknown) =>
            log?.error({ err, teamId, connectionId }, 'could not record a sync failure'),
          );
        }
        throw error;
      } finally {
        onEvents();
      }
    });
  }

  return {
    /**
     * Syncs one connection; a second call for the same connection waits for the first, and is
     * not run if `clientGone` aborted meanwhile. A sync that has started runs to its end.
     */
    sync: (teamId: string, connectionId: string, audit: AuditContext, clientGone?: AbortSignal) =>
      serialised(teamId, connectionId, false, audit, clientGone),

    /** A sync the scheduler runs: its failure is recorded on the connection and raises `sync.failed`. */
    runInBackground: (teamId: string, connectionId: string) =>
      serialised(teamId, connectionId, true, SYSTEM_CONTEXT),

    /**
     * Checks the connection can sync (404, 409 as a sync would answer), then syncs it in the
     * background; the outcome shows on the connection (`lastSyncStatus`) and in webhooks.
     */
    async start(teamId: string, connectionId: string, audit: AuditContext): Promise<void> {
      await syncableConnection(teamId, connectionId, clock());
      // The request's key and id stay the actor of the sync it queued.
      void serialised(teamId, connectionId, true, audit).catch(() => {});
    },
  };
}

export type SyncService = ReturnType<typeof createSyncService>;
