import { describe, expect, it } from 'vitest';
import { type KnownAccount, matchAccounts } from '../../../src/banking/sync/account-matching.js';
import type { ProviderAccount } from '../../../src/providers/provider.js';

const listed = (providerAccountId: string, accountNumber: string | null, sortCode: string | null = null) =>
  ({
    providerAccountId,
    accountNumber,
    sortCode,
    currency: 'GBP',
    name: 'Current',
    type: 'CHECKING',
    balanceMinor: 0,
    availableBalanceMinor: null,
  }) satisfies ProviderAccount;

const known = (
  id: string,
  providerAccountId: string,
  accountNumber: string | null,
  sortCode: string | null = null,
) =>
  ({
    id,
    providerAccountId,
    accountNumber,
    sortCode,
    currency: 'GBP',
    stableReference: null as string | null,
  }) satisfies KnownAccount;

describe('matching listed accounts to known ones', () => {
  it('matches by the provider id first', () => {
    const matches = matchAccounts([known('acct_1', 'p1', '111')], [listed('p1', '999')]);
    expect(matches.get('p1')?.id).toBe('acct_1');
  });

  it('matches a new provider id by account number and sort code, keeping our account', () => {
    const matches = matchAccounts(
      [known('acct_1', 'old-1', '12345678', '040004'), known('acct_2', 'old-2', 'GB00X')],
      [listed('new-1', '12345678', '040004'), listed('new-2', 'GB00X'), listed('new-3', '87654321')],
    );
    expect(matches.get('new-1')?.id).toBe('acct_1');
    expect(matches.get('new-2')?.id).toBe('acct_2');
    expect(matches.get('new-3')).toBeUndefined();
  });

  it('never puts two listed accounts onto one known account', () => {
    const matches = matchAccounts(
      [known('acct_1', 'old-1', '12345678')],
      [listed('new-1', '12345678'), listed('new-2', '12345678')],
    );
    expect(matches.get('new-1')).toBeUndefined();
    expect(matches.get('new-2')).toBeUndefined();
  });

  it('does not take a known account already matched by provider id', () => {
    const matches = matchAccounts(
      [known('acct_1', 'p1', '12345678')],
      [listed('p1', '12345678'), listed('p2', '12345678')],
    );
    expect(matches.get('p1')?.id).toBe('acct_1');
    expect(matches.get('p2')).toBeUndefined();
  });

  it("matches by the provider's stable reference before the account number", () => {
    const matches = matchAccounts(
      [
        { ...known('acct_1', 'item1-a', null), stableReference: 'persist-1' },
        known('acct_2', 'item1-b', null),
      ],
      [{ ...listed('item2-a', null), stableReference: 'persist-1' }, listed('item2-b', null)],
    );
    expect(matches.get('item2-a')?.id).toBe('acct_1');
    expect(matches.get('item2-b')).toBeUndefined();
  });

  it('does not match on a missing account number or a different sort code', () => {
    const matches = matchAccounts(
      [known('acct_1', 'old', null), known('acct_2', 'old-2', '12345678', '111111')],
      [listed('new', null), listed('new-2', '12345678', '222222')],
    );
    expect(matches.get('new')).toBeUndefined();
    expect(matches.get('new-2')).toBeUndefined();
  });
});
