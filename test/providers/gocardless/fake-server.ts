/**
 * A local fake of the GoCardless Bank Account Data API v2, on 127.0.0.1 and a free port, for the
 * provider's tests. It serves the documented request and response formats (token pair and
 * refresh, institutions, end user agreements, requisitions and their statuses, account metadata,
 * details, balances, booked and pending transactions, `{summary, detail, status_code}` errors,
 * field-keyed validation errors, the rate-limit headers), checks the bearer token and the shape
 * of what it is sent, and enforces the bank's daily limit per account and scope.
 *
 * The fixtures are written for these tests from the documented formats. Tests can inject
 * answers (an error, a 429 with headers, a slow answer), expire the access tokens, and link a
 * requisition as if the user had consented at the bank.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveWireFault, type WireFault } from '../wire-faults.js';

export const SECRET_ID = 'f3c1b2a0-secret-id-5e7d-4a91-9c3b-8d2e6f0a1b7c';
export const SECRET_KEY = 'sk_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0fedcba9876543210abcdef0123456789';

export const REQ_LINKED = '8126e9fb-93c9-4228-937c-68f0383c2df7';
export const REQ_NARROW = '2b0d8f4e-6a1c-4e3b-9f7a-5c8d1e2f3a4b';
export const REQ_EXPIRED = '5d2a7c9e-1f3b-4d6a-8e0c-9b7f5a3d1e2c';
export const REQ_REJECTED = '9e4f1a2b-3c5d-4e6f-8a7b-0c1d2e3f4a5b';
export const REQ_SUSPENDED = 'c7a9e1b3-5d2f-4a6c-8e0b-1f3d5a7c9e2b';
export const REQ_CREATED = '3f5a7c9e-2b4d-4f6a-9c8e-0d2f4a6c8e1b';
export const REQ_DEFAULT_TERMS = '6a8c0e2f-4b6d-4a8c-9e1f-3a5c7e9b1d3f';

export const AGR_LINKED = 'a1c3e5f7-9b2d-4f6a-8c0e-2d4f6a8c0e1f';
export const AGR_NARROW = 'b2d4f6a8-0c1e-4a3b-9d5f-7a9c1e3b5d7f';
export const AGR_EXPIRED = 'c3e5a7c9-1e2f-4b4d-8f6a-9b1d3f5a7c9e';

export const ACC_CURRENT = '0d5e8c1a-4b7f-4e2d-9a6c-3f8b1e5d7a2c';
export const ACC_SAVINGS = '7b2e9f4c-1d6a-4c8e-b3f5-9a2d7e1c4b6f';
export const ACC_EXPIRED = 'e8f1a3c5-7d9b-4e2a-8c4f-6b8d0a2c4e6f';
export const ACC_SUSPENDED = 'f9a2b4d6-8e0c-4f3b-9d5a-7c9e1b3d5f7a';
export const ACC_DEFAULT = '1a3c5e7b-9d2f-4a6c-8e0b-2d4f6b8a0c1e';

export const INSTITUTION_GB = 'BARCLAYS_BUKBGB22';

type Json = Record<string, unknown>;

export interface FakeInstitution {
  id: string;
  name: string;
  bic: string;
  transaction_total_days: string;
  max_access_valid_for_days: string;
  countries: string[];
  logo: string;
  supported_features: string[];
  identification_codes: string[];
}

const institution = (
  id: string,
  name: string,
  bic: string,
  days: string,
  maxAccess: string,
  countries: string[],
): FakeInstitution => ({
  id,
  name,
  bic,
  transaction_total_days: days,
  max_access_valid_for_days: maxAccess,
  countries,
  logo: `https://cdn-logos.gocardless.com/ais/${id}.png`,
  supported_features: ['account_selection', 'private_accounts'],
  identification_codes: [],
});

export const INSTITUTIONS: FakeInstitution[] = [
  institution('BARCLAYS_BUKBGB22', 'Barclays Personal', 'BUKBGB22', '730', '90', ['GB']),
  institution('MONZO_MONZGB2L', 'Monzo Bank', 'MONZGB2L', '730', '180', ['GB']),
  institution('NATIONWIDE_NAIAGB21', 'Nationwide Building Society', 'NAIAGB21', '730', '180', ['GB']),
  institution('REVOLUT_REVOGB21', 'Revolut', 'REVOGB21', '730', '180', ['GB', 'IE']),
  institution('N26_NTSBDEB1', 'N26 Bank', 'NTSBDEB1', '90', '180', [
    'DE',
    'AT',
    'FR',
    'ES',
    'IT',
    'NL',
    'GB',
  ]),
  institution('DEUTSCHE_BANK_DEUTDEFF', 'Deutsche Bank', 'DEUTDEFF', '540', '180', ['DE']),
  institution('SANDBOXFINANCE_SFIN0000', 'Sandbox Finance', 'SFIN0000', '90', '90', ['XX']),
];

/** Countries GoCardless covers (EEA and the UK), and the sandbox's XX. */
const COVERED = new Set(
  'AT BE BG HR CY CZ DK EE FI FR DE GR HU IS IE IT LV LI LT LU MT NL NO PL PT RO SK SI ES SE GB XX'.split(
    ' ',
  ),
);

