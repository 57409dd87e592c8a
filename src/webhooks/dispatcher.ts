import { and, eq, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { fetch } from 'undici';
import { type Database, rowsOf } from '../db/client.js';
import { webhookDeliveries } from '../db/schema.js';
import type { SecretBox } from '../secrets.js';
import { createDeliveryAgent, RefusedAddressError, type ResolveHost } from './egress.js';
import { DELETED_ENDPOINT_ERROR } from './queries.js';
import { webhookHeaders } from './signature.js';
import { type WebhookUrlPolicy, webhookUrlProblem } from './url.js';

/**
 * Sends the outbox: every instance runs one dispatcher in-process, and they share the work
 * through PostgreSQL. A round claims due PENDING deliveries (across teams) with
 * `FOR UPDATE SKIP LOCKED` and, in the same short statement, moves their `next_attempt_at` a
 * lease ahead; so no other dispatcher sees them as due while they are being sent, and if this
 * process dies mid-send they are due again when the lease ends (at least once). Each is POSTed
 * (the event's stored payload, signed), and the outcome is written only if the lease is still
 * ours: 2xx is SUCCEEDED; anything else counts an attempt and retries after an exponential,
 * jittered backoff, until `maxAttempts` makes it FAILED.
 */

export const DISPATCHER_DEFAULTS = {
  /** How often due deliveries are looked for when nobody pokes. */
  pollIntervalMs: 5_000,
  /** A delivery that has not answered by then counts as a failed attempt. */
  timeoutMs: 10_000,
  /** Deliveries claimed per round (another round follows at once when a round was full). */
  batchSize: 50,
  /** Requests in flight at once. */
  concurrency: 10,
  /** Attempts before a delivery is FAILED: about 3 hours of retries at the defaults. */
  maxAttempts: 12,
  /** The wait after the first failure; it doubles after each next one... */
  baseDelayMs: 10_000,
  /** ...up to this. */
  maxDelayMs: 3_600_000,
  /** On `stop()`, how long an in-flight round may finish before its requests are cut off. */
  stopGraceMs: 5_000,
} as const;

export type DispatcherLog = Pick<FastifyBaseLogger, 'debug' | 'info' | 'warn' | 'error'>;

export interface WebhookDispatcherOptions {
  db: Database;
  /** Opens the endpoints' sealed signing secrets. */
  secrets: SecretBox;
  /** Which endpoint URLs may be delivered to, checked again at every attempt. */
  urlPolicy: WebhookUrlPolicy;
  clock?: () => Date;
  /** How host names are resolved before connecting; the system's resolver otherwise (tests stand in). */
  resolveHost?: ResolveHost;
  log?: DispatcherLog;
  pollIntervalMs?: number;
  timeoutMs?: number;
  batchSize?: number;
  concurrency?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How long a claimed delivery stays invisible to other dispatchers; default timeout + 50 s. */
  leaseMs?: number;
  stopGraceMs?: number;
  /** For the backoff's jitter; `Math.random` otherwise. */
  random?: () => number;
}

/** What one round did. */
export interface DispatchRound {
  claimed: number;
  succeeded: number;
  /** Failed attempts that will be tried again. */
  retried: number;
  /** Deliveries that ended FAILED (out of attempts, or their endpoint was deleted). */
  failed: number;
}

export interface WebhookDispatcher {
  /** Starts polling (a first round at once). Idempotent. */
  start(): void;
  /**
   * Asks for a round now, e.g. right after a transaction that recorded events committed. A no-op
   * when the dispatcher is not started; a poke during a round makes another round follow it.
   * Bound: pass `dispatcher.poke` around as a plain function.
   */
  poke: () => void;
  /** One round, whether started or not (tests drive the dispatcher with this). */
  runOnce(): Promise<DispatchRound>;
  /** Stops polling and waits for a round in flight (cutting its requests off after a grace). */
  stop(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's webhook dispatcher: `app.webhooks.poke()` after committing events. */
    webhooks: WebhookDispatcher;
  }
}

/**
 * The wait before attempt `attempts + 1`, after `attempts` (>= 1) failed ones: `baseDelayMs`
 * doubled per earlier failure, capped at `maxDelayMs`, then a random point in its upper half
 * (so endpoints that failed together do not all come back together, yet never at once).
 */
export function retryDelayMs(
  attempts: number,
  policy: { baseDelayMs: number; maxDelayMs: number } = DISPATCHER_DEFAULTS,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

interface ClaimedDelivery {
  teamId: string;
  id: string;
  eventId: string;
  attempts: number;
  payload: unknown;
  url: string;
  secret: string;
  deleted: boolean;
}

type Outcome =
  | { kind: 'delivered'; statusCode: number }
  | {
      kind: 'failed';
      statusCode: number | null;
      /** What the team reads in its delivery log. */
      error: string;
      final?: boolean;
      /** More, for the service's log only. */
      detail?: string;
    }
  /** Cut off by `stop()`: not counted as an attempt, due again at once. */
  | { kind: 'interrupted' };

const USER_AGENT = 'open-banking-service-webhooks/0.1';
const MAX_ERROR_LENGTH = 500;

export function createWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const { db, secrets, urlPolicy } = options;
  const clock = options.clock ?? (() => new Date());
  let agent = createDeliveryAgent(urlPolicy, options.resolveHost);
  const log = options.log;
  const random = options.random ?? Math.random;
  const defaults = DISPATCHER_DEFAULTS;
  const settings = {
    pollIntervalMs: options.pollIntervalMs ?? defaults.pollIntervalMs,
    timeoutMs: options.timeoutMs ?? defaults.timeoutMs,
    batchSize: options.batchSize ?? defaults.batchSize,
    concurrency: options.concurrency ?? defaults.concurrency,
    maxAttempts: options.maxAttempts ?? defaults.maxAttempts,
    baseDelayMs: options.baseDelayMs ?? defaults.baseDelayMs,
    maxDelayMs: options.maxDelayMs ?? defaults.maxDelayMs,
    stopGraceMs: options.stopGraceMs ?? defaults.stopGraceMs,
  };
  const leaseMs = options.leaseMs ?? settings.timeoutMs + 50_000;

  let stopController = new AbortController();

  /** Claims due deliveries and leases them, in one statement (its own short transaction). */
  async function claim(now: Date): Promise<{ lease: Date; deliveries: ClaimedDelivery[] }> {
    const lease = new Date(now.getTime() + leaseMs);
    const result = await db.execute(sql`
      with due as (
        select team_id, id from webhook_deliveries
        where status = 'PENDING' and next_attempt_at <= ${now.toISOString()}::timestamptz
        order by next_attempt_at
        limit ${settings.batchSize}
        for update skip locked
      )
      update webhook_deliveries d
      set next_attempt_at = ${lease.toISOString()}::timestamptz
      from due, webhook_events e, webhook_endpoints p
      where d.team_id = due.team_id and d.id = due.id
        and e.team_id = d.team_id and e.id = d.event_id
        and p.team_id = d.team_id and p.id = d.endpoint_id
      returning d.team_id as "teamId", d.id, d.event_id as "eventId", d.attempts, e.payload,
        p.url, p.secret, (p.deleted_at is not null) as deleted`);
    return { lease, deliveries: rowsOf<ClaimedDelivery>(result) };
  }

  async function send(delivery: ClaimedDelivery): Promise<Outcome> {
    if (delivery.deleted)
      return { kind: 'failed', statusCode: null, error: DELETED_ENDPOINT_ERROR, final: true };
    // Registered under a looser policy (WEBHOOK_ALLOW_LOOPBACK since turned off): not sent.
    const refused = webhookUrlProblem(delivery.url, urlPolicy);
    if (refused) {
      return { kind: 'failed', statusCode: null, error: `not sent: the URL ${refused}`, final: true };
    }
    let secret: string;
    try {
      secret = secrets.open(delivery.secret);
    } catch (error) {
      // The operator's to fix (a key dropped from ENCRYPTION_KEYS_PREVIOUS before `cli reseal`):
      // said at once, not only once the retries run out.
      log?.error({ err: error, deliveryId: delivery.id }, 'a webhook signing secret cannot be opened');
      return {
        kind: 'failed',
        statusCode: null,
        error: 'the signing secret cannot be opened (encryption key)',
      };
    }
    const body = typeof delivery.payload === 'string' ? delivery.payload : JSON.stringify(delivery.payload);
    const timeout = AbortSignal.timeout(settings.timeoutMs);
    try {
      const response = await fetch(delivery.url, {
        dispatcher: agent,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          ...webhookHeaders(secret, delivery.eventId, body, clock()),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([timeout, stopController.signal]),
      });
      await response.body?.cancel().catch(() => {});
      if (response.status >= 200 && response.status < 300) {
        return { kind: 'delivered', statusCode: response.status };
      }
      const error =
        response.status >= 300 && response.status < 400
          ? `the endpoint answered ${response.status} (redirects are not followed)`
          : `the endpoint answered ${response.status}`;
      return { kind: 'failed', statusCode: response.status, error };
    } catch (error) {
      if (stopController.signal.aborted) return { kind: 'interrupted' };
      if (timeout.aborted) {
        return { kind: 'failed', statusCode: null, error: `no answer within ${settings.timeoutMs} ms` };
      }
      const cause = (error as { cause?: unknown })?.cause;
      if (cause instanceof RefusedAddressError)
        return { kind: 'failed', statusCode: null, error: cause.message, detail: cause.detail };
      return { kind: 'failed', statusCode: null, error: `could not be reached: ${describe(error)}` };
    }
  }

  /** Writes the outcome, if the lease is still ours (else another dispatcher or a delete took over). */
  async function record(
    delivery: ClaimedDelivery,
    lease: Date,
    outcome: Outcome,
  ): Promise<keyof DispatchRound> {
    const now = clock();
    const attempts = delivery.attempts + 1;
    let changes: Partial<typeof webhookDeliveries.$inferInsert>;
    let counted: keyof DispatchRound;
    if (outcome.kind === 'interrupted') {
      changes = { nextAttemptAt: now };
      counted = 'retried';
    } else if (outcome.kind === 'delivered') {
      changes = {
        status: 'SUCCEEDED',
        attempts,
        lastStatusCode: outcome.statusCode,
        lastError: null,
        deliveredAt: now,
        nextAttemptAt: null,
      };
      counted = 'succeeded';
    } else {
      const final = outcome.final === true || attempts >= settings.maxAttempts;
      changes = {
        status: final ? 'FAILED' : 'PENDING',
        attempts: outcome.final ? delivery.attempts : attempts,
        lastStatusCode: outcome.statusCode,
        lastError: outcome.error.slice(0, MAX_ERROR_LENGTH),
        nextAttemptAt: final ? null : new Date(now.getTime() + retryDelayMs(attempts, settings, random)),
      };
      counted = final ? 'failed' : 'retried';
      log?.[final ? 'warn' : 'debug'](
        {
          deliveryId: delivery.id,
          eventId: delivery.eventId,
          attempts,
          error: outcome.error,
          ...(outcome.detail ? { detail: outcome.detail } : {}),
        },
        final ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry',
      );
    }
    await db
      .update(webhookDeliveries)
      .set(changes)
      .where(
        and(
          eq(webhookDeliveries.teamId, delivery.teamId),
          eq(webhookDeliveries.id, delivery.id),
          eq(webhookDeliveries.status, 'PENDING'),
          eq(webhookDeliveries.nextAttemptAt, lease),
        ),
      );
    return counted;
  }

  async function runOnce(): Promise<DispatchRound> {
    const round: DispatchRound = { claimed: 0, succeeded: 0, retried: 0, failed: 0 };
    const { lease, deliveries } = await claim(clock());
    round.claimed = deliveries.length;
    let next = 0;
    const worker = async () => {
      for (let delivery = deliveries[next++]; delivery; delivery = deliveries[next++]) {
        try {
          round[await record(delivery, lease, await send(delivery))]++;
        } catch (error) {
          // The lease runs out and the delivery is tried again.
          log?.error({ err: error, deliveryId: delivery.id }, 'webhook delivery could not be recorded');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(settings.concurrency, deliveries.length) }, worker));
    return round;
  }

  // The polling loop: one round at a time; a poke during a round, or a full round, runs the next at once.
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let again = false;

  function schedule(delayMs: number) {
    clearTimeout(timer);
    timer = setTimeout(tick, delayMs);
    timer.unref();
  }

  function tick() {
    timer = undefined;
    if (!running) return;
    if (inFlight) {
      again = true;
      return;
    }
    again = false;
    inFlight = (async () => {
      let full = false;
      try {
        full = (await runOnce()).claimed >= settings.batchSize;
      } catch (error) {
        log?.error({ err: error }, 'webhook dispatch round failed');
      } finally {
        inFlight = undefined;
      }
      if (running) schedule(again || full ? 0 : settings.pollIntervalMs);
    })();
  }

  return {
    start() {
      if (running) return;
      running = true;
      if (stopController.signal.aborted) stopController = new AbortController();
      schedule(0);
    },
    poke: () => {
      if (!running) return;
      if (inFlight) again = true;
      else schedule(0);
    },
    runOnce,
    async stop() {
      running = false;
      clearTimeout(timer);
      timer = undefined;
      const current = inFlight;
      if (current) {
        const grace = setTimeout(() => stopController.abort(), settings.stopGraceMs);
        try {
          await current;
        } finally {
          clearTimeout(grace);
        }
      }
      // The receivers' kept-alive connections end with the dispatcher; a later round opens new ones.
      const used = agent;
      agent = createDeliveryAgent(urlPolicy, options.resolveHost);
      await used.close();
    },
  };
}

/** A short reason for a network error: fetch's `cause` code (ECONNREFUSED...) or message. */
function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}
