import type { ProviderAccount } from '../../providers/provider.js';

export interface KnownAccount {
  id: string;
  providerAccountId: string;
  accountNumber: string | null;
  sortCode: string | null;
  currency: string;
}

/**
 * Pairs the accounts a provider lists with the ones we know, so ids and history survive a new
 * consent even where the provider issues new account ids (GoCardless does): first by the
 * provider's id, then by account number (IBAN or domestic number with sort code) and currency.
 * Each known account takes at most one provider account, and a number shared by several
 * candidates matches none (never two onto one).
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
  const numberKey = (account: { accountNumber: string | null; sortCode: string | null; currency: string }) =>
    account.accountNumber === null
      ? null
      : `${account.sortCode ?? ''}|${account.accountNumber}|${account.currency}`;
  for (const account of listed) {
    if (matches.get(account.providerAccountId)) continue;
    const key = numberKey(account);
    if (key === null) continue;
    const listedWithKey = listed.filter((other) => numberKey(other) === key);
    const candidates = known.filter((row) => !claimed.has(row.id) && numberKey(row) === key);
    if (listedWithKey.length !== 1 || candidates.length !== 1) continue;
    const [candidate] = candidates;
    if (!candidate) continue;
    claimed.add(candidate.id);
    matches.set(account.providerAccountId, candidate);
  }
  return matches;
}
