/**
 * Helpers for the API tests: an app per suite, the shapes the contract promises, assertions on
 * problem+json errors, money and dates, the list and sync calls, and paging through `Link`.
 * What only the security, admin and hostile-input tests need is in `security.ts`.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect } from 'vitest';
import { startTestApp, type Team, type TestApp, type TestAppOptions } from './app.js';

export const DAY_MS = 86_400_000;

/** An answer within `ms`, or the text `'no answer'`: a request that hangs fails the test, not the run. */
export const within = <T>(ms: number, answer: Promise<T>) =>
  Promise.race([answer, new Promise<'no answer'>((resolve) => setTimeout(() => resolve('no answer'), ms))]);
export const SCOPES = ['accounts', 'balances', 'transactions'] as const;

/** A JSON object whose shape the test does not spell out. */
export type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Setup

/**
 * Starts an app on a fresh database before the tests of the enclosing `describe` and drops it
 * after them. The object returned is filled in by `beforeAll`: use it in hooks and tests only.
 */
export function useTestApp(options: TestAppOptions = {}): TestApp {
  const t = {} as TestApp;
  let started: TestApp | undefined;
  beforeAll(async () => {
    started = await startTestApp(options);
    Object.assign(t, started);
  });
  afterAll(() => started?.close());
  return t;
}

export interface ConsentBody {
  id: string;
  status: 'AUTHORIZED' | 'REVOKED';
  scopes: string[];
  expiresAt: string;
  revokedAt: string | null;
  createdAt: string;
}

export interface ConnectionBody {
  id: string;
  teamId: string;
  provider: string;
  providerId: string;
  status: 'ACTIVE' | 'DISCONNECTED';
  consents: ConsentBody[];
  createdAt: string;
  updatedAt: string;
  lastSyncedAt: string | null;
  lastSyncStatus: 'SUCCEEDED' | 'FAILED' | null;
  lastSyncError: string | null;
  consentExpiresSoon: boolean;
  consentExpired: boolean;
}

/** The answer of `POST /api/banking/sync`: the connection and what the sync changed. */
export interface SyncBody extends ConnectionBody {
  sync: {
    accountsAdded: number;
    accountsUpdated: number;
    transactionsAdded: number;
    transactionsUpdated: number;
    transactionsRemoved: number;
  };
}

/** The summary of a sync that found nothing new. */
export const NOTHING_CHANGED: SyncBody['sync'] = {
  accountsAdded: 0,
  accountsUpdated: 0,
  transactionsAdded: 0,
  transactionsUpdated: 0,
  transactionsRemoved: 0,
};

export interface AccountBody {
  id: string;
  connectionId: string;
  accountName: string;
  accountNumber: string | null;
  sortCode: string | null;
  currency: string;
  type: 'CHECKING' | 'SAVINGS' | 'CREDIT' | 'INVESTMENT';
  balance: number;
  availableBalance: number | null;
  connection: { id: string; provider: string; status: string };
}

export interface RecentTransactionBody {
  id: string;
  amount: number;
  currency: string;
  description: string;
  transactionDate: string;
  type: 'CREDIT' | 'DEBIT';
  category: string | null;
  status: 'BOOKED' | 'PENDING';
}

export interface AccountDetailsBody extends AccountBody {
  transactionCount: number;
  recentTransactions: RecentTransactionBody[];
}

export interface TransactionBody extends RecentTransactionBody {
  accountId: string;
  connectionId: string;
  account: {
    id: string;
    accountName: string;
    accountNumber: string | null;
    connection: { id: string; provider: string };
  };
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: { path: string; message: string; in: string }[];
}

// ---------------------------------------------------------------------------------------------
// Errors

/** A body cut short for assertion messages. */
export const short = (body: string) =>
  body.length > 300 ? `${body.slice(0, 300)}... (${body.length} chars)` : body;

/** Signs of internals leaking: a stack frame, a source path, a driver or framework error. */
const LEAK_PATTERNS: RegExp[] = [
  /\bat\s+[\w$.<>[\] ]*\(?(?:file:\/\/|node:|\/)[^\s)]*:\d+:\d+\)?/,
  /node_modules/,
  /"stack"\s*:/,
  /\.ts:\d+/,
  /\/src\//,
];

