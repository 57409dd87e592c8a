/**
 * The `gocardless` provider: GoCardless Bank Account Data API v2 (formerly Nordigen).
 *
 * A connection's `consentId` is a requisition id. A requisition is authorised once linked (LN);
 * its end user agreement gives the scopes (`details` is our `accounts`), the expiry (acceptance
 * plus `access_valid_for_days`) and how far back transactions go (`max_historical_days`). What
 * the service keeps per connection (`state`) is the requisition's account ids and those terms, so
 * that a sync spends its calls on the rate-limited account endpoints only: banks may allow as
 * few as 4 calls a day per account and scope, so a sync makes exactly one details, one balances
 * and one transactions call per account (and none for a scope the consent lacks).
 */
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
  type ProviderState,
  referencedTeam,
  SCOPES,
  type Scope,
  type TransactionPage,
  type TransactionQuery,
} from '../provider.js';
import { GoCardlessClient, type GoCardlessClientOptions } from './client.js';
import {
  type AgreementTerms,
  agreementRequest,
  agreementTerms,
  DAY_MS,
  filterInstitutions,
  requisitionProblem,
  toInstitution,
  toProviderAccount,
  toTransactions,
  utcDay,
} from './transform.js';
import type {
  GcAccountDetails,
  GcAccountMetadata,
  GcAgreement,
  GcBalance,
  GcInstitution,
  GcRequisition,
  GcTransactions,
} from './types.js';

export type GoCardlessProviderOptions = GoCardlessClientOptions;

/** How long a country's institution list is kept before it is asked for again. */
export const INSTITUTIONS_TTL_MS = 60 * 60_000;

/**
 * How long we say a new link works. GoCardless's documentation gives no lifetime for an unused
 * requisition link that we could find: the link works once (a reused link answers "Link
 * Expired"), and the agreement's `access_valid_for_days` runs from the user's acceptance, not
 * from the link's creation. We found no documented deadline for accepting it. So we promise only
 * what an app needs (send the user now) and what is surely true: one day. An app whose user
 * comes back later asks for a new link, which costs two calls and no bank quota.
 */
export const LINK_VALID_MS = 24 * 60 * 60_000;

/** GoCardless institution ids: `MONZO_MONZGB2L`, `SANDBOXFINANCE_SFIN0000`... */
const INSTITUTION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
/** Requisition and account ids are UUIDs; anything else never reaches a URL. */
const RESOURCE_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,99}$/;

/** What we keep per connection. */
export interface GoCardlessState extends ProviderState {
  requisitionId: string;
  institutionId: string;
  agreementId: string | null;
  /** The requisition's account ids, in its order. */
  accounts: string[];
  /** The scopes in force (the agreement's, or fewer after an update). */
  scopes: Scope[];
  maxHistoricalDays: number;
}

export class GoCardlessProvider implements BankProvider {
  readonly name = 'gocardless';
  private readonly client: GoCardlessClient;
  private readonly clock: Clock;
  private readonly institutionLists = new Map<string, { at: number; list: Promise<GcInstitution[]> }>();
  private readonly institutionById = new Map<string, { at: number; institution: GcInstitution }>();

  constructor(options: GoCardlessProviderOptions) {
    this.clock = options.clock;
    this.client = new GoCardlessClient(options);
  }

  validateConnect(input: { providerId: string; metadata: Record<string, unknown> }): void {
    if (!INSTITUTION_ID.test(input.providerId)) {
      throw invalidInput([
        {
          path: '/providerId',
          in: 'body',
          message: 'must be a GoCardless institution id, e.g. MONZO_MONZGB2L',
        },
      ]);
    }
  }

  async checkConsent(consent: ConsentContext): Promise<ConsentGrant> {
    const requisition = await this.linkedRequisition(consent);
    const terms = await this.terms(requisition);
    if (terms.expiresAt.getTime() <= this.clock().getTime()) {
      throw new ProviderError(
        'expired',
        `the end user agreement expired at ${terms.expiresAt.toISOString()}`,
      );
    }
    if (terms.scopes.length === 0) {
      throw new ProviderError(
        'invalid',
        'the end user agreement grants none of details, balances, transactions',
      );
    }
    return { scopes: terms.scopes, expiresAt: terms.expiresAt, state: stateOf(requisition, terms) };
  }

