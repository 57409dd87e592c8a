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

interface TakenConnection {
  teamId: string;
  id: string;
  failures: number;
  /** The `next_sync_at` this instance set when it took (or last renewed) the connection. */
  lease: string;
}

/**
 * Failures only the user can cure (a consent expired, revoked at the bank, or a login the bank
 * wants): each try would fail the same way and, at GoCardless, count toward suspending the
 * account. The background sync stops at the first, uncounted, until a consent update renews the
 * consent (connections/service.ts puts the connection back on the schedule).
 */
const NEEDS_THE_USER = new Set([
  'CONSENT_EXPIRED',
  'PROVIDER_CONSENT_EXPIRED',
  'PROVIDER_CONSENT_REVOKED',
  'PROVIDER_LOGIN_REQUIRED',
]);

/** How much longer each failure in a row waits than the one before. */
const BACKOFF_FACTOR = 4;

/** The longest a provider's `Retry-After` is waited for; past it the connection is asked again. */
export const MAX_PROVIDER_WAIT_MS = 2 * 86_400_000;

/** When a connection whose background sync failed is synced again, and its failures in a row. */
export interface RetryPlan {
  failures: number;
  /** Null: no more background syncs until an explicit one succeeds or a consent update. */
  retryAt: Date | null;
}

/**
 * A failure backs off exponentially (`retryBaseMs`, four times longer per failure in a row, at
 * most the interval: with the defaults 1, 4, 16, 64 minutes, then 4.3 and 6 hours, so the 8
 * tries span about 18 hours and a bank's maintenance window does not end the background sync;
 * doubling had spent them in 127 minutes) and, after `maxFailures` in a row, the connection is
 * no longer synced in the background. The bank's rate limit is not the connection failing, so
 * it is not counted: the connection is synced again when the bank says its limit resets
 * (GoCardless: the account's daily limit, which can be most of a day away), or a whole interval
 * later when it does not say. Backing off from a minute instead spent the failure limit within hours of a daily limit,
 * and refused calls may count toward GoCardless suspending the account (10 failed calls in a
 * row). Any other failure that says when to come back is not tried before then. A failure only
 * the user can cure (`NEEDS_THE_USER`) stops the background sync at once, uncounted.
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
  if (error instanceof AppError && NEEDS_THE_USER.has(error.code)) return { failures, retryAt: null };
  if (error instanceof AppError && error.code === 'PROVIDER_RATE_LIMITED') {
    return {
      failures,
      retryAt: new Date(now.getTime() + Math.max(hintMs ?? policy.syncIntervalMs, policy.retryBaseMs)),
    };
  }
  const counted = failures + 1;
  if (counted >= policy.maxFailures) return { failures: counted, retryAt: null };
  const backoff = Math.min(policy.syncIntervalMs, policy.retryBaseMs * BACKOFF_FACTOR ** (counted - 1));
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

  /** The connections due, each leased to this instance (`next_sync_at` a lease ahead). */
  async function take(): Promise<TakenConnection[]> {
    const now = clock();
    const lease = new Date(now.getTime() + LEASE_MS).toISOString();
    const result = await db.execute(sql`
      update connections c
      set next_sync_at = ${lease}::timestamptz
      from (
        select team_id, id from connections
        where status = 'ACTIVE' and next_sync_at <= ${now.toISOString()}::timestamptz
        order by next_sync_at
        limit ${batchSize}
        for update skip locked
      ) due
      where c.team_id = due.team_id and c.id = due.id
      returning c.team_id as "teamId", c.id, c.sync_failures as failures`);
    return rowsOf<Omit<TakenConnection, 'lease'>>(result).map((row) => ({ ...row, lease }));
  }

  /**
   * Renews a taken connection's lease as its sync starts, so that a long round does not let the
   * leases of its last connections lapse while the first ones sync; false when the lease lapsed
   * and another instance has taken it since (it syncs it).
   */
  async function renew(connection: TakenConnection): Promise<boolean> {
    const lease = new Date(clock().getTime() + LEASE_MS).toISOString();
    const renewed = rowsOf(
      await db.execute(sql`
        update connections set next_sync_at = ${lease}::timestamptz
        where team_id = ${connection.teamId} and id = ${connection.id}
          and next_sync_at = ${connection.lease}::timestamptz
        returning id`),
    );
    connection.lease = lease;
    return renewed.length > 0;
  }

  /** Hands taken connections that were not synced back to the queue: due now, for any instance. */
  async function release(connections: TakenConnection[]): Promise<void> {
    const now = clock().toISOString();
    for (const connection of connections) {
      await db.execute(sql`
        update connections set next_sync_at = ${now}::timestamptz
        where team_id = ${connection.teamId} and id = ${connection.id}
          and next_sync_at = ${connection.lease}::timestamptz`);
    }
  }

  async function afterFailure(connection: TakenConnection, error: unknown) {
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

  /**
   * One round: sync the connections that are due (up to `batchSize`, this instance's share).
   * Answers how many it took. Once the scheduler is stopping (SIGTERM), it starts no further sync
   * and hands the rest back, so that they need not wait out their lease.
   */
  async function runOnce(): Promise<number> {
    if ((await notifyExpiringConsents()) > 0) onEvents();
    const due = await take();
    for (const [index, connection] of due.entries()) {
      if (stopped) {
        await release(due.slice(index));
        break;
      }
      if (!(await renew(connection))) continue;
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

  /** The next round after `pollMs`; at once after a full round, as more may be due. */
  function schedule(delayMs = pollMs) {
    if (stopped) return;
    timer = setTimeout(() => {
      round = runOnce().catch((err) => {
        log.error({ err }, 'scheduler round failed');
        return 0;
      });
      round.then((taken) => schedule(taken >= batchSize ? 0 : pollMs));
    }, delayMs);
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