interface FakeAgreement {
  id: string;
  created: string;
  institution_id: string;
  max_historical_days: number;
  access_valid_for_days: number;
  access_scope: string[];
  accepted: string | null;
  reconfirmation: boolean;
}

interface FakeRequisition {
  id: string;
  created: string;
  redirect: string;
  status: string;
  institution_id: string;
  agreement: string | null;
  reference: string;
  accounts: string[];
  user_language: string;
  link: string;
  ssn: string | null;
  account_selection: boolean;
  redirect_immediate: boolean;
}

interface FakeAccount {
  id: string;
  requisition: string;
  metadata: Json;
  details: Json;
  balances: Json[];
  booked: Json[];
  pending: Json[];
}

export interface Injection {
  method?: string;
  /** The request path (without query) equals this, or matches it. */
  path: string | RegExp;
  /** How many matching requests are answered normally before it applies (default 0). */
  after?: number;
  /** How many requests it answers (default 1). */
  times?: number;
  /** The answer; absent with `delayMs` set: the normal answer, late. */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** A fault below HTTP instead: a body that is not JSON, a reset connection, a body that never ends. */
  wire?: WireFault;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  authorization: string | undefined;
  /** The status the fake answered. */
  status?: number;
}

export interface FakeOptions {
  now?: () => Date;
  /** Seconds an access token lives (GoCardless: 86400). */
  accessExpires?: number;
  /** Seconds a refresh token lives (GoCardless: 2592000, 30 days). */
  refreshExpires?: number;
  /** The bank's daily limit per account and scope (GoCardless: as few as 4). */
  dailyAccountLimit?: number;
}

const DAY_MS = 86_400_000;
const NOT_FOUND = { summary: 'Not found.', detail: 'Not found.', status_code: 404 };
const INVALID_TOKEN = { summary: 'Invalid token', detail: 'Token is invalid or expired', status_code: 401 };

export class FakeGoCardless {
  readonly requests: RecordedRequest[] = [];
  readonly institutions = INSTITUTIONS.map((i) => ({ ...i }));
  readonly agreements = new Map<string, FakeAgreement>();
  readonly requisitions = new Map<string, FakeRequisition>();
  readonly accounts = new Map<string, FakeAccount>();
  /** Every token the fake has issued, for the tests' leak checks. */
  readonly issuedTokens: string[] = [];
  url = '';

  /** The service's environment variables that point its GoCardless provider at this fake. */
  serviceEnv(): Record<string, string> {
    return {
      GOCARDLESS_SECRET_ID: SECRET_ID,
      GOCARDLESS_SECRET_KEY: SECRET_KEY,
      GOCARDLESS_BASE_URL: this.url,
    };
  }

  private readonly now: () => Date;
  private readonly accessExpires: number;
  private readonly refreshExpires: number;
  private readonly dailyAccountLimit: number;
  private readonly accessTokens = new Map<string, number>();
  private readonly refreshTokens = new Map<string, number>();
  private readonly injections: Injection[] = [];
  private readonly usage = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private server: Server | null = null;

  private constructor(options: FakeOptions) {
    this.now = options.now ?? (() => new Date());
    this.accessExpires = options.accessExpires ?? 86_400;
    this.refreshExpires = options.refreshExpires ?? 2_592_000;
    this.dailyAccountLimit = options.dailyAccountLimit ?? 4;
    this.seed();
  }

