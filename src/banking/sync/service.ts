import type { Database, Transaction } from '../../db/client.js';
import { AppError, notFound } from '../../errors.js';
import { newId } from '../../ids.js';
import type {
  Clock,
  ConsentContext,
  ProviderAccount,
  ProviderTransaction,
  Scope,
} from '../../providers/provider.js';
import { callProvider, type ProviderRegistry } from '../../providers/registry.js';
import { consentsOf, currentConsent, findConnection, updateConnection } from '../connections/queries.js';
import { assertActive, consentContext, toConnectionView } from '../connections/service.js';
import { withStableIds } from './fingerprint.js';
import { KeyedMutex } from './mutex.js';
import {
  type AccountRow,
  accountsOfConnection,
  adjustTransactionCount,
  deleteTransactionsByRef,
  insertAccount,
  pendingRefsOf,
  rekeyPendingTransaction,
  updateAccount,
  upsertTransactions,
} from './queries.js';

export interface SyncSummary {
  accountsAdded: number;
  accountsUpdated: number;
  transactionsAdded: number;
  transactionsUpdated: number;
  transactionsRemoved: number;
}

interface FetchedAccount {
  account: ProviderAccount;
  /** Null when the consent has no `transactions` scope: nothing is fetched or changed. */
  transactions: ProviderTransaction[] | null;
}

const WRITE_BATCH = 5000;

export interface SyncDeps {
  db: Database;
  providers: ProviderRegistry;
  clock: Clock;
}

/**
 * A sync reads everything the consent's scopes allow from the provider first, then writes it in
 * one database transaction under a lock on the connection row, so a provider failure writes
 * nothing and concurrent syncs of one connection (in this process or another) run one after
 * the other. Writes are idempotent upserts: a second sync of unchanged data changes no row.
 */
