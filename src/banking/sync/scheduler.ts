import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { rowsOf } from '../../db/client.js';
import { AppError } from '../../errors.js';
import type { Clock } from '../../providers/provider.js';
import { recordEvent } from '../../webhooks/outbox.js';
import { consentsOf, findConnection, updateConnection } from '../connections/queries.js';
import { EXPIRING_SOON_MS, toConnectionView } from '../connections/service.js';
import type { SyncService } from './service.js';

export interface SchedulerOptions {
  db: Database;
  sync: SyncService;
  clock: Clock;
  pollMs: number;
  /** Backoff after the first failure; doubles with each failure in a row. */
  retryBaseMs?: number;
  syncIntervalMs: number;
  maxFailures: number;
  /** Connections taken per round by this instance. */
  batchSize?: number;
  log: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
  /** Called after events were recorded (so webhooks go out soon). */
  onEvents?: () => void;
}

/** How long a taken connection stays with an instance before another may take it (a crash). */
const LEASE_MS = 15 * 60_000;

/** The longest a provider's `Retry-After` is waited for; past it the connection is asked again. */
export const MAX_PROVIDER_WAIT_MS = 2 * 86_400_000;

/** When a connection whose background sync failed is synced again, and its failures in a row. */
export interface RetryPlan {
  failures: number;
  /** Null: no more background syncs until an explicit one succeeds. */
  retryAt: Date | null;
}

/**
 * A failure backs off exponentially (`retryBaseMs`, doubled per failure in a row, at most the
 * interval) and, after `maxFailures` in a row, the connection is no longer synced in the
 * background. The bank's rate limit is not the connection failing, so it is not counted: the
 * connection is synced again when the bank says its limit resets (GoCardless: the account's
 * daily limit, which can be most of a day away), or a whole interval later when it does not
 * say. Backing off from a minute instead spent the failure limit within hours of a daily limit,
 * and refused calls may count toward GoCardless suspending the account (10 failed calls in a
 * row). Any other failure that says when to come back is not tried before then. An expired
 * consent stops the background sync, uncounted, until a consent update renews it.
 */
export function retryPlan(
  error: unknown,
  failures: number,
  now: Date,
  policy: { retryBaseMs: number; syncIntervalMs: number; maxFailures: number },
): RetryPlan {
  const hintMs =
    error instanceof AppError && error.extra.retryAfterSeconds !== undefined
      ? Math.min(error.extra.retryAfterSeconds * 1000, MAX_PROVIDER_WAIT_MS)
      : undefined;
  // An expired consent fails every sync until the user renews it, and a renewal puts the
  // connection back on the schedule (connections/service.ts): retrying meanwhile would only spend
  // the failure limit, after which the renewed connection would never be synced in the background.
  if (error instanceof AppError && error.code === 'CONSENT_EXPIRED') return { failures, retryAt: null };
  if (error instanceof AppError && error.code === 'PROVIDER_RATE_LIMITED') {
    return {
      failures,
      retryAt: new Date(now.getTime() + Math.max(hintMs ?? policy.syncIntervalMs, policy.retryBaseMs)),
    };
  }
  const counted = failures + 1;
  if (counted >= policy.maxFailures) return { failures: counted, retryAt: null };
  const backoff = Math.min(policy.syncIntervalMs, policy.retryBaseMs * 2 ** (counted - 1));
  return { failures: counted, retryAt: new Date(now.getTime() + Math.max(backoff, hintMs ?? 0)) };
}

/**
 * Background sync shared by every instance on one database: each round takes the connections
 * whose `next_sync_at` has come with `FOR UPDATE SKIP LOCKED` and moves them a lease ahead in
 * the same statement, so two instances never take the same one; the sync then sets the next
 * time (interval ±10%), or a failure is tried again as `retryPlan` says.
 * A crashed instance's connections come due again when their lease ends.
 */