  static async start(options: FakeOptions = {}): Promise<FakeGoCardless> {
    const fake = new FakeGoCardless(options);
    const server = createServer((req, res) => {
      fake.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ summary: 'Fake failure', detail: String(error), status_code: 500 }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake.server = server;
    fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return fake;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const server = this.server;
    if (!server) return;
    this.server = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Answers the next matching request(s) this way instead. */
  inject(injection: Injection): void {
    this.injections.push({ times: 1, ...injection });
  }

  /** Forgets every injection not yet served. */
  clearInjections(): void {
    this.injections.length = 0;
  }

  /**
   * A new customer who has just consented at the bank: an agreement with all scopes accepted
   * now, a linked requisition, and `accounts` new current accounts, each with `booked` booked
   * transactions (one a day going back from yesterday, all within the agreement's history) and
   * one pending. Answers the requisition id (the `consentId` to connect with) and the accounts.
   */
  addLinkedCustomer(options: { accounts?: number; booked?: number } = {}): {
    requisitionId: string;
    accountIds: string[];
  } {
    const now = this.now();
    const agreement: FakeAgreement = {
      id: randomUUID(),
      created: new Date(now.getTime() - 10 * 60_000).toISOString(),
      institution_id: INSTITUTION_GB,
      max_historical_days: 730,
      access_valid_for_days: 90,
      access_scope: ['balances', 'details', 'transactions'],
      accepted: now.toISOString(),
      reconfirmation: false,
    };
    this.agreements.set(agreement.id, agreement);
    const requisitionId = randomUUID();
    const accountIds = Array.from({ length: options.accounts ?? 2 }, () => randomUUID());
    this.requisitions.set(requisitionId, {
      id: requisitionId,
      created: agreement.created,
      redirect: 'https://app.example.com/banking/callback',
      status: 'LN',
      institution_id: INSTITUTION_GB,
      agreement: agreement.id,
      reference: `team_demo-${requisitionId.slice(0, 8)}`,
      accounts: accountIds,
      user_language: 'EN',
      link: `https://ob.gocardless.com/psd2/start/${requisitionId}/${INSTITUTION_GB}`,
      ssn: null,
      account_selection: false,
      redirect_immediate: false,
    });
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    accountIds.forEach((id, index) => {
      const number = String(10_000_000 + Math.floor(Math.random() * 89_999_999));
      const iban = `GB${String(10 + index)}BUKB202015${number}`;
      this.accounts.set(id, {
        id,
        requisition: requisitionId,
        metadata: {
          id,
          created: now.toISOString(),
          last_accessed: null,
          iban,
          institution_id: INSTITUTION_GB,
          status: 'READY',
          owner_name: 'Sam Roe',
        },
        details: { iban, currency: 'GBP', name: `Account ${index + 1}`, cashAccountType: 'CACC' },
        balances: [
          {
            balanceAmount: { amount: `${100 + index}.00`, currency: 'GBP' },
            balanceType: 'interimBooked',
            referenceDate: new Date(today).toISOString().slice(0, 10),
          },
        ],
        booked: Array.from({ length: options.booked ?? 20 }, (_, i) => {
          const day = new Date(today - (i + 1) * DAY_MS).toISOString().slice(0, 10);
          return {
            transactionId: `BK-${id.slice(0, 8)}-${i}`,
            bookingDate: day,
            valueDate: day,
            transactionAmount: { amount: `-${(1 + i).toFixed(2)}`, currency: 'GBP' },
            remittanceInformationUnstructured: `CARD PAYMENT ${i}`,
          };
        }),
        pending: [
          {
            valueDate: new Date(today).toISOString().slice(0, 10),
            transactionAmount: { amount: '-7.50', currency: 'GBP' },
            remittanceInformationUnstructured: 'CAFE PENDING',
          },
        ],
      });
    });
    return { requisitionId, accountIds };
  }

  /** Every access token stops working now (as at the end of its 24 hours). */
  expireAccessTokens(): void {
    this.accessTokens.clear();
  }

  /** Every refresh token stops working too: only the secrets get a new pair. */
  expireRefreshTokens(): void {
    this.refreshTokens.clear();
  }

  /** As if the user had consented at the bank: the agreement accepted, the requisition linked. */
  linkRequisition(id: string, accountIds: string[] = []): void {
    const requisition = this.requisitions.get(id);
    if (!requisition) throw new Error(`no requisition ${id}`);
    requisition.status = 'LN';
    requisition.accounts = accountIds;
    const agreement = requisition.agreement ? this.agreements.get(requisition.agreement) : undefined;
    if (agreement) agreement.accepted = this.now().toISOString();
    for (const accountId of accountIds) {
      const account = this.accounts.get(accountId);
      if (account) account.requisition = id;
    }
  }

  /** The recorded requests with this method whose path matches. */
  calls(method: string, path: string | RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && matches(path, r.path));
  }

  // -------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    let body: unknown = null;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return this.send(res, this.record(method, url, null, req), 400, {
          summary: 'JSON parse error',
          detail: 'The request body is not valid JSON',
          status_code: 400,
        });
      }
    }
    const recorded = this.record(method, url, body, req);

    const injection = this.injections.find(
      (i) => (i.times ?? 1) > 0 && (!i.method || i.method === method) && matches(i.path, url.pathname),
    );
    if (injection && (injection.after ?? 0) > 0) {
      injection.after = (injection.after ?? 0) - 1;
    } else if (injection) {
      injection.times = (injection.times ?? 1) - 1;
      if (injection.delayMs) await this.sleep(injection.delayMs);
      if (res.destroyed) return;
      if (injection.wire) {
        recorded.status = serveWireFault(res, injection.wire);
        return;
      }
      if (injection.status !== undefined) {
        return this.send(res, recorded, injection.status, injection.body ?? null, injection.headers);
      }
    }
    const [status, answer, headers] = this.route(method, url, body, req.headers.authorization);
    this.send(res, recorded, status, answer, headers);
  }

  private record(method: string, url: URL, body: unknown, req: IncomingMessage): RecordedRequest {
    const recorded: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      authorization: req.headers.authorization,
    };
    this.requests.push(recorded);
    return recorded;
  }

  private send(
    res: ServerResponse,
    recorded: RecordedRequest,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    if (res.destroyed) return;
    recorded.status = status;
    const text = body === null ? '' : JSON.stringify(body);
    res.writeHead(status, {
      ...this.generalLimitHeaders(),
      ...headers,
      ...(text ? { 'content-type': 'application/json' } : {}),
    });
    res.end(text);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  /** The API-wide limit headers GoCardless sends on every answer (a per-minute window here). */
  private generalLimitHeaders(): Record<string, string> {
    const now = this.now();
    const minute = Math.floor(now.getTime() / 60_000);
    const used = this.requests.filter((r) => r.authorization !== undefined).length % 100;
    return {
      HTTP_X_RATELIMIT_LIMIT: '100',
      HTTP_X_RATELIMIT_REMAINING: String(Math.max(0, 100 - used)),
      HTTP_X_RATELIMIT_RESET: String(Math.ceil(((minute + 1) * 60_000 - now.getTime()) / 1000)),
    };
  }

  private route(
    method: string,
    url: URL,
    body: unknown,
    authorization: string | undefined,
  ): [number, unknown, Record<string, string>?] {
    const path = url.pathname;
    if (method === 'POST' && path === '/api/v2/token/new/') return this.newToken(body);
    if (method === 'POST' && path === '/api/v2/token/refresh/') return this.refreshToken(body);

    if (!authorization) {
      return [
        401,
        {
          summary: 'Authentication credentials were not provided.',
          detail: 'Authentication credentials were not provided.',
          status_code: 401,
        },
      ];
    }
    const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
    const until = token ? this.accessTokens.get(token) : undefined;
    if (until === undefined || until <= this.now().getTime()) return [401, INVALID_TOKEN];

    if (method === 'GET' && path === '/api/v2/institutions/') return this.listInstitutions(url);
    const institutionMatch = /^\/api\/v2\/institutions\/([^/]+)\/$/.exec(path);
    if (institutionMatch && method === 'GET') {
      const found = this.institutions.find((i) => i.id === decodeURIComponent(institutionMatch[1] ?? ''));
      return found ? [200, found] : [404, NOT_FOUND];
    }
    if (method === 'POST' && path === '/api/v2/agreements/enduser/') return this.createAgreement(body);
    const agreementMatch = /^\/api\/v2\/agreements\/enduser\/([^/]+)\/$/.exec(path);
    if (agreementMatch) {
      const agreement = this.agreements.get(agreementMatch[1] ?? '');
      if (!agreement) return [404, NOT_FOUND];
      if (method === 'GET') return [200, agreement];
      if (method === 'DELETE') {
        this.agreements.delete(agreement.id);
        return [
          200,
          { summary: 'End User Agreement deleted', detail: `End User Agreement ${agreement.id} deleted` },
        ];
      }
    }
    if (method === 'POST' && path === '/api/v2/requisitions/') return this.createRequisition(body);
    const requisitionMatch = /^\/api\/v2\/requisitions\/([^/]+)\/$/.exec(path);
    if (requisitionMatch) {
      const requisition = this.requisitions.get(requisitionMatch[1] ?? '');
      if (!requisition) return [404, NOT_FOUND];
      if (method === 'GET') return [200, requisition];
      if (method === 'DELETE') {
        this.requisitions.delete(requisition.id);
        if (requisition.agreement) this.agreements.delete(requisition.agreement);
        for (const id of requisition.accounts) this.accounts.delete(id);
        return [
          200,
          {
            summary: 'Requisition deleted',
            detail: `Requisition ${requisition.id} deleted with all its End User Agreements`,
          },
        ];
      }
    }
    const accountMatch = /^\/api\/v2\/accounts\/([^/]+)\/(?:(details|balances|transactions)\/)?$/.exec(path);
    if (accountMatch && method === 'GET') return this.account(accountMatch[1] ?? '', accountMatch[2], url);
    return [404, NOT_FOUND];
  }

  private newToken(body: unknown): [number, unknown] {
    const { secret_id, secret_key } = (body ?? {}) as Json;
    const missing: Json = {};
    if (typeof secret_id !== 'string' || !secret_id) missing.secret_id = ['This field is required.'];
    if (typeof secret_key !== 'string' || !secret_key) missing.secret_key = ['This field is required.'];
    if (Object.keys(missing).length > 0) return [400, { ...missing, status_code: 400 }];
    if (secret_id !== SECRET_ID || secret_key !== SECRET_KEY) {
      return [
        401,
        {
          summary: 'Authentication failed',
          detail: 'No active account found with the given credentials',
          status_code: 401,
        },
      ];
    }
    const access = this.token('access', this.accessExpires);
    const refresh = this.token('refresh', this.refreshExpires);
    this.accessTokens.set(access, this.now().getTime() + this.accessExpires * 1000);
    this.refreshTokens.set(refresh, this.now().getTime() + this.refreshExpires * 1000);
    return [
      200,
      { access, access_expires: this.accessExpires, refresh, refresh_expires: this.refreshExpires },
    ];
  }

  private refreshToken(body: unknown): [number, unknown] {
    const { refresh } = (body ?? {}) as Json;
    if (typeof refresh !== 'string' || !refresh) {
      return [400, { refresh: ['This field is required.'], status_code: 400 }];
    }
    const until = this.refreshTokens.get(refresh);
    if (until === undefined || until <= this.now().getTime()) return [401, INVALID_TOKEN];
    const access = this.token('access', this.accessExpires);
    this.accessTokens.set(access, this.now().getTime() + this.accessExpires * 1000);
    return [200, { access, access_expires: this.accessExpires }];
  }

  /** A JWT-shaped token, as GoCardless issues. */
  private token(type: string, seconds: number): string {
    const encode = (value: Json) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const exp = Math.floor(this.now().getTime() / 1000) + seconds;
    const token = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ token_type: type, exp, jti: randomUUID() })}.${randomBytes(24).toString('base64url')}`;
    this.issuedTokens.push(token);
    return token;
  }

  private listInstitutions(url: URL): [number, unknown] {
    const country = url.searchParams.get('country');
    if (country === null) return [200, this.institutions];
    if (!COVERED.has(country.toUpperCase())) {
      return [
        400,
        {
          country: { summary: 'Invalid country choice.', detail: `${country} is not a valid choice.` },
          status_code: 400,
        },
      ];
    }
    return [200, this.institutions.filter((i) => i.countries.includes(country.toUpperCase()))];
  }

  private createAgreement(body: unknown): [number, unknown] {
    const input = (body ?? {}) as Json;
    const errors: Json = {};
    const found = this.institutions.find((i) => i.id === input.institution_id);
    if (typeof input.institution_id !== 'string' || !input.institution_id) {
      errors.institution_id = ['This field is required.'];
    } else if (!found) {
      errors.institution_id = {
        summary: `Unknown Institution ID ${input.institution_id}`,
        detail: 'Get Institution IDs from /institutions/?country={$COUNTRY_CODE}',
      };
    }
    const totalDays = Number(found?.transaction_total_days ?? 90);
    const history = input.max_historical_days ?? 90;
    if (!Number.isInteger(history) || (history as number) < 1 || (history as number) > totalDays) {
      errors.max_historical_days = {
        summary: 'Incorrect max_historical_days',
        detail: `max_historical_days must be > 0 and <= ${found?.id ?? 'institution'} transaction_total_days (${totalDays})`,
      };
    }
    const maxAccess = Math.min(180, Number(found?.max_access_valid_for_days ?? 180));
    const access = input.access_valid_for_days ?? 90;
    if (!Number.isInteger(access) || (access as number) < 1 || (access as number) > maxAccess) {
      errors.access_valid_for_days = {
        summary: 'Incorrect access_valid_for_days',
        detail: `access_valid_for_days must be > 0 and <= ${maxAccess}`,
      };
    }
    const scope = input.access_scope ?? ['balances', 'details', 'transactions'];
    const allowed = ['balances', 'details', 'transactions'];
    if (
      !Array.isArray(scope) ||
      scope.length === 0 ||
      new Set(scope).size !== scope.length ||
      !scope.every((s) => allowed.includes(s))
    ) {
      errors.access_scope = {
        summary: 'Unknown value in access_scope',
        detail: 'Choose one or several from [balances, details, transactions]',
      };
    }
    const unknown = Object.keys(input).filter(
      (k) =>
        ![
          'institution_id',
          'max_historical_days',
          'access_valid_for_days',
          'access_scope',
          'reconfirmation',
        ].includes(k),
    );
    for (const key of unknown) errors[key] = [`Unexpected field ${key}`];
    if (Object.keys(errors).length > 0) return [400, { ...errors, status_code: 400 }];
    const agreement: FakeAgreement = {
      id: randomUUID(),
      created: this.now().toISOString(),
      institution_id: input.institution_id as string,
      max_historical_days: history as number,
      access_valid_for_days: access as number,
      access_scope: scope as string[],
      accepted: null,
      reconfirmation: false,
    };
    this.agreements.set(agreement.id, agreement);
    return [201, agreement];
  }

  private createRequisition(body: unknown): [number, unknown] {
    const input = (body ?? {}) as Json;
    const errors: Json = {};
    if (typeof input.redirect !== 'string' || !/^https?:\/\/\S+$/.test(input.redirect)) {
      errors.redirect = ['Enter a valid URL.'];
    }
    const found = this.institutions.find((i) => i.id === input.institution_id);
    if (typeof input.institution_id !== 'string' || !input.institution_id) {
      errors.institution_id = ['This field may not be blank.'];
    } else if (!found) {
      errors.institution_id = {
        summary: `Unknown Institution ID ${input.institution_id}`,
        detail: 'Get Institution IDs from /institutions/?country={$COUNTRY_CODE}',
      };
    }
    if (typeof input.reference !== 'string' || !input.reference.trim()) {
      errors.reference = ['This field may not be blank.'];
    } else if ([...this.requisitions.values()].some((r) => r.reference === input.reference)) {
      errors.reference = {
        summary: 'Reference already exists',
        detail: `Requisition with reference '${input.reference}' already exists. Provide a unique reference`,
      };
    }
    const agreement = typeof input.agreement === 'string' ? this.agreements.get(input.agreement) : undefined;
    if (input.agreement !== undefined && input.agreement !== null && !agreement) {
      errors.agreement = {
        summary: 'Invalid EndUserAgreement ID',
        detail: `${String(input.agreement)} is not a valid EndUserAgreement UUID. `,
      };
    } else if (agreement && agreement.institution_id !== input.institution_id) {
      errors.agreement = {
        summary: 'Incorrect Institution ID ',
        detail: `Provided Institution ID: '${String(input.institution_id)}' for requisition does not match EUA institution ID '${agreement.institution_id}'. Please provide correct institution ID: '${agreement.institution_id}'`,
      };
    }
    if (input.user_language !== undefined && !/^[A-Za-z]{2}$/.test(String(input.user_language))) {
      errors.user_language = {
        summary: 'Provided user_language is invalid or not supported',
        detail: `'${String(input.user_language)}' is an invalid or unsupported language`,
      };
    }
    if (Object.keys(errors).length > 0) return [400, { ...errors, status_code: 400 }];
    const id = randomUUID();
    const requisition: FakeRequisition = {
      id,
      created: this.now().toISOString(),
      redirect: input.redirect as string,
      status: 'CR',
      institution_id: input.institution_id as string,
      agreement: agreement?.id ?? null,
      reference: input.reference as string,
      accounts: [],
      user_language: typeof input.user_language === 'string' ? input.user_language.toUpperCase() : 'EN',
      link: `https://ob.gocardless.com/psd2/start/${id}/${String(input.institution_id)}`,
      ssn: null,
      account_selection: false,
      redirect_immediate: false,
    };
    this.requisitions.set(id, requisition);
    return [201, requisition];
  }

  /** GET /accounts/{id}/ (metadata), and its details, balances and transactions. */
  private account(
    id: string,
    part: string | undefined,
    url: URL,
  ): [number, unknown, Record<string, string>?] {
    const account = this.accounts.get(id);
    if (!account) {
      return [
        404,
        {
          summary: `Account ID ${id} not found`,
          detail: 'Please check whether you specified a valid Account ID',
          status_code: 404,
        },
      ];
    }
    if (part === undefined) return [200, account.metadata];

    const requisition = this.requisitions.get(account.requisition);
    const agreement = requisition?.agreement ? this.agreements.get(requisition.agreement) : undefined;
    const now = this.now();
    if (requisition?.status === 'SU') {
      return [
        409,
        {
          summary: 'Account suspended',
          detail:
            'This account or its requisition was suspended due to numerous errors that occurred while accessing it.',
          status_code: 409,
        },
      ];
    }
    const expiredAt =
      agreement?.accepted != null
        ? new Date(Date.parse(agreement.accepted) + agreement.access_valid_for_days * DAY_MS)
        : null;
    if (requisition?.status === 'EX' || (expiredAt && expiredAt <= now)) {
      return [
        401,
        {
          summary: `End User Agreement (EUA) ${agreement?.id ?? ''} has expired`,
          detail: `EUA was valid for ${agreement?.access_valid_for_days ?? 90} days and it expired at ${expiredAt?.toISOString() ?? 'an earlier date'}. The end user must reconnect the account.`,
          status_code: 401,
        },
      ];
    }
    const scope = part === 'details' ? 'details' : part;
    if (agreement && !agreement.access_scope.includes(scope)) {
      return [
        403,
        {
          summary: 'Insufficient access scope',
          detail: `The end user agreement does not grant access to ${scope}`,
          status_code: 403,
        },
      ];
    }

    // The bank's limit: a few successful calls a day per account and scope.
    const day = now.toISOString().slice(0, 10);
    const key = `${day}/${id}/${scope}`;
    const used = this.usage.get(key) ?? 0;
    const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) + DAY_MS;
    const resetSeconds = Math.ceil((midnight - now.getTime()) / 1000);
    const limitHeaders = (remaining: number) =>
      accountLimitHeaders(this.dailyAccountLimit, Math.max(0, remaining), resetSeconds);
    if (used >= this.dailyAccountLimit) {
      const { status, body, headers } = dailyLimitExceeded(this.dailyAccountLimit, resetSeconds);
      return [status, body, headers];
    }

    let answer: unknown;
    if (part === 'details') answer = { account: account.details };
    else if (part === 'balances') answer = { balances: account.balances };
    else {
      const range = this.dateRange(url, agreement?.max_historical_days ?? 90);
      if ('error' in range) return [400, range.error];
      const inRange = (t: Json) => {
        const date = String(t.bookingDate ?? t.valueDate ?? '');
        return date >= range.from && date <= range.to;
      };
      answer = {
        transactions: { booked: account.booked.filter(inRange), pending: account.pending },
        last_updated: now.toISOString(),
      };
    }
    this.usage.set(key, used + 1);
    return [200, answer, limitHeaders(this.dailyAccountLimit - used - 1)];
  }

  /** `date_from` / `date_to` as GoCardless checks them; history limited by the agreement. */
  private dateRange(url: URL, maxHistoricalDays: number): { from: string; to: string } | { error: Json } {
    const now = this.now();
    const today = now.toISOString().slice(0, 10);
    const earliest = new Date(
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - maxHistoricalDays * DAY_MS,
    )
      .toISOString()
      .slice(0, 10);
    const errors: Json = {};
    const read = (name: 'date_from' | 'date_to', fallback: string) => {
      const value = url.searchParams.get(name);
      if (value === null) return fallback;
      if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) {
        errors[name] = {
          summary: 'Invalid date format',
          detail: `'${value}' is not a valid date. Use YYYY-MM-DD format`,
        };
      } else if (value > today) {
        errors[name] = {
          summary: "Date can't be in future",
          detail: `'${value}' can't be greater than ${today}. Specify correct date range`,
        };
      }
      return value;
    };
    const from = read('date_from', earliest);
    const to = read('date_to', today);
    if (Object.keys(errors).length > 0) return { error: { ...errors, status_code: 400 } };
    if (from > to) {
      return {
        error: {
          summary: 'Incorrect date range',
          detail: `Starting date '${from}' is greater than end date '${to}'. When specifying date range, starting date must precede the end date.`,
          status_code: 400,
        },
      };
    }
    // Nothing older than the agreement's history is given.
    if (from < earliest) return { from: earliest, to };
    return { from, to };
  }

  // -------------------------------------------------------------------------------------------
  // Fixtures

  private seed(): void {
    const agreement = (
      id: string,
      accepted: string,
      days: number,
      history: number,
      scope: string[],
    ): FakeAgreement => ({
      id,
      created: new Date(Date.parse(accepted) - 10 * 60_000).toISOString(),
      institution_id: INSTITUTION_GB,
      max_historical_days: history,
      access_valid_for_days: days,
      access_scope: scope,
      accepted,
      reconfirmation: false,
    });
    const requisition = (
      id: string,
      status: string,
      agreementId: string | null,
      accounts: string[],
      created = '2026-11-01T09:20:00.000Z',
    ): FakeRequisition => ({
      id,
      created,
      redirect: 'https://app.example.com/banking/callback',
      status,
      institution_id: INSTITUTION_GB,
      agreement: agreementId,
      reference: `team_demo-${id.slice(0, 8)}`,
      accounts,
      user_language: 'EN',
      link: `https://ob.gocardless.com/psd2/start/${id}/${INSTITUTION_GB}`,
      ssn: null,
      account_selection: false,
      redirect_immediate: false,
    });
    const all = ['balances', 'details', 'transactions'];
    for (const a of [
      agreement(AGR_LINKED, '2026-11-01T09:30:00.000Z', 90, 730, all),
      agreement(AGR_NARROW, '2026-11-20T08:00:00.000Z', 30, 90, ['balances', 'details']),
      agreement(AGR_EXPIRED, '2026-06-01T12:00:00.000Z', 90, 90, all),
    ]) {
      this.agreements.set(a.id, a);
    }
    for (const r of [
      requisition(REQ_LINKED, 'LN', AGR_LINKED, [ACC_CURRENT, ACC_SAVINGS]),
      requisition(REQ_NARROW, 'LN', AGR_NARROW, [ACC_CURRENT]),
      requisition(REQ_EXPIRED, 'EX', AGR_EXPIRED, [ACC_EXPIRED], '2026-06-01T11:50:00.000Z'),
      requisition(REQ_REJECTED, 'RJ', null, []),
      requisition(REQ_SUSPENDED, 'SU', null, [ACC_SUSPENDED]),
      requisition(REQ_CREATED, 'CR', null, []),
      requisition(REQ_DEFAULT_TERMS, 'LN', null, [ACC_DEFAULT], '2026-11-10T07:45:00.000Z'),
    ]) {
      this.requisitions.set(r.id, r);
    }

    const metadata = (id: string, iban: string) => ({
      id,
      created: '2026-11-01T09:31:12.482913Z',
      last_accessed: '2026-11-25T06:02:44.120733Z',
      iban,
      institution_id: INSTITUTION_GB,
      status: 'READY',
      owner_name: 'Jane Doe',
    });

    this.accounts.set(ACC_CURRENT, {
      id: ACC_CURRENT,
      requisition: REQ_LINKED,
      metadata: metadata(ACC_CURRENT, 'GB33BUKB20201555555555'),
      details: {
        resourceId: '4f1c09d2b7e84a8f',
        iban: 'GB33BUKB20201555555555',
        bban: '20201555555555',
        currency: 'GBP',
        ownerName: 'Jane Doe',
        name: 'Main Account',
        product: 'Barclays Bank Account',
        cashAccountType: 'CACC',
        status: 'enabled',
        usage: 'PRIV',
      },
      balances: [
        {
          balanceAmount: { amount: '1250.00', currency: 'GBP' },
          balanceType: 'closingBooked',
          referenceDate: '2026-11-25',
        },
        {
          balanceAmount: { amount: '1682.51', currency: 'GBP' },
          balanceType: 'interimAvailable',
          creditLimitIncluded: true,
          referenceDate: '2026-11-26',
        },
        {
          balanceAmount: { amount: '1187.51', currency: 'GBP' },
          balanceType: 'interimBooked',
          referenceDate: '2026-11-26',
          lastChangeDateTime: '2026-11-26T08:05:31.000Z',
        },
        {
          balanceAmount: { amount: '1115.51', currency: 'GBP' },
          balanceType: 'expected',
          referenceDate: '2026-11-26',
        },
      ],
      booked: [
        {
          transactionId: 'BK20261125-000187',
          internalTransactionId: '0f3c7e21a9b84d55b1e6c2f9a7d0e3b4',
          bookingDate: '2026-11-25',
          valueDate: '2026-11-25',
          transactionAmount: { amount: '-45.20', currency: 'GBP' },
          creditorName: 'TESCO STORES 2041',
          remittanceInformationUnstructured: 'TESCO STORES 2041 LONDON GB',
          bankTransactionCode: 'PMNT-CCRD-POSD',
          proprietaryBankTransactionCode: 'POS',
        },
        {
          transactionId: 'BK20261124-000042',
          bookingDate: '2026-11-24',
          valueDate: '2026-11-24',
          transactionAmount: { amount: '2450.00', currency: 'GBP' },
          debtorName: 'ACME LTD',
          debtorAccount: { iban: 'GB29NWBK60161331926819' },
          remittanceInformationUnstructuredArray: ['SALARY NOV 2026', 'ACME LTD PAYROLL'],
          bankTransactionCode: 'PMNT-RCDT-ESCT',
          proprietaryBankTransactionCode: 'BGC',
        },
        {
          internalTransactionId: '9a4b2c7d1e8f4a3b8c5d6e7f0a1b2c3d',
          bookingDate: '2026-11-20',
          bookingDateTime: '2026-11-20T13:02:11.000Z',
          valueDate: '2026-11-20',
          transactionAmount: { amount: '-9.99', currency: 'GBP' },
          creditorName: 'SPOTIFY',
        },
        {
          bookingDate: '2026-11-18',
          valueDate: '2026-11-18',
          transactionAmount: { amount: '-3.10', currency: 'GBP' },
          remittanceInformationUnstructured: 'PRET A MANGER',
        },
        {
          bookingDate: '2026-11-18',
          valueDate: '2026-11-18',
          transactionAmount: { amount: '-3.10', currency: 'GBP' },
          remittanceInformationUnstructured: 'PRET A MANGER',
        },
        {
          transactionId: 'BK20241001-000003',
          bookingDate: '2024-10-01',
          valueDate: '2024-10-01',
          transactionAmount: { amount: '-120.00', currency: 'GBP' },
          creditorName: 'OLD LANDLORD LTD',
        },
      ],
      pending: [
        {
          valueDate: '2026-11-26',
          transactionAmount: { amount: '-12.00', currency: 'GBP' },
          remittanceInformationUnstructured: 'UBER *TRIP HELP.UBER.COM',
        },
        {
          transactionId: 'PD20261126-000002',
          valueDate: '2026-11-26',
          transactionAmount: { amount: '-60.00', currency: 'GBP' },
          creditorName: 'SHELL PETROL 118',
        },
      ],
    });

    this.accounts.set(ACC_SAVINGS, {
      id: ACC_SAVINGS,
      requisition: REQ_LINKED,
      metadata: metadata(ACC_SAVINGS, 'GB09BUKB20201573849120'),
      details: {
        resourceId: '8e2a55c1d0f94b7e',
        iban: 'GB09BUKB20201573849120',
        currency: 'gbp',
        ownerName: 'Jane Doe',
        product: 'Everyday Saver',
        cashAccountType: 'SVGS',
        status: 'enabled',
      },
      balances: [
        {
          balanceAmount: { amount: '5200.00', currency: 'GBP' },
          balanceType: 'expected',
          referenceDate: '2026-11-26',
        },
        {
          balanceAmount: { amount: '5200.00', currency: 'GBP' },
          balanceType: 'interimAvailable',
          referenceDate: '2026-11-26',
        },
      ],
      booked: [
        {
          transactionId: 'BK20261031-000911',
          bookingDate: '2026-10-31',
          valueDate: '2026-11-01',
          transactionAmount: { amount: '3.27', currency: 'GBP' },
          remittanceInformationUnstructured: 'INTEREST PAID',
          proprietaryBankTransactionCode: 'INT',
        },
      ],
      pending: [],
    });

    const simple = (id: string, requisitionId: string, iban: string): FakeAccount => ({
      id,
      requisition: requisitionId,
      metadata: metadata(id, iban),
      details: { iban, currency: 'GBP', name: 'Old Account', cashAccountType: 'CACC' },
      balances: [{ balanceAmount: { amount: '10.00', currency: 'GBP' }, balanceType: 'closingBooked' }],
      booked: [],
      pending: [],
    });
    this.accounts.set(ACC_EXPIRED, simple(ACC_EXPIRED, REQ_EXPIRED, 'GB85BUKB20201512345678'));
    this.accounts.set(ACC_SUSPENDED, simple(ACC_SUSPENDED, REQ_SUSPENDED, 'GB27BUKB20201587654321'));
    this.accounts.set(ACC_DEFAULT, simple(ACC_DEFAULT, REQ_DEFAULT_TERMS, 'GB12BUKB20201511223344'));
  }
}

/** The documented headers of the per-account limit on successful calls. */
function accountLimitHeaders(limit: number, remaining: number, resetSeconds: number | string) {
  return {
    HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_LIMIT: String(limit),
    HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_REMAINING: String(remaining),
    HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_RESET: String(resetSeconds),
  };
}

/**
 * The answer GoCardless documents once an account's daily limit for a scope is spent: the same
 * 429 body as its API's own limit (summary "Rate limit exceeded", the wait in the detail), with
 * the account limit's headers beside the API's.
 */
export function dailyLimitExceeded(limit: number, resetSeconds: number | string) {
  return {
    status: 429,
    body: {
      summary: 'Rate limit exceeded',
      detail: `The rate limit for this resource is ${limit}/day. Please try again in ${resetSeconds} seconds`,
      status_code: 429,
    },
    headers: accountLimitHeaders(limit, 0, resetSeconds),
  };
}

function matches(pattern: string | RegExp, path: string): boolean {
  return typeof pattern === 'string' ? pattern === path : pattern.test(path);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
