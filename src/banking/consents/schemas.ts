import { type Static, Type } from 'typebox';
import { TeamId, Timestamp } from '../../http/schemas.js';
import { Scopes } from '../connections/schemas.js';

export const LinkBody = Type.Object({
  teamId: TeamId,
  provider: Type.String({ minLength: 1, maxLength: 64, examples: ['sandbox'] }),
  providerId: Type.String({ minLength: 1, maxLength: 128, description: 'The institution.' }),
  redirectUrl: Type.String({
    format: 'http-url',
    maxLength: 2048,
    description: 'Where the bank sends the user back after consenting.',
  }),
  scopes: Type.Optional(Scopes),
  days: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 730, description: 'How long the consent should last.' }),
  ),
});

export const ConsentLinkSchema = Type.Object({
  consentId: Type.String({ description: 'Pass to `POST /api/banking/connect` once the user has consented.' }),
  url: Type.String({ description: 'Send the user here to consent at the bank.' }),
  expiresAt: Timestamp,
});

export type LinkInput = Static<typeof LinkBody>;
export type ConsentLinkView = Static<typeof ConsentLinkSchema>;