export function createScheduler(options: SchedulerOptions) {
  const { db, sync, clock, pollMs, syncIntervalMs, maxFailures, log } = options;
  const onEvents = options.onEvents ?? (() => {});
  const retryBaseMs = options.retryBaseMs ?? 60_000;
  const batchSize = options.batchSize ?? 10;
  let timer: NodeJS.Timeout | null = null;
  let round: Promise<number> | null = null;
  let stopped = false;

  async function take(): Promise<{ teamId: string; id: string; failures: number }[]> {
    const now = clock();
    const result = await db.execute(sql`
      update connections c
      set next_sync_at = ${new Date(now.getTime() + LEASE_MS).toISOString()}::timestamptz
      from (
        select team_id, id from connections
        where status = 'ACTIVE' and next_sync_at <= ${now.toISOString()}::timestamptz
        order by next_sync_at
        limit ${batchSize}
        for update skip locked
      ) due
      where c.team_id = due.team_id and c.id = due.id
      returning c.team_id as "teamId", c.id, c.sync_failures as failures`);
    return rowsOf(result);
  }

  async function afterFailure(connection: { teamId: string; id: string; failures: number }, error: unknown) {
    const policy = { retryBaseMs, syncIntervalMs, maxFailures };
    const { failures, retryAt } = retryPlan(error, connection.failures, clock(), policy);
    await db.execute(sql`
      update connections set sync_failures = ${failures},
        next_sync_at = ${retryAt ? retryAt.toISOString() : null}::timestamptz
      where team_id = ${connection.teamId} and id = ${connection.id}`);
  }

  /**
   * Raises `consent.expiring` once per consent for connections whose consent ends within 7 days:
   * the flag is set in the same transaction as the event, under a row lock, so two instances
   * never raise it twice.
   */
  async function notifyExpiringConsents(): Promise<number> {
    const now = clock();
    const soon = new Date(now.getTime() + EXPIRING_SOON_MS);
    return db.transaction(async (tx) => {
      const expiring = rowsOf<{ teamId: string; id: string }>(
        await tx.execute(sql`
          select c.team_id as "teamId", c.id from connections c
          where c.status = 'ACTIVE' and c.expiry_notified_at is null
            and exists (
              select 1 from consents k
              where k.team_id = c.team_id and k.connection_id = c.id and k.status = 'AUTHORIZED'
                and k.expires_at > ${now.toISOString()}::timestamptz
                and k.expires_at <= ${soon.toISOString()}::timestamptz)
          limit 100
          for update of c skip locked`),
      );
      for (const { teamId, id } of expiring) {
        const connection = await findConnection(tx, teamId, id);
        if (!connection) continue;
        await updateConnection(tx, teamId, id, { expiryNotifiedAt: now });
        const view = toConnectionView(connection, await consentsOf(tx, teamId, [id]), now);
        await recordEvent(tx, { teamId, type: 'consent.expiring', data: view }, now);
      }
      return expiring.length;
    });
  }

  /** One round: sync every connection that is due (this instance's share). Answers how many. */
  async function runOnce(): Promise<number> {
    if ((await notifyExpiringConsents()) > 0) onEvents();
    const due = await take();
    for (const connection of due) {
      try {
        const synced = await sync.runInBackground(connection.teamId, connection.id);
        log.info(
          { teamId: connection.teamId, connectionId: connection.id, ...synced.sync },
          'background sync completed',
        );
      } catch (error) {
        log.warn(
          { teamId: connection.teamId, connectionId: connection.id, code: (error as { code?: string }).code },
          'background sync failed',
        );
        await afterFailure(connection, error).catch((err) =>
          log.error({ err }, 'could not record a sync failure'),
        );
      }
    }
    return due.length;
  }

  function schedule() {
    if (stopped) return;
    timer = setTimeout(() => {
      round = runOnce()
        .catch((err) => {
          log.error({ err }, 'scheduler round failed');
          return 0;
        })
        .finally(schedule);
    }, pollMs);
    timer.unref();
  }

  return {
    runOnce,
    start() {
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await round;
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
