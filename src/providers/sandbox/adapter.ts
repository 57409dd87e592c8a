/** The `sandbox` provider: a fake bank with realistic, deterministic data and no network. */
import { randomUUID } from 'node:crypto';
import { invalidInput } from '../../errors.js';
import {
  type BankProvider,
  type Clock,
  type ConsentContext,
  type ConsentGrant,
  type ConsentLink,
  type GrantedConsent,
  type Institution,
  type LinkRequest,
  type ProviderAccount,
  ProviderError,
  SCOPES,
  type TransactionPage,
  type TransactionQuery,
} from '../provider.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import {
  type AccountPlan,
  DAY_MS,
  planAccounts,
  type Timeline,
  timeline,
  toProviderAccount,
  transactionPage,
} from './generator.js';
import { INSTITUTION_IDS } from './institutions.js';
import { parseSandboxConfig, type SandboxConfig } from './metadata.js';

/** How long the sandbox authorises a consent for. */
export const CONSENT_DAYS = 90;
/** The most transactions in one page of `listTransactions`. */
export const PAGE_SIZE = 1000;
/** How long a sandbox consent link stays usable. */
export const LINK_MINUTES = 60;

const SANDBOX_INSTITUTIONS: Institution[] = [
  { id: 'sandbox-gb', name: 'Sandbox Bank UK', countries: ['GB'], logoUrl: null, maxHistoryDays: 730 },
  {
    id: 'sandbox-eu',
    name: 'Sandbox Bank Europe',
    countries: ['AT', 'BE', 'DE', 'ES', 'FI', 'FR', 'IE', 'IT', 'NL', 'PT'],
    logoUrl: null,
    maxHistoryDays: 730,
  },
];

/**
 * The bank customer behind a consent: the consent id up to its first `~`. A user who consents
 * again gives a new consent id with the same customer (`acme` then `acme~2`), and sees the same
 * accounts and transactions, as at a real bank.
 */
export const customerOf = (consentId: string) => consentId.split('~')[0] ?? consentId;

/** consentId prefixes that trigger the sandbox's failure modes. */
export const EXPIRED_PREFIX = 'sandbox-expired-';
export const OUTAGE_PREFIX = 'sandbox-outage-';

export interface SandboxProviderOptions {
  clock: Clock;
}

export class SandboxProvider implements BankProvider {
  readonly name = 'sandbox';
  private readonly clock: Clock;

  constructor(options: SandboxProviderOptions) {
    this.clock = options.clock;
  }

  validateConnect(input: { providerId: string; metadata: Record<string, unknown> }): void {
    parseSandboxConfig(input);
  }

  async checkConsent(consent: ConsentContext): Promise<ConsentGrant> {
    this.authorised(consent);
    return { scopes: [...SCOPES], expiresAt: new Date(this.clock().getTime() + CONSENT_DAYS * DAY_MS) };
  }

  async updateConsent(consent: ConsentContext, requested: GrantedConsent): Promise<ConsentGrant> {
    this.authorised(consent);
    const unknown = requested.scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
    if (requested.scopes.length === 0 || unknown.length > 0) {
      throw new ProviderError('invalid', 'the sandbox grants only a non-empty set of known scopes');
    }
    if (!(requested.expiresAt.getTime() > this.clock().getTime())) {
      throw new ProviderError('invalid', 'the sandbox grants only a consent that expires in the future');
    }
    return { scopes: [...requested.scopes], expiresAt: new Date(requested.expiresAt.getTime()) };
  }

  async revokeConsent(_consent: ConsentContext): Promise<void> {}

  async listAccounts(consent: ConsentContext): Promise<ProviderAccount[]> {
    const { config, line } = this.connection(consent);
    return planAccounts(customerOf(consent.consentId), config).map((plan) => toProviderAccount(plan, line));
  }

  async listTransactions(consent: ConsentContext, query: TransactionQuery): Promise<TransactionPage> {
    const { config, line } = this.connection(consent);
    const plan = findAccount(customerOf(consent.consentId), config, query.providerAccountId);
    const start = query.cursor === undefined || query.cursor === null ? null : decodeCursor(query.cursor);
    if (query.cursor !== undefined && query.cursor !== null && !start) {
      throw new ProviderError('invalid', 'malformed sandbox cursor');
    }
    const range = { fromMs: query.from?.getTime() ?? Number.NEGATIVE_INFINITY, toMs: query.to.getTime() };
    const page = transactionPage(plan, line, range, start, PAGE_SIZE);
    return { transactions: page.transactions, nextCursor: page.next ? encodeCursor(page.next) : null };
  }

  async searchInstitutions(query: { country?: string; q?: string }): Promise<Institution[]> {
    const text = query.q?.toLowerCase();
    return SANDBOX_INSTITUTIONS.filter(
      (institution) =>
        (!query.country || institution.countries.includes(query.country.toUpperCase())) &&
        (!text || institution.name.toLowerCase().includes(text) || institution.id.includes(text)),
    );
  }

  /**
   * The sandbox bank consents at once: the link sends the user straight back to `redirectUrl`
   * with the new consent id, as a real bank's redirect would after the user agreed.
   */
  async createLink(request: LinkRequest): Promise<ConsentLink> {
    if (!(INSTITUTION_IDS as readonly string[]).includes(request.providerId)) {
      throw invalidInput([
        { path: '/providerId', in: 'body', message: `unknown sandbox institution "${request.providerId}"` },
      ]);
    }
    const consentId = `sandbox-link-${randomUUID()}`;
    const url = new URL(request.redirectUrl);
    url.searchParams.set('consentId', consentId);
    url.searchParams.set('ref', request.reference);
    return {
      consentId,
      url: url.toString(),
      expiresAt: new Date(this.clock().getTime() + LINK_MINUTES * 60_000),
    };
  }

  /** Validates the connection and applies the consent triggers; returns the parsed config. */
  private authorised(consent: ConsentContext): SandboxConfig {
    const config = parseSandboxConfig(consent);
    if (consent.consentId.trim() === '')
      throw new ProviderError('invalid', 'the sandbox knows no empty consent');
    if (consent.consentId.startsWith(EXPIRED_PREFIX)) {
      throw new ProviderError('expired', 'the sandbox reports this consent as expired');
    }
    return config;
  }

  /** As `authorised`, for data calls: an outage consent fails here. */
  private connection(consent: ConsentContext): { config: SandboxConfig; line: Timeline } {
    const config = this.authorised(consent);
    if (consent.consentId.startsWith(OUTAGE_PREFIX)) {
      throw new ProviderError('unavailable', 'the sandbox bank is unavailable for this consent');
    }
    return { config, line: timeline(config, consent.connectedAt, this.clock()) };
  }
}

function findAccount(consentId: string, config: SandboxConfig, providerAccountId: string): AccountPlan {
  const plan = planAccounts(consentId, config).find((p) => p.providerAccountId === providerAccountId);
  if (!plan) throw new ProviderError('invalid', `unknown sandbox account ${providerAccountId}`);
  return plan;
}
