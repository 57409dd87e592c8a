import { setTimeout as sleep } from 'node:timers/promises';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onSendAsyncHookHandler,
  preHandlerAsyncHookHandler,
} from 'fastify';
import { Type } from 'typebox';
import type { Database } from '../db/client.js';
import { AppError } from '../errors.js';
import { documentResponseHeaders, problemResponses } from '../http/schemas.js';
import type { Clock } from '../providers/provider.js';
import { SEALED_PREFIX, type SecretBox } from '../secrets.js';
import { requestFingerprint } from './fingerprint.js';
import {
  claimKey,
  completeKey,
  deleteIfExpired,
  extendLock,
  findKey,
  type KeyRef,
  purgeExpiredKeys,
  releaseKey,
  type StoredKey,
  takeOverDeadKey,
} from './queries.js';

/*
 * Idempotency-Key on every POST, with Stripe's semantics: the first request with a key runs and
 * its response is kept for 24 hours; the same key with the same request replays that response
 * (`Idempotent-Replayed: true`); the same key with another request is a 422. A second request
 * arriving while the first runs waits for it and replays its response (409 if it runs too long).
 * Unlike Stripe, only responses of requests that acted (2xx) are kept: every failure here writes
 * nothing, so the key is released and a retry runs afresh, e.g. once a bank outage is over.
 */

const KEY_TTL_MS = 24 * 3_600_000;
/**
 * A running request holds its key for LOCK_MS and renews it every HEARTBEAT_MS, so the key of a
 * request whose process died (kill -9, a lost host) is free again within LOCK_MS.
 */
const LOCK_MS = 20_000;
const HEARTBEAT_MS = 5_000;
/** No request runs this long; a heartbeat left running by a request that never answered stops. */
const MAX_HOLD_MS = 60 * 60_000;
/** How long a duplicate request waits for the first before answering 409. */
const WAIT_MS = 30_000;
const POLL_MS = 50;
const PURGE_EVERY_MS = 3_600_000;
/** The scope of the operator API's keys: a colon never occurs in a team id. */
const ADMIN_SCOPE = ':admin';

const IdempotencyKeyHeader = Type.String({
  minLength: 1,
  maxLength: 255,
  pattern: '^[\\x21-\\x7E]+$',
  description:
    'Makes a retried POST safe: the same key and request within 24 h replay the first response. ' +
    'Printable ASCII other than space, at most 255 characters, e.g. a UUID.',
});

const REPLAYED_HEADER = {
  'idempotent-replayed': Type.Literal('true', {
    description: 'Present when this is the replay of the first response to the same Idempotency-Key.',
  }),
};

interface HeldKey extends KeyRef {
  heartbeat: NodeJS.Timeout;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The Idempotency-Key this request holds while it runs. */
    idempotencyKey: HeldKey | null;
  }
  interface FastifyContextConfig {
    /** The response carries a credential shown once (an API key, a signing secret). */
    shownOnce?: boolean;
  }
}

export interface IdempotencyDeps {
  db: Database;
  clock: Clock;
  /** Seals kept responses at rest; without it, responses marked `shownOnce` are not kept. */
  secrets: SecretBox | null;
  log: FastifyBaseLogger;
}