export function expectNoStackTrace(body: string) {
  for (const pattern of LEAK_PATTERNS) {
    expect(body, `response body leaks internals (${pattern}): ${short(body)}`).not.toMatch(pattern);
  }
}

/**
 * Asserts an RFC 9457 problem: the status, `application/problem+json`, `{type, title, status,
 * detail, code}` with `status` equal to the HTTP status and an UPPER_SNAKE `code` (equal to
 * `code` when given), and no stack trace or other internals in the body.
 */
export function expectProblem(response: LightMyRequestResponse, status: number, code?: string): ProblemBody {
  expect(response.statusCode, `expected ${status}, got ${response.statusCode}: ${short(response.body)}`).toBe(
    status,
  );
  expect(
    String(response.headers['content-type']),
    `content-type of a ${response.statusCode}: ${short(response.body)}`,
  ).toMatch(/^application\/problem\+json/);
  expectNoStackTrace(response.body);
  const body = response.json() as ProblemBody;
  expect(typeof body.type).toBe('string');
  expect(body.type.length).toBeGreaterThan(0);
  expect(typeof body.title).toBe('string');
  expect(body.title.length).toBeGreaterThan(0);
  expect(body.status).toBe(status);
  expect(typeof body.detail).toBe('string');
  expect(body.code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  if (code !== undefined) expect(body.code).toBe(code);
  return body;
}

/**
 * Asserts a 400 problem whose `errors[]` (each a string `path` and `message`) names every one of
 * `paths`, in any order. `paths` are JSON pointers such as `/scopes` or `/metadata/sandbox/days`;
 * a reported pointer that also names the request part, `/query/limit`, matches `/limit`, and one
 * below it, `/scopes/0`, matches `/scopes`. Its `detail` lists the same errors, each as
 * `<in> <path> <message>`, whether a schema or the service found them.
 */
export function expectValidationProblem(response: LightMyRequestResponse, paths: string[]): ProblemBody {
  const body = expectProblem(response, 400);
  expect(Array.isArray(body.errors), `errors[] missing: ${short(response.body)}`).toBe(true);
  for (const error of body.errors ?? []) {
    expect(typeof error.path).toBe('string');
    expect(typeof error.message).toBe('string');
    expect(['body', 'query', 'path', 'headers'], `errors[].in: ${short(response.body)}`).toContain(error.in);
  }
  expect(body.detail, 'detail names each field as errors[] does').toBe(
    (body.errors ?? []).map((error) => `${error.in} ${error.path} ${error.message}`).join('; '),
  );
  const reported = (body.errors ?? []).map((error) => error.path);
  for (const path of paths) {
    expect(
      reported.some((p) => p === path || p.endsWith(path) || p.startsWith(`${path}/`)),
      `errors[] should name ${path}; got ${JSON.stringify(reported)}: ${short(response.body)}`,
    ).toBe(true);
  }
  return body;
}

// ---------------------------------------------------------------------------------------------
// Values

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** An ISO 8601 UTC timestamp as the contract writes them (`2026-11-26T10:15:00.000Z`). */
export function expectIsoUtc(value: unknown): asserts value is string {
  expect(typeof value, `timestamp ${String(value)}`).toBe('string');
  expect(value).toMatch(ISO_UTC);
  expect(new Date(value as string).toISOString()).toBe(value);
}

/** A JSON number exact to `decimals` places: no float noise such as 12.340000001. */
export function expectMoney(value: unknown, decimals = 2): asserts value is number {
  expect(typeof value, `money ${String(value)}`).toBe('number');
  const x = value as number;
  expect(Number.isFinite(x)).toBe(true);
  const scale = 10 ** decimals;
  expect(Number.isInteger(Math.round(x * scale))).toBe(true);
  expect(Math.round(x * scale) / scale, `money ${x}`).toBe(x);
  const fraction = String(x).split('.')[1] ?? '';
  expect(String(x)).not.toMatch(/e/i);
  expect(fraction.length, `money ${x}`).toBeLessThanOrEqual(decimals);
}

/** Minor-unit digits of the currencies the sandbox uses (ISO 4217). */
export const MINOR_DIGITS: Record<string, number> = { GBP: 2, EUR: 2 };

/** True for an IBAN in electronic form (no spaces, upper case) with right check digits. */
export function isValidIban(iban: string): boolean {
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const rearranged = `${iban.slice(4)}${iban.slice(0, 4)}`;
  let remainder = 0;
  for (const char of rearranged) {
    const digits = /[0-9]/.test(char) ? char : String(char.charCodeAt(0) - 55);
    for (const digit of digits) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

/** The UTC date (`YYYY-MM-DD`) of an instant. */
export const utcDate = (at: Date | string | number) => new Date(at).toISOString().slice(0, 10);

/** Moves the test clock by whole minutes (so that records made one after the other differ). */
export function tick(t: TestApp, minutes = 1) {
  t.clock.advanceDays(minutes / 1440);
}

// ---------------------------------------------------------------------------------------------
// Shapes

export function expectConsentShape(consent: ConsentBody) {
  expect(typeof consent.id).toBe('string');
  expect(consent.id.length).toBeGreaterThan(0);
  expect(['AUTHORIZED', 'REVOKED']).toContain(consent.status);
  expect(Array.isArray(consent.scopes)).toBe(true);
  for (const scope of consent.scopes) expect(SCOPES).toContain(scope);
  expectIsoUtc(consent.expiresAt);
  expect(consent).toHaveProperty('revokedAt');
  if (consent.status === 'AUTHORIZED') expect(consent.revokedAt).toBeNull();
  else expectIsoUtc(consent.revokedAt);
}

export function expectConnectionShape(connection: ConnectionBody, team: Team) {
  expect(typeof connection.id).toBe('string');
  expect(connection.id.length).toBeGreaterThan(0);
  expect(connection.teamId).toBe(team.teamId);
  expect(typeof connection.provider).toBe('string');
  expect(typeof connection.providerId).toBe('string');
  expect(['ACTIVE', 'DISCONNECTED']).toContain(connection.status);
  expect(Array.isArray(connection.consents)).toBe(true);
  for (const consent of connection.consents) expectConsentShape(consent);
}

export function expectAccountShape(account: AccountBody) {
  expect(typeof account.id).toBe('string');
  expect(typeof account.connectionId).toBe('string');
  expect(typeof account.accountName).toBe('string');
  expect(account.accountName.length).toBeGreaterThan(0);
  expect(account).toHaveProperty('accountNumber');
  expect(account.accountNumber === null || typeof account.accountNumber === 'string').toBe(true);
  expect(account).toHaveProperty('sortCode');
  expect(account.sortCode === null || typeof account.sortCode === 'string').toBe(true);
  expect(account.currency).toMatch(/^[A-Z]{3}$/);
  expect(['CHECKING', 'SAVINGS', 'CREDIT', 'INVESTMENT']).toContain(account.type);
  const digits = MINOR_DIGITS[account.currency] ?? 2;
  expectMoney(account.balance, digits);
  expect(account).toHaveProperty('availableBalance');
  if (account.availableBalance !== null) expectMoney(account.availableBalance, digits);
  expect(account.connection).toEqual(
    expect.objectContaining({
      id: account.connectionId,
      provider: expect.any(String),
      status: expect.any(String),
    }),
  );
}

export function expectRecentTransactionShape(transaction: RecentTransactionBody) {
  expect(typeof transaction.id).toBe('string');
  expect(transaction.id.length).toBeGreaterThan(0);
  expectMoney(transaction.amount, MINOR_DIGITS[transaction.currency] ?? 2);
  expect(transaction.amount).toBeGreaterThanOrEqual(0);
  expect(transaction.currency).toMatch(/^[A-Z]{3}$/);
  expect(typeof transaction.description).toBe('string');
  expectIsoUtc(transaction.transactionDate);
  expect(['CREDIT', 'DEBIT']).toContain(transaction.type);
  expect(transaction).toHaveProperty('category');
  expect(transaction.category === null || typeof transaction.category === 'string').toBe(true);
  expect(['BOOKED', 'PENDING']).toContain(transaction.status);
}

export function expectTransactionShape(transaction: TransactionBody) {
  expectRecentTransactionShape(transaction);
  expect(typeof transaction.accountId).toBe('string');
  expect(transaction.account.id).toBe(transaction.accountId);
  expect(typeof transaction.account.accountName).toBe('string');
  expect(transaction.account).toHaveProperty('accountNumber');
  expect(
    transaction.account.accountNumber === null || typeof transaction.account.accountNumber === 'string',
  ).toBe(true);
  expect(typeof transaction.account.connection.id).toBe('string');
  expect(typeof transaction.account.connection.provider).toBe('string');
}

/** Newest first: `transactionDate` desc, then `id` desc. */
export function expectNewestFirst(rows: { id: string; transactionDate: string }[]) {
  for (let i = 1; i < rows.length; i++) {
    const previous = rows[i - 1] as { id: string; transactionDate: string };
    const current = rows[i] as { id: string; transactionDate: string };
    const a = Date.parse(previous.transactionDate);
    const b = Date.parse(current.transactionDate);
    const inOrder = a > b || (a === b && previous.id > current.id);
    expect(
      inOrder,
      `row ${i - 1} (${previous.transactionDate} ${previous.id}) before row ${i} (${current.transactionDate} ${current.id})`,
    ).toBe(true);
  }
}

// ---------------------------------------------------------------------------------------------
// Calls

/** Syncs a connection; expects 200 and returns the connection with its `sync` summary. */
export async function syncConnection(t: TestApp, team: Team, connectionId: string): Promise<SyncBody> {
  const response = await t.as(team).post('/api/banking/sync', { teamId: team.teamId, connectionId });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as SyncBody;
}

/** The team's connections; expects 200. */
export async function listConnections(t: TestApp, team: Team): Promise<ConnectionBody[]> {
  const response = await t.as(team).get('/api/banking/connections', { teamId: team.teamId });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as ConnectionBody[];
}

/** The team's accounts (optionally of one connection); expects 200. */
export async function listAccounts(t: TestApp, team: Team, connectionId?: string): Promise<AccountBody[]> {
  const response = await t.as(team).get('/api/banking/accounts', { teamId: team.teamId, connectionId });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as AccountBody[];
}

/**
 * GETs a path with its query string (as found in a `Link` header) with the team's key, through
 * `TestApp.as` so that the response is checked against the OpenAPI document too.
 */
export function getUrl(t: TestApp, team: Team, pathAndQuery: string) {
  return t.as(team).get(pathAndQuery);
}

/**
 * The target of `Link: <url>; rel="next"` as path and query, or null when there is no `Link`.
 * Throws on a `Link` without `rel="next"`.
 */
export function nextLink(response: LightMyRequestResponse | undefined): string | null {
  if (!response) throw new Error('no response');
  const header = response.headers.link;
  if (header === undefined) return null;
  const value = Array.isArray(header) ? header.join(', ') : String(header);
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(value);
  if (!match?.[1]) throw new Error(`Link header without rel="next": ${value}`);
  const url = new URL(match[1], 'http://localhost');
  return `${url.pathname}${url.search}`;
}

/**
 * Every transaction matching `query` (of the team's, without it), in one page of `limit` 5000:
 * expects 200 and asserts there is no next page.
 */
export async function listAllTransactions(
  t: TestApp,
  team: Team,
  query: Record<string, string | number | undefined> = {},
): Promise<TransactionBody[]> {
  const response = await t.as(team).get('/api/banking/transactions', {
    teamId: team.teamId,
    limit: 5000,
    ...query,
  });
  expect(response.statusCode, response.body).toBe(200);
  expect(response.headers.link).toBeUndefined();
  return response.json() as TransactionBody[];
}

/** Follows `Link: rel="next"` from the first page to the last; returns the pages. */
export async function followPages(
  t: TestApp,
  team: Team,
  query: Record<string, string | number>,
): Promise<{ pages: TransactionBody[][]; responses: LightMyRequestResponse[] }> {
  const pages: TransactionBody[][] = [];
  const responses: LightMyRequestResponse[] = [];
  let response = await t.as(team).get('/api/banking/transactions', { teamId: team.teamId, ...query });
  for (;;) {
    expect(response.statusCode, response.body).toBe(200);
    responses.push(response);
    pages.push(response.json() as TransactionBody[]);
    const next = nextLink(response);
    if (!next) break;
    if (pages.length > 10_000) throw new Error('too many pages');
    response = await getUrl(t, team, next);
  }
  return { pages, responses };
}
