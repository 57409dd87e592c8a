import type { ConsentContext, ProviderTransaction } from '../../../src/providers/provider.js';
import { SandboxProvider } from '../../../src/providers/sandbox/index.js';

export const DAY = 86_400_000;
/** The connection was made on 10 March 2026 at 14:30 UTC; day 0 starts at midnight. */
export const CONNECTED_AT = new Date('2026-03-10T14:30:00.000Z');
export const DAY0 = Date.UTC(2026, 2, 10);

/** A provider whose clock the test moves by setting `clock.now`. */
export function sandbox(now: Date = CONNECTED_AT) {
  const clock = { now };
  const provider = new SandboxProvider({ clock: () => clock.now });
  return { provider, clock };
}

export function consent(overrides: Partial<ConsentContext> = {}): ConsentContext {
  return {
    teamId: 'team_demo',
    providerId: 'sandbox-gb',
    consentId: 'consent-alpha',
    metadata: {},
    connectedAt: CONNECTED_AT,
    state: null,
    ...overrides,
  };
}

export const sized = (sandboxOptions: Record<string, unknown>, overrides: Partial<ConsentContext> = {}) =>
  consent({ metadata: { sandbox: sandboxOptions }, ...overrides });

/** Follows `nextCursor` to the end; returns the pages. */
export async function allPages(
  provider: SandboxProvider,
  ctx: ConsentContext,
  providerAccountId: string,
  range: { from?: Date | null; to?: Date } = {},
): Promise<ProviderTransaction[][]> {
  const pages: ProviderTransaction[][] = [];
  let cursor: string | null = null;
  do {
    const page = await provider.listTransactions(ctx, {
      providerAccountId,
      from: range.from ?? null,
      to: range.to ?? new Date('2100-01-01T00:00:00.000Z'),
      cursor,
    });
    pages.push(page.transactions);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return pages;
}

export async function allTransactions(
  provider: SandboxProvider,
  ctx: ConsentContext,
  providerAccountId: string,
  range: { from?: Date | null; to?: Date } = {},
): Promise<ProviderTransaction[]> {
  return (await allPages(provider, ctx, providerAccountId, range)).flat();
}

/** Every transaction of every account of the connection, by account id. */
export async function everything(provider: SandboxProvider, ctx: ConsentContext) {
  const accounts = await provider.listAccounts(ctx);
  const byAccount = new Map<string, ProviderTransaction[]>();
  for (const account of accounts) {
    byAccount.set(account.providerAccountId, await allTransactions(provider, ctx, account.providerAccountId));
  }
  return { accounts, byAccount };
}

export const byId = (transactions: ProviderTransaction[]) =>
  new Map(transactions.map((t) => [t.providerTransactionId, t] as const));
