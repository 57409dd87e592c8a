import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { ProviderError, SCOPES } from '../../../src/providers/provider.js';
import { CONNECTED_AT, consent, DAY, sandbox } from './helpers.js';

async function providerError(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('sandbox consents', () => {
  it('authorises any non-empty consent for 90 days from the clock with all three scopes', async () => {
    const { provider, clock } = sandbox();
    expect(await provider.checkConsent(consent())).toEqual({
      scopes: [...SCOPES],
      expiresAt: new Date(CONNECTED_AT.getTime() + 90 * DAY),
    });
    clock.now = new Date(CONNECTED_AT.getTime() + 5 * DAY);
    const later = await provider.checkConsent(consent({ consentId: 'anything at all' }));
    expect(later.expiresAt).toEqual(new Date(CONNECTED_AT.getTime() + 95 * DAY));
  });

  it('reports a sandbox-expired-* consent as expired, for every call that talks to the bank', async () => {
    const { provider } = sandbox();
    const ctx = consent({ consentId: 'sandbox-expired-42' });
    expect((await providerError(provider.checkConsent(ctx))).kind).toBe('expired');
    const requested = { scopes: [...SCOPES], expiresAt: new Date(CONNECTED_AT.getTime() + DAY) };
    expect((await providerError(provider.updateConsent(ctx, requested))).kind).toBe('expired');
    expect((await providerError(provider.listAccounts(ctx))).kind).toBe('expired');
  });

  it('refuses an empty consent id as invalid', async () => {
    const { provider } = sandbox();
    expect((await providerError(provider.checkConsent(consent({ consentId: '' })))).kind).toBe('invalid');
    expect((await providerError(provider.listAccounts(consent({ consentId: '  ' })))).kind).toBe('invalid');
  });

  it('authorises a sandbox-outage-* consent but fails every data call as unavailable', async () => {
    const { provider } = sandbox();
    const ctx = consent({ consentId: 'sandbox-outage-1' });
    await expect(provider.checkConsent(ctx)).resolves.toMatchObject({ scopes: [...SCOPES] });
    expect((await providerError(provider.listAccounts(ctx))).kind).toBe('unavailable');
    const healthy = await sandbox().provider.listAccounts(consent());
    const query = { providerAccountId: healthy[0]?.providerAccountId ?? '', from: null, to: CONNECTED_AT };
    expect((await providerError(provider.listTransactions(ctx, query))).kind).toBe('unavailable');
  });

  it('validates the institution and metadata of the consent it checks', async () => {
    const { provider } = sandbox();
    await expect(provider.checkConsent(consent({ providerId: 'sandbox-xx' }))).rejects.toBeInstanceOf(
      AppError,
    );
    await expect(
      provider.checkConsent(consent({ metadata: { sandbox: { days: 0 } } })),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      extra: { errors: [{ path: '/metadata/sandbox/days' }] },
    });
  });

  it('grants exactly the scopes and future expiry asked for in an update', async () => {
    const { provider } = sandbox();
    const requested = { scopes: ['transactions' as const], expiresAt: new Date('2027-01-31T00:00:00.000Z') };
    expect(await provider.updateConsent(consent(), requested)).toEqual(requested);
    const all = {
      scopes: ['balances' as const, 'accounts' as const],
      expiresAt: new Date(CONNECTED_AT.getTime() + 1),
    };
    expect(await provider.updateConsent(consent(), all)).toEqual(all);
  });

  it('refuses an update with no scopes or an expiry that is not in the future', async () => {
    const { provider } = sandbox();
    const empty = { scopes: [], expiresAt: new Date(CONNECTED_AT.getTime() + DAY) };
    expect((await providerError(provider.updateConsent(consent(), empty))).kind).toBe('invalid');
    const past = { scopes: [...SCOPES], expiresAt: CONNECTED_AT };
    expect((await providerError(provider.updateConsent(consent(), past))).kind).toBe('invalid');
  });

  it('revokes without complaint, even twice', async () => {
    const { provider } = sandbox();
    await expect(provider.revokeConsent(consent())).resolves.toBeUndefined();
    await expect(provider.revokeConsent(consent())).resolves.toBeUndefined();
  });
});

describe('sandbox re-consent', () => {
  it('gives a new consent of the same customer (`id~n`) the same accounts and transactions', async () => {
    const { provider } = sandbox();
    const first = consent({ consentId: 'customer-7' });
    const again = consent({ consentId: 'customer-7~2' });
    expect(await provider.listAccounts(again)).toEqual(await provider.listAccounts(first));
    const [account] = await provider.listAccounts(first);
    const query = { providerAccountId: account?.providerAccountId ?? '', from: null, to: CONNECTED_AT };
    expect(await provider.listTransactions(again, query)).toEqual(
      await provider.listTransactions(first, query),
    );
    expect(await provider.listAccounts(consent({ consentId: 'customer-8' }))).not.toEqual(
      await provider.listAccounts(first),
    );
  });
});
