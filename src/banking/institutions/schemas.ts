import { type Static, Type } from 'typebox';
import { Nullable, TeamId } from '../../http/schemas.js';

export const InstitutionsQuery = Type.Object({
  teamId: TeamId,
  provider: Type.String({ minLength: 1, maxLength: 64, examples: ['sandbox'] }),
  country: Type.Optional(
    Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2 (some providers require it).' }),
  ),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Text to find in the name.' })),
});

export const InstitutionItem = Type.Object(
  {
    id: Type.String({ description: 'The `providerId` to connect or link with.' }),
    provider: Type.String(),
    name: Type.String(),
    countries: Type.Array(Type.String()),
    logoUrl: Nullable(Type.String()),
    maxHistoryDays: Nullable(Type.Integer({ minimum: 0 })),
  },
  { $id: 'Institution' },
);

export const ProvidersQuery = Type.Object({ teamId: TeamId });

export const ProviderItem = Type.Object({
  name: Type.String(),
  available: Type.Boolean(),
  reason: Nullable(Type.String(), { description: 'Why it is unavailable here.' }),
});

export type InstitutionsInput = Static<typeof InstitutionsQuery>;
export type InstitutionView = Static<typeof InstitutionItem>;