  /**
   * GoCardless cannot change an accepted agreement: a narrower consent (a subset of the scopes,
   * an expiry no later) is granted by using less of it; anything more needs a new link.
   */
  async updateConsent(consent: ConsentContext, requested: GrantedConsent): Promise<ConsentGrant> {
    const current = await this.checkConsent(consent);
    const wider = requested.scopes.filter((scope) => !current.scopes.includes(scope));
    if (requested.scopes.length === 0) {
      throw new ProviderError('invalid', 'a GoCardless consent needs at least one scope');
    }
    if (wider.length > 0) {
      throw new ProviderError(
        'invalid',
        `GoCardless cannot add ${wider.join(', ')} to an accepted agreement; create a new link for it`,
      );
    }
    if (requested.expiresAt.getTime() > current.expiresAt.getTime()) {
      throw new ProviderError(
        'invalid',
        `GoCardless cannot extend an accepted agreement past ${current.expiresAt.toISOString()}; create a new link`,
      );
    }
    if (requested.expiresAt.getTime() <= this.clock().getTime()) {
      throw new ProviderError('invalid', 'a consent must expire in the future');
    }
    const scopes = SCOPES.filter((scope) => requested.scopes.includes(scope));
    return {
      scopes,
      expiresAt: new Date(requested.expiresAt.getTime()),
      state: { ...(current.state as GoCardlessState), scopes },
    };
  }

  /** Deletes the requisition (GoCardless deletes its agreement with it); an unknown one is fine. */
  async revokeConsent(consent: ConsentContext): Promise<void> {
    // An id GoCardless could never have issued has nothing to revoke.
    if (!RESOURCE_ID.test(consent.consentId)) return;
    const response = await this.client.send({
      method: 'DELETE',
      path: `/api/v2/requisitions/${consent.consentId}/`,
    });
    if (response.status === 404 || (response.status >= 200 && response.status < 300)) return;
    throw this.client.error(response, 'requisition');
  }

  async listAccounts(consent: ConsentContext): Promise<ProviderAccount[]> {
    const known = readState(consent.state, consent.consentId);
    const accountIds = known?.accounts ?? (await this.linkedRequisition(consent)).accounts;
    const scopes = known?.scopes ?? [...SCOPES];
    const accounts: ProviderAccount[] = [];
    for (const id of accountIds) {
      // Details and balances each have their own daily limit at the bank: one call each, and
      // only for a scope the consent has. Without `accounts`, the metadata (not limited) stands in.
      const details = scopes.includes('accounts') ? await this.accountDetails(id) : null;
      const metadata = details ? null : await this.accountPart<GcAccountMetadata>(id, '');
      const balances = scopes.includes('balances')
        ? ((await this.accountPart<{ balances?: GcBalance[] }>(id, 'balances/'))?.balances ?? [])
        : null;
      accounts.push(readable(() => toProviderAccount({ id, details, metadata, balances }), 'an account'));
    }
    return accounts;
  }

  /**
   * One call gives all booked and pending transactions of the range: GoCardless does not page.
   * With no `from`, the range starts the agreement's `max_historical_days` before today (an
   * earlier `from` is clamped there too, as the bank gives nothing older); `to` is clamped to
   * today, as GoCardless refuses a date in the future.
   *
   * GoCardless does not link a booked transaction to the pending one it replaces (there is no
   * `pending_transaction_id` as at Plaid), and banks usually give the booked one a new
   * `transactionId` (or none). So no `pendingTransactionId` is set: when a pending transaction
   * books, the sync deletes the pending row the bank no longer lists and inserts the booked one
   * as a new transaction (with a new id of ours).
   */
  async listTransactions(consent: ConsentContext, query: TransactionQuery): Promise<TransactionPage> {
    if (query.cursor) {
      throw new ProviderError('invalid', 'GoCardless transactions come in one page; no cursor');
    }
    const known = readState(consent.state, consent.consentId);
    if (known && !known.accounts.includes(query.providerAccountId)) {
      throw new ProviderError('invalid', 'the account is not one of this requisition');
    }
    const maxDays =
      known?.maxHistoricalDays ?? (await this.terms(await this.linkedRequisition(consent))).maxHistoricalDays;
    const now = this.clock();
    const earliest = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - maxDays * DAY_MS;
    const from = Math.max(query.from?.getTime() ?? earliest, earliest);
    const to = Math.min(query.to.getTime(), now.getTime());
    if (utcDay(new Date(from)) > utcDay(new Date(to))) return { transactions: [], nextCursor: null };
    const body = await this.client.json<GcTransactions>(
      {
        method: 'GET',
        path: `/api/v2/accounts/${accountId(query.providerAccountId)}/transactions/`,
        query: { date_from: utcDay(new Date(from)), date_to: utcDay(new Date(to)) },
        retries: 0,
      },
      'account',
    );
    return { transactions: readable(() => toTransactions(body), 'transactions'), nextCursor: null };
  }

  /** GoCardless lists institutions by country only; the list is kept an hour per country. */
  async searchInstitutions(query: {
    country?: string | undefined;
    q?: string | undefined;
  }): Promise<Institution[]> {
    const country = query.country?.trim();
    if (!country) {
      throw invalidInput([
        {
          path: '/country',
          in: 'query',
          message: 'is required by GoCardless, which lists institutions by country (e.g. GB)',
        },
      ]);
    }
    if (!/^[A-Za-z]{2}$/.test(country)) {
      throw invalidInput([{ path: '/country', in: 'query', message: 'must be an ISO 3166-1 alpha-2 code' }]);
    }
    const list = await this.institutionsOf(country.toUpperCase());
    return filterInstitutions(list.map(toInstitution), query.q);
  }