export function createSyncService({ db, providers, clock }: SyncDeps) {
  const inProcess = new KeyedMutex();

  async function fetchFromProvider(context: ConsentContext, provider: string, scopes: Scope[], now: Date) {
    const bank = providers.get(provider);
    const accounts = await callProvider(() => bank.listAccounts(context));
    const fetched: FetchedAccount[] = [];
    for (const account of accounts) {
      if (!scopes.includes('transactions')) {
        fetched.push({ account, transactions: null });
        continue;
      }
      const transactions: ProviderTransaction[] = [];
      let cursor: string | null = null;
      do {
        const page = await callProvider(() =>
          bank.listTransactions(context, {
            providerAccountId: account.providerAccountId,
            from: null,
            to: now,
            cursor,
          }),
        );
        transactions.push(...page.transactions);
        cursor = page.nextCursor;
      } while (cursor);
      fetched.push({ account, transactions });
    }
    return fetched;
  }

  async function writeAccount(
    tx: Transaction,
    key: { teamId: string; connectionId: string; now: Date; scopes: Scope[]; position: number },
    existing: AccountRow | undefined,
    fetched: ProviderAccount,
  ): Promise<{ accountId: string; added: boolean; updated: boolean } | null> {
    const { teamId, connectionId, now, scopes, position } = key;
    const details = {
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
        providerAccountId: fetched.providerAccountId,
        position,
        ...details,
        ...(scopes.includes('balances') ? balances : {}),
        createdAt: now,
        updatedAt: now,
      });
      return { accountId, added: true, updated: false };
    }
    const wanted: Partial<AccountRow> = {
      ...(scopes.includes('accounts') ? details : {}),
      ...(scopes.includes('balances') ? balances : {}),
    };
    const changes = Object.fromEntries(
      Object.entries(wanted).filter(([field, value]) => existing[field as keyof AccountRow] !== value),
    ) as Partial<AccountRow>;
    const updated = Object.keys(changes).length > 0;
    if (updated) await updateAccount(tx, teamId, existing.id, { ...changes, updatedAt: now });
    return { accountId: existing.id, added: false, updated };
  }

  async function writeTransactions(
    tx: Transaction,
    key: { teamId: string; connectionId: string; accountId: string; now: Date },
    fetched: ProviderTransaction[],
  ) {
    const { teamId, connectionId, accountId, now } = key;
    const identified = withStableIds(fetched);
    for (const transaction of identified) {
      if (
        transaction.pendingTransactionId &&
        transaction.pendingTransactionId !== transaction.providerTransactionId
      ) {
        await rekeyPendingTransaction(tx, {
          teamId,
          accountId,
          pendingRef: transaction.pendingTransactionId,
          bookedRef: transaction.providerTransactionId,
        });
      }
    }
    let inserted = 0;
    let updated = 0;
    for (let start = 0; start < identified.length; start += WRITE_BATCH) {
      const batch = identified.slice(start, start + WRITE_BATCH).map((transaction) => ({
        id: newId('txn'),
        providerTransactionId: transaction.providerTransactionId,
        amountMinor: transaction.amountMinor,
        currency: transaction.currency,
        description: transaction.description,
        transactionDate: transaction.transactionDate,
        type: transaction.type,
        status: transaction.status,
        category: transaction.category,
      }));
      const written = await upsertTransactions(tx, { teamId, accountId, connectionId, now }, batch);
      inserted += written.inserted;
      updated += written.updated;
    }
    // A pending transaction the bank no longer reports was cancelled (or booked under a new
    // id without a link): it goes.
    const seen = new Set(identified.map((transaction) => transaction.providerTransactionId));
    const vanished = (await pendingRefsOf(tx, teamId, accountId, null)).filter((ref) => !seen.has(ref));
    const removed = await deleteTransactionsByRef(tx, teamId, accountId, vanished);
    await adjustTransactionCount(tx, teamId, accountId, inserted - removed);
    return { inserted, updated, removed };
  }

  async function runSync(teamId: string, connectionId: string) {
    const connection = await findConnection(db, teamId, connectionId);
    if (!connection) throw notFound('Connection');
    assertActive(connection);
    const consent = currentConsent(await consentsOf(db, teamId, [connectionId]));
    const now = clock();
    if (!consent || consent.expiresAt <= now) {
      throw new AppError('CONSENT_EXPIRED', 'The consent has expired; ask the user to renew it at the bank.');
    }
    const scopes = consent.scopes as Scope[];
    const fetched = await fetchFromProvider(consentContext(connection), connection.provider, scopes, now);

    return db.transaction(async (tx) => {
      const locked = await findConnection(tx, teamId, connectionId, { forUpdate: true });
      if (!locked) throw notFound('Connection');
      assertActive(locked);
      const summary: SyncSummary = {
        accountsAdded: 0,
        accountsUpdated: 0,
        transactionsAdded: 0,
        transactionsUpdated: 0,
        transactionsRemoved: 0,
      };
      const existing = new Map(
        (await accountsOfConnection(tx, teamId, connectionId)).map((row) => [row.providerAccountId, row]),
      );
      for (const [position, { account, transactions }] of fetched.entries()) {
        const written = await writeAccount(
          tx,
          { teamId, connectionId, now, scopes, position },
          existing.get(account.providerAccountId),
          account,
        );
        if (!written) continue;
        if (written.added) summary.accountsAdded++;
        if (written.updated) summary.accountsUpdated++;
        if (transactions === null) continue;
        const result = await writeTransactions(
          tx,
          { teamId, connectionId, accountId: written.accountId, now },
          transactions,
        );
        summary.transactionsAdded += result.inserted;
        summary.transactionsUpdated += result.updated;
        summary.transactionsRemoved += result.removed;
      }
      const changed = Object.values(summary).some((count) => count > 0);
      const updatedAt = changed ? now : locked.updatedAt;
      await updateConnection(tx, teamId, connectionId, { lastSyncedAt: now, updatedAt });
      const view = toConnectionView(
        { ...locked, lastSyncedAt: now, updatedAt },
        await consentsOf(tx, teamId, [connectionId]),
      );
      return { ...view, sync: summary };
    });
  }

  return {
    /** Syncs one connection; a second call for the same connection waits for the first. */
    sync: (teamId: string, connectionId: string) =>
      inProcess.run(`${teamId}/${connectionId}`, () => runSync(teamId, connectionId)),
  };
}

export type SyncService = ReturnType<typeof createSyncService>;
