import { type Static, Type } from 'typebox';
import {
  DATE_HELP,
  DateOrDateTime,
  Nullable,
  ResourceId,
  StringEnum,
  TeamId,
  Timestamp,
} from '../../http/schemas.js';
import { SCOPES } from '../../providers/provider.js';

export const Scopes = Type.Array(StringEnum([...SCOPES]), {
  minItems: 1,
  maxItems: SCOPES.length,
  uniqueItems: true,
  description: 'A non-empty subset of `accounts`, `balances`, `transactions`.',
});

export const Consent = Type.Object(
  {
    id: Type.String(),
    status: StringEnum(['AUTHORIZED', 'REVOKED']),
    scopes: Type.Array(StringEnum([...SCOPES]), {
      description: 'What the consent grants, of `accounts`, `balances`, `transactions`.',
    }),
    expiresAt: Timestamp,
    revokedAt: Nullable(Timestamp),
    createdAt: Timestamp,
  },
  { $id: 'Consent' },
);

export const Connection = Type.Object(
  {
    id: Type.String(),
    teamId: Type.String(),
    provider: Type.String(),
    providerId: Type.String(),
    status: StringEnum(['ACTIVE', 'DISCONNECTED']),
    consents: Type.Array(Type.Ref('Consent'), { description: 'Oldest first.' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    lastSyncedAt: Nullable(Timestamp),
    lastSyncStatus: Nullable(StringEnum(['SUCCEEDED', 'FAILED']), {
      description: 'How the last sync ended; null before any.',
    }),
    lastSyncError: Nullable(Type.String(), { description: 'Why the last sync failed.' }),
    consentExpiresSoon: Type.Boolean({
      description: 'The current consent ends within 7 days (false once it has ended: see `consentExpired`).',
    }),
    consentExpired: Type.Boolean({
      description:
        "The current consent's `expiresAt` has passed (its status stays `AUTHORIZED`, as the bank granted it): " +
        'syncs answer 409 `CONSENT_EXPIRED` until a consent update (`POST /api/banking/consent`) renews it.',
    }),
  },
  { $id: 'Connection' },
);

/*
 * The answers of connect, disconnect and a consent update, as narrow as the seed types them: what
 * they answer is always in that state, and a client generated from the document need not check.
 */

/** The consent a connect or a consent update has just granted. */
export const AuthorizedConsent = Type.Object(
  { ...Consent.properties, status: Type.Literal('AUTHORIZED'), revokedAt: Type.Null() },
  { $id: 'AuthorizedConsent' },
);

export const RevokedConsent = Type.Object(
  { ...Consent.properties, status: Type.Literal('REVOKED'), revokedAt: Timestamp },
  { $id: 'RevokedConsent' },
);

/** A connection just connected: ACTIVE, with its one AUTHORIZED consent. */
export const ConnectedConnection = Type.Object(
  {
    ...Connection.properties,
    status: Type.Literal('ACTIVE'),
    consents: Type.Array(Type.Ref('AuthorizedConsent')),
  },
  { $id: 'ConnectedConnection' },
);

/** A connection disconnected: every consent it had is REVOKED. */
export const DisconnectedConnection = Type.Object(
  {
    ...Connection.properties,
    status: Type.Literal('DISCONNECTED'),
    consents: Type.Array(Type.Ref('RevokedConsent'), { description: 'Oldest first.' }),
  },
  { $id: 'DisconnectedConnection' },
);

export type ConsentView = Static<typeof Consent>;
export type ConnectionView = Omit<Static<typeof Connection>, 'consents'> & { consents: ConsentView[] };

export const ListConnectionsQuery = Type.Object({ teamId: TeamId });

/** A consent id as a bank issues it: never blank (a 400, not a consent the bank is asked about). */
const ConsentId = (description: string) =>
  Type.String({ minLength: 1, maxLength: 256, pattern: '\\S', description: `${description} Not blank.` });

export const ConnectBody = Type.Object({
  teamId: TeamId,
  provider: Type.String({ minLength: 1, maxLength: 64, examples: ['sandbox'] }),
  providerId: Type.String({
    minLength: 1,
    maxLength: 128,
    description: 'The institution.',
    examples: ['sandbox-gb'],
  }),
  consentId: ConsentId('The consent the user gave at the bank.'),
  metadata: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), {
      maxProperties: 50,
      propertyNames: { minLength: 1, maxLength: 64 },
      description:
        'Options for the provider (the sandbox: `{"sandbox": {"accounts", "transactionsPerAccount", "days"}}`) and your own ' +
        'annotations, kept with the connection and not returned: at most 50 keys of up to 64 characters, 5 levels deep ' +
        'and 16 KiB as JSON.',
    }),
  ),
});

export const DisconnectBody = Type.Object({ teamId: TeamId, connectionId: ResourceId });

export const UpdateConsentBody = Type.Object({
  teamId: TeamId,
  connectionId: ResourceId,
  scopes: Scopes,
  expiresAt: {
    ...DateOrDateTime,
    description: `When the consent ends; in the future. ${DATE_HELP} A date means its UTC midnight.`,
  },
  consentId: Type.Optional(ConsentId('A new consent the user just gave at the bank.')),
});

export type ConnectInput = Static<typeof ConnectBody>;
export type UpdateConsentInput = Static<typeof UpdateConsentBody>;