  /**
   * An agreement with the scopes asked for, `access_valid_for_days` = `days` (null: the bank's
   * maximum, `max_access_valid_for_days`, else 180) capped at the bank's maximum and 180, and
   * all the history the bank gives (`transaction_total_days`, else 90); then a requisition for it.
   */
  async createLink(request: LinkRequest): Promise<ConsentLink> {
    if (!INSTITUTION_ID.test(request.providerId)) {
      throw invalidInput([
        { path: '/providerId', in: 'body', message: 'must be a GoCardless institution id' },
      ]);
    }
    if (request.scopes.length === 0)
      throw invalidInput([{ path: '/scopes', in: 'body', message: 'must not be empty' }]);
    const institution = await this.institution(request.providerId);
    const agreement = await this.client.json<GcAgreement>(
      {
        method: 'POST',
        path: '/api/v2/agreements/enduser/',
        body: agreementRequest({
          institutionId: institution.id,
          scopes: request.scopes,
          days: request.days,
          institution,
        }),
      },
      'agreement',
    );
    if (!agreement || typeof agreement.id !== 'string') {
      throw new ProviderError('unavailable', 'GoCardless created an agreement without an id');
    }
    let requisition: GcRequisition;
    try {
      requisition = await this.client.json<GcRequisition>(
        {
          method: 'POST',
          path: '/api/v2/requisitions/',
          body: {
            redirect: request.redirectUrl,
            institution_id: institution.id,
            reference: request.reference,
            agreement: agreement.id,
          },
        },
        'requisition',
      );
    } catch (error) {
      await this.client
        .send({ method: 'DELETE', path: `/api/v2/agreements/enduser/${accountId(agreement.id)}/` })
        .catch(() => undefined);
      throw error;
    }
    if (!requisition || typeof requisition.id !== 'string' || typeof requisition.link !== 'string') {
      throw new ProviderError('unavailable', 'GoCardless created a requisition without an id or a link');
    }
    return {
      consentId: requisition.id,
      url: requisition.link,
      expiresAt: new Date(this.clock().getTime() + LINK_VALID_MS),
    };
  }

  private async accountDetails(id: string): Promise<GcAccountDetails | null> {
    return (await this.accountPart<{ account?: GcAccountDetails }>(id, 'details/'))?.account ?? null;
  }

  /**
   * GET /api/v2/accounts/{id}/ and its parts (`details/`, `balances/`), never retried here:
   * GoCardless suspends an account after 10 failed calls in a row, so a failing bank is left to
   * the scheduler's backoff rather than met with three calls per sync.
   */
  private accountPart<T>(id: string, part: '' | 'details/' | 'balances/'): Promise<T> {
    return this.client.json<T>(
      { method: 'GET', path: `/api/v2/accounts/${accountId(id)}/${part}`, retries: 0 },
      'account',
    );
  }

  /**
   * GET the requisition; it must be linked (LN) and of the connection's institution. One our link
   * made for another team is answered as one GoCardless does not know, before its status is
   * looked at: the caller learns nothing of another team's requisition, not even that it is one.
   */
  private async linkedRequisition(consent: ConsentContext): Promise<GcRequisition> {
    const id = requisitionId(consent);
    const response = await this.client.send({ method: 'GET', path: `/api/v2/requisitions/${id}/` });
    if (response.status === 404) throw UNKNOWN_REQUISITION;
    if (response.status < 200 || response.status >= 300) throw this.client.error(response, 'requisition');
    const requisition = response.body as GcRequisition | null;
    if (!requisition || typeof requisition.status !== 'string') {
      throw new ProviderError('unavailable', 'GoCardless answered a requisition without a status');
    }
    const team = referencedTeam(requisition.reference);
    if (team !== null && team !== consent.teamId) throw UNKNOWN_REQUISITION;
    const problem = requisitionProblem(requisition.status);
    if (problem) throw problem;
    if (
      typeof requisition.institution_id === 'string' &&
      requisition.institution_id.toUpperCase() !== consent.providerId.toUpperCase()
    ) {
      throw new ProviderError('invalid', 'the requisition is for another institution than the connection');
    }
    if (!Array.isArray(requisition.accounts)) {
      throw new ProviderError('unavailable', 'GoCardless answered a requisition without its accounts');
    }
    return requisition;
  }

