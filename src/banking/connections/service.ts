import { type AuditContext, recordAudit } from '../../audit/record.js';
import type { Database } from '../../db/client.js';
import { AppError, type FieldError, invalidInput, notFound } from '../../errors.js';
import { parseInstant } from '../../http/dates.js';
import { fieldErrorsOf } from '../../http/validation.js';
import { newId } from '../../ids.js';
import type { BankProvider, Clock, ConsentContext } from '../../providers/provider.js';
import { callProvider, type ProviderRegistry } from '../../providers/registry.js';
import type { SecretBox } from '../../secrets.js';
import { recordEvent } from '../../webhooks/outbox.js';
import { metadataProblems } from './metadata.js';
import { openProviderState, sealProviderState } from './provider-state.js';
import {
  type ConnectionRow,
  type ConsentRow,
  claimConsentRef,
  consentsOf,
  currentConsent,
  findConnection,
  insertConnection,
  insertGrantedConsent,
  isConsentReferenced,
  listConnectionRows,
  revokeAuthorizedConsents,
  updateConnection,
  withLockedConnection,
} from './queries.js';
import type { ConnectInput, ConnectionView, ConsentView, UpdateConsentInput } from './schemas.js';

export interface ConnectionsDeps {
  /** Called after a change that recorded webhook events commits. */
  onEvents?: () => void;
  db: Database;
  providers: ProviderRegistry;
  clock: Clock;
  log: { warn(obj: object, msg: string): void };
  secrets: SecretBox;
}

export function consentContext(connection: ConnectionRow, secrets: SecretBox): ConsentContext {
  return {
    teamId: connection.teamId,
    providerId: connection.providerId,
    consentId: connection.consentRef,
    metadata: connection.metadata,
    connectedAt: connection.createdAt,
    state: openProviderState(connection.providerState, secrets),
  };
}

