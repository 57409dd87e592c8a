import type { FieldError } from '../../errors.js';
import { fieldErrorsOf } from '../../http/validation.js';
import type { Institution } from '../../providers/provider.js';
import { callProvider, type ProviderRegistry } from '../../providers/registry.js';
import type { InstitutionsInput, InstitutionView } from './schemas.js';

const CACHE_MS = 60 * 60 * 1000;
const CACHE_ENTRIES = 500;
const PROVIDER = { path: '/provider', in: 'query' } as const;

/**
 * Institution search, cached in memory for an hour per provider, country and text: banks change
 * rarely, and providers limit how often they may be asked.
 */
export function createInstitutionsService(providers: ProviderRegistry, now: () => number = Date.now) {
  const cache = new Map<string, { at: number; institutions: Institution[] }>();

  /** The route's input check (src/http/validation.ts): a provider this deployment knows. */
  const queryProblems = (input: Partial<InstitutionsInput>): FieldError[] =>
    input.provider === undefined
      ? []
      : fieldErrorsOf(() => providers.get(input.provider as string, PROVIDER));

  async function search(input: InstitutionsInput): Promise<Institution[]> {
    const provider = providers.get(input.provider, PROVIDER);
    const country = input.country?.toUpperCase();
    const key = JSON.stringify([provider.name, country ?? null, input.q?.toLowerCase() ?? null]);
    const cached = cache.get(key);
    if (cached && now() - cached.at < CACHE_MS) return cached.institutions;
    const institutions = await callProvider(() => provider.searchInstitutions({ country, q: input.q }));
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
    cache.set(key, { at: now(), institutions });
    return institutions;
  }

  return {
    queryProblems,
    async search(input: InstitutionsInput): Promise<InstitutionView[]> {
      const institutions = await search(input);
      return institutions.map((institution) => ({ ...institution, provider: input.provider }));
    },
    providers: () => providers.list(),
  };
}

export type InstitutionsService = ReturnType<typeof createInstitutionsService>;