  private async terms(requisition: GcRequisition): Promise<AgreementTerms> {
    const agreement = requisition.agreement
      ? await this.client.json<GcAgreement>(
          { method: 'GET', path: `/api/v2/agreements/enduser/${accountId(requisition.agreement)}/` },
          'agreement',
        )
      : null;
    return agreementTerms(agreement, requisition);
  }

  private institutionsOf(country: string): Promise<GcInstitution[]> {
    const now = this.clock().getTime();
    const cached = this.institutionLists.get(country);
    if (cached && now - cached.at < INSTITUTIONS_TTL_MS) return cached.list;
    const list = (async () => {
      const response = await this.client.send({
        method: 'GET',
        path: '/api/v2/institutions/',
        query: { country },
      });
      if (response.status === 400) {
        throw invalidInput([
          { path: '/country', in: 'query', message: `is not a country GoCardless covers` },
        ]);
      }
      if (response.status < 200 || response.status >= 300) throw this.client.error(response, 'institution');
      if (!Array.isArray(response.body)) {
        throw new ProviderError('unavailable', 'GoCardless answered institutions that are not a list');
      }
      return response.body as GcInstitution[];
    })();
    this.institutionLists.set(country, { at: now, list });
    list.catch(() => {
      if (this.institutionLists.get(country)?.list === list) this.institutionLists.delete(country);
    });
    return list;
  }

  /** The institution, from a cached list when there is one, else GET /institutions/{id}/. */
  private async institution(id: string): Promise<GcInstitution> {
    const now = this.clock().getTime();
    for (const entry of this.institutionLists.values()) {
      if (now - entry.at >= INSTITUTIONS_TTL_MS) continue;
      const found = (await entry.list.catch(() => [] as GcInstitution[])).find((i) => i.id === id);
      if (found) return found;
    }
    const cached = this.institutionById.get(id);
    if (cached && now - cached.at < INSTITUTIONS_TTL_MS) return cached.institution;
    const response = await this.client.send({
      method: 'GET',
      path: `/api/v2/institutions/${encodeURIComponent(id)}/`,
    });
    if (response.status === 404 || response.status === 400) {
      throw invalidInput([
        { path: '/providerId', in: 'body', message: `GoCardless knows no institution "${id}"` },
      ]);
    }
    if (response.status < 200 || response.status >= 300) throw this.client.error(response, 'institution');
    const institution = response.body as GcInstitution | null;
    if (!institution || typeof institution.id !== 'string') {
      throw new ProviderError('unavailable', 'GoCardless answered an institution without an id');
    }
    this.institutionById.set(id, { at: now, institution });
    return institution;
  }
}

const UNKNOWN_REQUISITION = new ProviderError('invalid', 'GoCardless does not know the requisition');

/** Runs a transform; a shape it cannot read (null entries, wrong types) is 'unavailable', not a crash. */
function readable<T>(transform: () => T, what: string): T {
  try {
    return transform();
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new ProviderError('unavailable', `GoCardless sent ${what} the service cannot read`);
    }
    throw error;
  }
}

function stateOf(requisition: GcRequisition, terms: AgreementTerms): GoCardlessState {
  return {
    requisitionId: requisition.id,
    institutionId: requisition.institution_id,
    agreementId: requisition.agreement ?? null,
    accounts: [...requisition.accounts],
    scopes: terms.scopes,
    maxHistoricalDays: terms.maxHistoricalDays,
  };
}

/**
 * What the stored state tells, when it is of this requisition: its accounts always, its scopes
 * (all three when absent) and history depth when known. Null when there is nothing usable (then
 * the requisition is asked for).
 */
function readState(
  state: ProviderState | null,
  consentId: string,
): { accounts: string[]; scopes: Scope[]; maxHistoricalDays: number | null } | null {
  if (!state) return null;
  const { requisitionId: stored, accounts, scopes, maxHistoricalDays } = state as Partial<GoCardlessState>;
  if (stored !== undefined && stored !== consentId) return null;
  if (!Array.isArray(accounts) || !accounts.every((id) => typeof id === 'string')) return null;
  const knownScopes =
    Array.isArray(scopes) && scopes.every((scope) => (SCOPES as readonly unknown[]).includes(scope))
      ? SCOPES.filter((scope) => scopes.includes(scope))
      : [...SCOPES];
  const days =
    typeof maxHistoricalDays === 'number' && Number.isSafeInteger(maxHistoricalDays) && maxHistoricalDays > 0
      ? maxHistoricalDays
      : null;
  return { accounts: [...accounts], scopes: knownScopes, maxHistoricalDays: days };
}

function requisitionId(consent: ConsentContext): string {
  if (!RESOURCE_ID.test(consent.consentId)) {
    throw new ProviderError('invalid', 'the consent id is not a GoCardless requisition id');
  }
  return consent.consentId;
}

function accountId(id: string): string {
  if (!RESOURCE_ID.test(id)) throw new ProviderError('invalid', 'not a GoCardless resource id');
  return id;
}