export function toConsentView(row: ConsentRow): ConsentView {
  return {
    id: row.id,
    status: row.status,
    scopes: row.scopes,
    expiresAt: row.expiresAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** A consent ending within this long is "expiring soon". */
export const EXPIRING_SOON_MS = 7 * 86_400_000;

export function toConnectionView(row: ConnectionRow, consentRows: ConsentRow[], now: Date): ConnectionView {
  const current = currentConsent(consentRows);
  const remaining = current ? current.expiresAt.getTime() - now.getTime() : Number.NaN;
  return {
    id: row.id,
    teamId: row.teamId,
    provider: row.provider,
    providerId: row.providerId,
    status: row.status,
    consents: consentRows.map(toConsentView),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    lastSyncedAt: row.lastSyncedAt?.toISOString() ?? null,
    lastSyncStatus: row.lastSyncStatus,
    lastSyncError: row.lastSyncError,
    consentExpiresSoon: row.status === 'ACTIVE' && remaining > 0 && remaining <= EXPIRING_SOON_MS,
    consentExpired: row.status === 'ACTIVE' && remaining <= 0,
  };
}

/**
 * What is wrong with a bank named by a request that the schema cannot tell, from the request
 * alone: a provider this deployment does not know, an institution or options (`metadata`) the
 * provider refuses. Of a provider known but not set up here nothing is said: the handler answers
 * its 503. Part of the input checks of connect and of a consent link.
 */
export function bankProblems(
  providers: ProviderRegistry,
  input: { provider?: string; providerId?: string; metadata?: Record<string, unknown> },
): FieldError[] {
  if (input.provider === undefined) return [];
  const name = input.provider;
  let provider: BankProvider | undefined;
  const errors = fieldErrorsOf(() => {
    provider = providers.get(name);
  });
  const { providerId } = input;
  if (provider && providerId !== undefined) {
    const known = provider;
    errors.push(
      ...fieldErrorsOf(() => known.validateConnect({ providerId, metadata: input.metadata ?? {} })),
    );
  }
  return errors;
}

const EXPIRES_AT = { path: '/expiresAt', in: 'body' } as const;

/** A consent update's `expiresAt`, or why it is refused: not a real instant, or not after `now`. */
function readExpiresAt(value: string, now: Date): Date | FieldError {
  const expiresAt = parseInstant(value, EXPIRES_AT);
  if (!(expiresAt instanceof Date)) return expiresAt;
  return expiresAt > now ? expiresAt : { ...EXPIRES_AT, message: 'must be in the future' };
}

export function createConnectionsService({
  db,
  providers,
  clock,
  log,
  secrets,
  onEvents = () => {},
}: ConnectionsDeps) {
  /** The input check of connect (src/http/validation.ts): metadata's depth and size, the bank. */
  const connectProblems = (input: Partial<ConnectInput>): FieldError[] => [
    ...(input.metadata === undefined ? [] : metadataProblems(input.metadata)),
    ...bankProblems(providers, input),
  ];
  /** The input check of a consent update: an `expiresAt` in the future. */
  const consentProblems = (input: Partial<UpdateConsentInput>): FieldError[] => {
    if (input.expiresAt === undefined) return [];
    const expiresAt = readExpiresAt(input.expiresAt, clock());
    return expiresAt instanceof Date ? [] : [expiresAt];
  };

  /** One attempt at a consent update; CONSENT_MOVED when the connection moved on meanwhile. */
  async function updateConsentOnce(
    teamId: string,
    input: UpdateConsentInput,
    audit: AuditContext,
  ): Promise<ConsentView> {
    const expiresAt = readExpiresAt(input.expiresAt, clock());
    if (!(expiresAt instanceof Date)) throw invalidInput([expiresAt]);
    const connection = await findConnection(db, teamId, input.connectionId);
    if (!connection) throw notFound('Connection');
    assertActive(connection);
    const provider = providers.get(connection.provider);
    const requested = { scopes: input.scopes, expiresAt };

    const previous = consentContext(connection, secrets);
    let context = previous;
    if (input.consentId !== undefined && input.consentId !== connection.consentRef) {
      // The user consented again at the bank: the connection moves to the new consent.
      const ref = { teamId, provider: provider.name, consentRef: input.consentId };
      if (await isConsentReferenced(db, ref)) throw consentAlreadyConnected();
      context = { ...context, consentId: input.consentId, state: null };
      const checked = await callProvider(() => provider.checkConsent(context));
      context = { ...context, state: checked.state ?? null };
    }
    const granted = await callProvider(() => provider.updateConsent(context, requested));
    const providerState = sealProviderState(granted.state ?? context.state, secrets);

    const consent = await withLockedConnection(db, teamId, input.connectionId, async (tx, locked) => {
      if (!locked) throw notFound('Connection');
      assertActive(locked);
      if (locked.consentRef !== connection.consentRef) throw CONSENT_MOVED;
      // The change is made once the connection is ours: a sync holding it may have kept this
      // request waiting, and the old consent was in force until then.
      const changedAt = clock();
      if (context.consentId !== locked.consentRef) {
        const claimed = await claimConsentRef(tx, {
          teamId,
          provider: provider.name,
          consentRef: context.consentId,
          connectionId: locked.id,
        });
        if (!claimed) throw consentAlreadyConnected();
      }
      const previousConsentIds = await revokeAuthorizedConsents(tx, teamId, locked.id, changedAt);
      const movedToNewBankConsent = context.consentId !== locked.consentRef;
      // A renewal is a fresh start for the background sync: a connection it had stopped (the old
      // consent expired) or was backing off from is synced soon, and so is one that moved to a new
      // bank consent, whose accounts may differ. A healthy one keeps its time: a narrower consent
      // changes nothing to fetch, and banks such as GoCardless allow a few calls a day.
      const resume = movedToNewBankConsent || locked.nextSyncAt === null || locked.syncFailures > 0;
      await updateConnection(tx, teamId, locked.id, {
        consentRef: context.consentId,
        providerState,
        updatedAt: changedAt,
        // A new consent may expire soon too: its `consent.expiring` is raised afresh.
        expiryNotifiedAt: null,
        ...(resume ? { nextSyncAt: changedAt, syncFailures: 0 } : {}),
      });
      const consent = await insertGrantedConsent(tx, {
        teamId,
        connectionId: locked.id,
        scopes: granted.scopes,
        expiresAt: granted.expiresAt,
        createdAt: changedAt,
      });
      await recordAudit(
        tx,
        audit,
        {
          teamId,
          action: 'consent.renewed',
          targetType: 'connection',
          targetId: locked.id,
          details: {
            previousConsentIds,
            consentId: consent.id,
            scopes: consent.scopes,
            expiresAt: consent.expiresAt.toISOString(),
            // Whether the user consented again at the bank; the bank's consent id itself is left
            // out, as for some providers (Plaid's public token) it is a credential.
            movedToNewBankConsent,
          },
        },
        changedAt,
      );
      return toConsentView(consent);
    });
    if (context.consentId !== previous.consentId) {
      // The connection has moved to the new consent: the old one is ended at the bank too
      // (a Plaid item removed, a GoCardless requisition deleted). Best effort, as at disconnect.
      try {
        await provider.revokeConsent(previous);
      } catch (err) {
        log.warn({ err, connectionId: connection.id }, 'provider revoke of the replaced consent failed');
      }
    }
    return consent;
  }

  return {
    connectProblems,
    consentProblems,

    async list(teamId: string): Promise<ConnectionView[]> {
      const rows = await listConnectionRows(db, teamId);
      const consentRows = await consentsOf(
        db,
        teamId,
        rows.map((row) => row.id),
      );
      const now = clock();
      return rows.map((row) =>
        toConnectionView(
          row,
          consentRows.filter((consent) => consent.connectionId === row.id),
          now,
        ),
      );
    },

    async connect(teamId: string, input: ConnectInput, audit: AuditContext): Promise<ConnectionView> {
      const problems = connectProblems(input);
      if (problems.length > 0) throw invalidInput(problems);
      const provider = providers.get(input.provider);
      const metadata = input.metadata ?? {};
      const ref = { teamId, provider: provider.name, consentRef: input.consentId };
      // Checked before asking the bank, and again by the unique claim below against races.
      if (await isConsentReferenced(db, ref)) throw consentAlreadyConnected();

      const now = clock();
      const granted = await callProvider(() =>
        provider.checkConsent({
          teamId,
          providerId: input.providerId,
          consentId: input.consentId,
          metadata,
          connectedAt: now,
          state: null,
        }),
      );
      const providerState = sealProviderState(granted.state, secrets);
      const connectionId = newId('conn');
      return db.transaction(async (tx) => {
        const connection = await insertConnection(tx, {
          teamId,
          id: connectionId,
          provider: provider.name,
          providerId: input.providerId,
          consentRef: input.consentId,
          status: 'ACTIVE',
          metadata,
          providerState,
          // The background scheduler imports the data soon after connect.
          nextSyncAt: now,
          createdAt: now,
          updatedAt: now,
        });
        if (!(await claimConsentRef(tx, { ...ref, connectionId }))) throw consentAlreadyConnected();
        const consent = await insertGrantedConsent(tx, {
          teamId,
          connectionId,
          scopes: granted.scopes,
          expiresAt: granted.expiresAt,
          createdAt: now,
        });
        await recordAudit(
          tx,
          audit,
          {
            teamId,
            action: 'connection.created',
            targetType: 'connection',
            targetId: connectionId,
            details: {
              provider: provider.name,
              providerId: input.providerId,
              consentId: consent.id,
              scopes: consent.scopes,
              expiresAt: consent.expiresAt.toISOString(),
            },
          },
          now,
        );
        return toConnectionView(connection, [consent], now);
      });
    },

    async disconnect(teamId: string, connectionId: string, audit: AuditContext): Promise<ConnectionView> {
      const { view, revokeAtProvider, changed } = await withLockedConnection(
        db,
        teamId,
        connectionId,
        async (tx, connection) => {
          if (!connection) throw notFound('Connection');
          if (connection.status === 'DISCONNECTED') {
            // The same answer, and the bank asked again: the first call's revoke may not have
            // reached it (a bank outage then, or its answer lost before the bank was called).
            // Revoking what is already revoked is no error at any provider.
            return {
              view: toConnectionView(connection, await consentsOf(tx, teamId, [connectionId]), clock()),
              revokeAtProvider: connection,
              changed: false,
            };
          }
          const now = clock();
          const disconnected = { status: 'DISCONNECTED' as const, updatedAt: now, nextSyncAt: null };
          await updateConnection(tx, teamId, connectionId, disconnected);
          const revokedConsentIds = await revokeAuthorizedConsents(tx, teamId, connectionId, now);
          const updated = { ...connection, ...disconnected };
          const view = toConnectionView(updated, await consentsOf(tx, teamId, [connectionId]), now);
          await recordEvent(tx, { teamId, type: 'connection.disconnected', data: view }, now);
          await recordAudit(
            tx,
            audit,
            {
              teamId,
              action: 'connection.disconnected',
              targetType: 'connection',
              targetId: connectionId,
              details: { revokedConsentIds },
            },
            now,
          );
          return { view, revokeAtProvider: updated, changed: true };
        },
      );
      if (changed) onEvents();
      // The user's wish to disconnect wins over a bank outage: our side is already revoked, and a
      // failure to tell the bank is logged rather than undoing the disconnect; a repeated
      // disconnect tries the bank again.
      try {
        await providers
          .get(revokeAtProvider.provider)
          .revokeConsent(consentContext(revokeAtProvider, secrets));
      } catch (err) {
        log.warn({ err, connectionId }, 'provider revoke failed; connection disconnected locally');
      }
      return view;
    },

    /**
     * Replaces the connection's consent. The provider is asked outside the transaction, so another
     * consent update may move the connection to another bank consent meanwhile; the update then
     * starts again from the connection as it now is (as a sync does), rather than claim or revoke
     * a consent that is no longer the connection's.
     */
    async updateConsent(
      teamId: string,
      input: UpdateConsentInput,
      audit: AuditContext,
    ): Promise<ConsentView> {
      return againWhileConsentMoves(() => updateConsentOnce(teamId, input, audit), CONSENT_KEPT_MOVING);
    },
  };
}

/**
 * Thrown inside a transaction (rolling it back) that finds, once it holds the connection, that the
 * connection's consent changed since it was read: what was asked of the provider meanwhile was
 * asked under the old one.
 */
export const CONSENT_MOVED = new Error("the connection's consent changed while this ran");

/** Attempts of an operation that meets `CONSENT_MOVED` before it answers 503 to try again. */
export const MAX_CONSENT_ATTEMPTS = 3;

/** Runs `attempt`, and again from the start while it meets `CONSENT_MOVED`; then `exhausted`. */
export async function againWhileConsentMoves<T>(attempt: () => Promise<T>, exhausted: AppError): Promise<T> {
  for (let attempts = 1; ; attempts++) {
    try {
      return await attempt();
    } catch (error) {
      if (error !== CONSENT_MOVED) throw error;
      if (attempts === MAX_CONSENT_ATTEMPTS) throw exhausted;
    }
  }
}

const CONSENT_KEPT_MOVING = new AppError(
  'SERVICE_UNAVAILABLE',
  `The connection's consent was replaced during each of ${MAX_CONSENT_ATTEMPTS} attempts to update it: try again.`,
  { retryAfterSeconds: 1 },
);

export type ConnectionsService = ReturnType<typeof createConnectionsService>;

export function assertActive(connection: ConnectionRow) {
  if (connection.status !== 'ACTIVE') {
    throw new AppError('CONNECTION_DISCONNECTED', `Connection ${connection.id} is disconnected.`);
  }
}

const consentAlreadyConnected = () =>
  new AppError('CONSENT_ALREADY_CONNECTED', 'This consent has already been connected by this team.');