export function registerIdempotency(app: FastifyInstance, deps: IdempotencyDeps) {
  const { db, clock, secrets } = deps;
  app.decorateRequest('idempotencyKey', null);

  /** Claims the request's key before the handler runs, or replays the answer kept for it. */
  const claimOrReplay: preHandlerAsyncHookHandler = async (request, reply) => {
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string') return;
    const ref = { scope: request.teamId || ADMIN_SCOPE, key };
    const stored = await acquire(ref, requestFingerprint(request.method, request.url, request.body));
    if (stored === 'claimed') {
      request.idempotencyKey = { ...ref, heartbeat: holdKey(ref, request.log) };
      return;
    }
    return replay(request, reply, stored);
  };

  /** Keeps a success's answer under the key, or lets the key go after a failure. */
  const settleKey: onSendAsyncHookHandler<unknown> = async (request, reply, payload) => {
    const ref = request.idempotencyKey;
    if (!ref) return payload;
    request.idempotencyKey = null;
    clearInterval(ref.heartbeat);
    try {
      if (reply.statusCode >= 200 && reply.statusCode < 300) {
        await completeKey(db, ref, {
          responseStatus: reply.statusCode,
          responseBody: keptBody(payload, reply.routeOptions.config.shownOnce === true),
        });
      } else {
        await releaseKey(db, ref);
      }
    } catch (error) {
      // The response still goes out; the key's lock runs out and a retry runs the request again.
      request.log.error({ err: error }, 'the idempotency key could not be updated');
    }
    return payload;
  };

  // Every POST route documents and validates the header and the two answers it adds, and runs
  // the two hooks; other routes run neither (an async hook costs every request a promise).
  app.addHook('onRoute', (route) => {
    if (![route.method].flat().includes('POST') || !route.schema) return;
    const headers = (route.schema.headers ?? Type.Object({})) as ReturnType<typeof Type.Object>;
    route.schema.headers = Type.Object({
      ...headers.properties,
      'idempotency-key': Type.Optional(IdempotencyKeyHeader),
    });
    route.schema.response = { ...problemResponses(409, 422), ...(route.schema.response as object) };
    documentResponseHeaders(route, REPLAYED_HEADER, (status) => status.startsWith('2'));
    route.preHandler = [route.preHandler ?? []].flat().concat(claimOrReplay);
    route.onSend = [route.onSend ?? []].flat().concat(settleKey);
  });

  let purgeTimer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    purgeTimer = setInterval(() => {
      purgeExpiredKeys(db, clock()).catch((error) =>
        deps.log.warn({ err: error }, 'expired idempotency keys were not purged'),
      );
    }, PURGE_EVERY_MS).unref();
  });
  app.addHook('preClose', async () => clearInterval(purgeTimer));

  /** Claims the key for this request, or answers the completed request to replay. */
  async function acquire(ref: KeyRef, requestHash: string): Promise<'claimed' | StoredKey> {
    const giveUpAt = performance.now() + WAIT_MS;
    for (;;) {
      const now = clock();
      const lockedUntil = new Date(now.getTime() + LOCK_MS);
      const expiresAt = new Date(now.getTime() + KEY_TTL_MS);
      if (await claimKey(db, { ...ref, requestHash, lockedUntil, createdAt: now, expiresAt }))
        return 'claimed';
      const stored = await findKey(db, ref);
      if (!stored) continue;
      if (stored.expiresAt < now) {
        await deleteIfExpired(db, ref, now);
        continue;
      }
      if (stored.requestHash !== requestHash) {
        throw new AppError(
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was already used with a different request; use a new key for a new request.',
        );
      }
      if (stored.status === 'COMPLETED') return stored;
      if (
        stored.lockedUntil &&
        stored.lockedUntil < now &&
        (await takeOverDeadKey(db, ref, now, lockedUntil))
      ) {
        return 'claimed';
      }
      if (performance.now() > giveUpAt) {
        throw new AppError(
          'IDEMPOTENCY_KEY_IN_USE',
          'A request with this Idempotency-Key is still running; retry later with the same key.',
          { retryAfterSeconds: 1 },
        );
      }
      await sleep(POLL_MS);
    }
  }

  function holdKey(ref: KeyRef, log: FastifyBaseLogger): NodeJS.Timeout {
    const startedAt = performance.now();
    const heartbeat = setInterval(() => {
      if (performance.now() - startedAt > MAX_HOLD_MS) return clearInterval(heartbeat);
      extendLock(db, ref, new Date(clock().getTime() + LOCK_MS)).catch((error) =>
        log.warn({ err: error }, 'the idempotency key lock was not renewed'),
      );
    }, HEARTBEAT_MS).unref();
    return heartbeat;
  }

  function keptBody(payload: unknown, shownOnce: boolean): string | null {
    const text =
      typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : null;
    if (text === null) return null;
    if (secrets) return secrets.seal(text);
    return shownOnce ? null : text;
  }

  function replay(request: FastifyRequest, reply: FastifyReply, stored: StoredKey) {
    const body = stored.responseBody;
    if (body === null && stored.responseStatus !== 204) {
      throw new AppError(
        'IDEMPOTENCY_RESPONSE_NOT_KEPT',
        'The request with this Idempotency-Key already ran. Its response carried a credential shown once, ' +
          'which is not kept without ENCRYPTION_KEY.',
      );
    }
    const text = body === null ? null : openStored(request, body);
    request.log.info({ idempotencyKey: stored.key }, 'idempotent replay');
    reply.code(stored.responseStatus ?? 200).header('idempotent-replayed', 'true');
    if (text === null) return reply.send();
    return reply.type('application/json; charset=utf-8').send(text);
  }

  /**
   * A kept response as it was sent. One sealed under a key this deployment no longer has (dropped
   * from ENCRYPTION_KEYS_PREVIOUS before `cli reseal` moved it) cannot be replayed: the client is
   * told so, as when none was kept, and the operator by an error line.
   */
  function openStored(request: FastifyRequest, body: string): string {
    if (!body.startsWith(SEALED_PREFIX) || !secrets) return body;
    try {
      return secrets.open(body);
    } catch (error) {
      request.log.error({ err: error }, 'a kept idempotent response cannot be opened (encryption key)');
      throw new AppError(
        'IDEMPOTENCY_RESPONSE_NOT_KEPT',
        'The request with this Idempotency-Key already ran. Its response was sealed under an encryption key ' +
          'this deployment no longer has, so it cannot be replayed.',
      );
    }
  }
}
