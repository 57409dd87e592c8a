import type { FieldError } from '../../errors.js';
import { linkReference, SCOPES } from '../../providers/provider.js';
import { callProvider, type ProviderRegistry } from '../../providers/registry.js';
import { bankProblems } from '../connections/service.js';
import type { ConsentLinkView, LinkInput } from './schemas.js';

export function createConsentLinkService(providers: ProviderRegistry) {
  return {
    /** The route's input check (src/http/validation.ts): a provider and institution it knows. */
    linkProblems: (input: Partial<LinkInput>): FieldError[] =>
      bankProblems(providers, { provider: input.provider, providerId: input.providerId }),

    /** Creates the provider-side authorisation and answers where to send the user. */
    async createLink(teamId: string, input: LinkInput): Promise<ConsentLinkView> {
      const provider = providers.get(input.provider);
      const link = await callProvider(() =>
        provider.createLink({
          providerId: input.providerId,
          redirectUrl: input.redirectUrl,
          scopes: input.scopes ?? [...SCOPES],
          days: input.days ?? null,
          reference: linkReference(teamId),
        }),
      );
      return { consentId: link.consentId, url: link.url, expiresAt: link.expiresAt.toISOString() };
    },
  };
}

export type ConsentLinkService = ReturnType<typeof createConsentLinkService>;
