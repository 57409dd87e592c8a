import { describe, expect, it } from 'vitest';
import { isValidIban } from '../../../src/providers/sandbox/index.js';
import { CONNECTED_AT, consent, DAY, sandbox, sized } from './helpers.js';

describe('sandbox accounts', () => {
  it('gives a default connection a current account, a saver and a credit card in GBP', async () => {
    const accounts = await sandbox().provider.listAccounts(consent());
    expect(accounts.map((a) => [a.type, a.name, a.currency])).toEqual([
      ['CHECKING', 'Current Account', 'GBP'],
      ['SAVINGS', 'Easy Saver', 'GBP'],
      ['CREDIT', 'Credit Card', 'GBP'],
    ]);
  });

  it('uses 8-digit account numbers and 6-digit sort codes at sandbox-gb', async () => {
    const accounts = await sandbox().provider.listAccounts(consent());
    for (const account of accounts) {
      expect(account.accountNumber).toMatch(/^\d{8}$/);
      expect(account.sortCode).toMatch(/^\d{6}$/);
    }
    expect(new Set(accounts.map((a) => a.accountNumber)).size).toBe(accounts.length);
  });

  it('uses valid electronic-form IBANs and no sort code at sandbox-eu', async () => {
    const accounts = await sandbox().provider.listAccounts(consent({ providerId: 'sandbox-eu' }));
    expect(accounts).toHaveLength(3);
    for (const account of accounts) {
      expect(account.currency).toBe('EUR');
      expect(account.sortCode).toBeNull();
      expect(account.accountNumber).toMatch(/^DE\d{20}$/);
      expect(isValidIban(account.accountNumber ?? '')).toBe(true);
    }
  });

  it('checks IBAN check digits with mod 97', () => {
    expect(isValidIban('GB82WEST12345698765432')).toBe(true);
    expect(isValidIban('DE89370400440532013000')).toBe(true);
    expect(isValidIban('DE89370400440532013001')).toBe(false);
    expect(isValidIban('DE88370400440532013000')).toBe(false);
    expect(isValidIban('DE89 3704 0044 0532 0130 00')).toBe(false);
  });

  it('gives the same accounts for the same consent, and different ones for another consent', async () => {
    const first = await sandbox().provider.listAccounts(consent());
    const again = await sandbox().provider.listAccounts(consent());
    expect(again).toEqual(first);
    const other = await sandbox().provider.listAccounts(consent({ consentId: 'consent-beta' }));
    expect(other.map((a) => a.type)).toEqual(first.map((a) => a.type));
    for (const [i, account] of other.entries()) {
      expect(account.providerAccountId).not.toBe(first[i]?.providerAccountId);
      expect(account.accountNumber).not.toBe(first[i]?.accountNumber);
    }
  });

  it('cycles CHECKING, SAVINGS, CREDIT, INVESTMENT for larger connections, with distinct ids and names', async () => {
    const accounts = await sandbox().provider.listAccounts(sized({ accounts: 9 }));
    expect(accounts.map((a) => a.type)).toEqual([
      'CHECKING',
      'SAVINGS',
      'CREDIT',
      'INVESTMENT',
      'CHECKING',
      'SAVINGS',
      'CREDIT',
      'INVESTMENT',
      'CHECKING',
    ]);
    expect(accounts[3]?.name).toBe('Stocks & Shares ISA');
    expect(new Set(accounts.map((a) => a.providerAccountId)).size).toBe(9);
    expect(new Set(accounts.map((a) => a.name)).size).toBe(9);
    expect((await sandbox().provider.listAccounts(sized({ accounts: 50 }))).length).toBe(50);
    expect((await sandbox().provider.listAccounts(sized({ accounts: 1 }))).map((a) => a.type)).toEqual([
      'CHECKING',
    ]);
  });

  it('keeps account ids stable whatever the sizing of transactions and the clock', async () => {
    const { provider, clock } = sandbox();
    const base = await provider.listAccounts(sized({ accounts: 4 }));
    const resized = await provider.listAccounts(sized({ accounts: 4, transactionsPerAccount: 7, days: 3 }));
    clock.now = new Date(CONNECTED_AT.getTime() + 40 * DAY);
    const later = await provider.listAccounts(sized({ accounts: 4 }));
    const ids = (list: typeof base) => list.map((a) => a.providerAccountId);
    expect(ids(resized)).toEqual(ids(base));
    expect(ids(later)).toEqual(ids(base));
  });

  it('reports integer balances: credit owed as negative, available = limit - owed, none for investments', async () => {
    const { provider, clock } = sandbox();
    for (let day = 0; day < 60; day++) {
      clock.now = new Date(CONNECTED_AT.getTime() + day * DAY);
      for (const account of await provider.listAccounts(sized({ accounts: 4 }))) {
        expect(Number.isInteger(account.balanceMinor)).toBe(true);
        const balance = account.balanceMinor ?? Number.NaN;
        const available = account.availableBalanceMinor;
        switch (account.type) {
          case 'CHECKING':
            expect(available).not.toBeNull();
            expect(available ?? 0).toBeGreaterThanOrEqual(balance);
            break;
          case 'SAVINGS':
            expect(balance).toBeGreaterThan(0);
            expect(available).toBe(balance);
            break;
          case 'CREDIT':
            expect(balance).toBeLessThanOrEqual(0);
            expect(available).not.toBeNull();
            expect(available ?? 0).toBeGreaterThanOrEqual(0);
            // limit - owed: the limit is the same every day
            expect((available ?? 0) - balance).toBeGreaterThan(0);
            break;
          case 'INVESTMENT':
            expect(balance).toBeGreaterThan(0);
            expect(available).toBeNull();
            break;
        }
      }
    }
  });

  it('keeps the credit limit constant while the amount owed moves', async () => {
    const { provider, clock } = sandbox();
    const limits = new Set<number>();
    const owed = new Set<number>();
    for (let day = 0; day < 30; day++) {
      clock.now = new Date(CONNECTED_AT.getTime() + day * DAY);
      const card = (await provider.listAccounts(consent())).find((a) => a.type === 'CREDIT');
      limits.add((card?.availableBalanceMinor ?? 0) - (card?.balanceMinor ?? 0));
      owed.add(-(card?.balanceMinor ?? 0));
    }
    expect(limits.size).toBe(1);
    expect(owed.size).toBeGreaterThan(5);
  });

  it('moves balances from day to day but not within a day', async () => {
    const { provider, clock } = sandbox(new Date('2026-03-10T01:00:00.000Z'));
    const morning = await provider.listAccounts(consent());
    clock.now = new Date('2026-03-10T22:00:00.000Z');
    expect(await provider.listAccounts(consent())).toEqual(morning);
    const days: number[][] = [];
    for (let day = 1; day <= 10; day++) {
      clock.now = new Date(CONNECTED_AT.getTime() + day * DAY);
      days.push((await provider.listAccounts(consent())).map((a) => a.balanceMinor ?? 0));
    }
    const checking = new Set(days.map((balances) => balances[0]));
    const savings = new Set(days.map((balances) => balances[1]));
    expect(checking.size).toBeGreaterThan(5);
    expect(savings.size).toBeGreaterThan(5);
  });
});
