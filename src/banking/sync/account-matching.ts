import type { ProviderAccount } from '../../providers/provider.js';

export interface KnownAccount {
  id: string;
  providerAccountId: string;
  stableReference: string | null;
  accountNumber: string | null;
  sortCode: string | null;
  currency: string;
}

type Keyed = Pick<KnownAccount, 'accountNumber' | 'sortCode' | 'currency'> & {
  stableReference?: string | null;
};

const byStableReference = (account: Keyed) => account.stableReference ?? null;
const byAccountNumber = (account: Keyed) =>
  account.accountNumber === null
    ? null
    : `${account.sortCode ?? ''}|${account.accountNumber}|${account.currency}`;

/**
 * Pairs the accounts a provider lists with the ones we know, so ids and history survive a new
 * consent even where the provider issues new account ids (GoCardless and Plaid do): first by
 * the provider's id, then by its stable reference across consents, then by account number (IBAN
 * or domestic number with sort code) and currency. Each known account takes at most one listed
 * account, and a key shared by several candidates matches none (never two onto one).
 */
export function matchAccounts<T extends KnownAccount>(
  known: T[],
  listed: ProviderAccount[],
): Map<string, T | undefined> {
  const matches = new Map<string, T | undefined>();
  const claimed = new Set<string>();
  const byProviderId = new Map(known.map((account) => [account.providerAccountId, account]));
  for (const account of listed) {
    const match = byProviderId.get(account.providerAccountId);
    if (match) claimed.add(match.id);
    matches.set(account.providerAccountId, match);
  }
  for (const keyOf of [byStableReference, byAccountNumber]) {
    for (const account of listed) {
      if (matches.get(account.providerAccountId)) continue;
      const key = keyOf(account);
      if (key === null) continue;
      const listedWithKey = listed.filter((other) => keyOf(other) === key);
      const candidates = known.filter((row) => !claimed.has(row.id) && keyOf(row) === key);
      const [candidate] = candidates;
      if (listedWithKey.length !== 1 || candidates.length !== 1 || !candidate) continue;
      claimed.add(candidate.id);
      matches.set(account.providerAccountId, candidate);
    }
  }
  return matches;
}
