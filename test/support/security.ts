import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Team, TestApp } from './app.js';

/**
 * Helpers shared by the security, admin, sync, hostile and persistence API tests: problem+json
 * assertions, raw requests with any Authorization header, and reading a whole paged list.
 */

export type Json = Record<string, unknown>;

/** A body cut short for assertion messages. */
export const short = (body: string) =>
  body.length > 300 ? `${body.slice(0, 300)}... (${body.length} chars)` : body;

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: { path: string; message: string }[];
}

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
 * The response is an RFC 9457 problem: `application/problem+json`, with `type`, `title`,
 * `status` (the HTTP status), `detail` and an UPPER_SNAKE `code`, and no stack trace.
 */
export function expectProblem(response: LightMyRequestResponse, status: number, code?: string): Problem {
  expect(response.statusCode, `expected ${status}, got ${response.statusCode}: ${short(response.body)}`).toBe(
    status,
  );
  expect(
    String(response.headers['content-type']),
    `content-type of a ${response.statusCode}: ${short(response.body)}`,
  ).toMatch(/^application\/problem\+json/);
  expectNoStackTrace(response.body);
  const body = response.json() as Problem;
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

/** A 401 problem that tells the client how to authenticate. */
export function expectUnauthorized(response: LightMyRequestResponse) {
  const body = expectProblem(response, 401);
  expect(String(response.headers['www-authenticate'] ?? '')).toMatch(/^Bearer/i);
  return body;
}

/** A 400 problem whose `errors[]` names every one of `paths` (JSON pointers, in any order). */
export function expectValidationErrors(response: LightMyRequestResponse, paths: string[]) {
  const body = expectProblem(response, 400);
  expect(Array.isArray(body.errors), `errors[] missing: ${short(response.body)}`).toBe(true);
  const named = (body.errors ?? []).map((error) => error.path);
  for (const path of paths) {
    expect(
      named.some((p) => p === path || p.endsWith(path) || p.startsWith(`${path}/`)),
      `errors[] should name ${path}: ${short(response.body)}`,
    ).toBe(true);
  }
  for (const error of body.errors ?? []) expect(typeof error.message).toBe('string');
  return body;
}

/** `Authorization: Bearer <key>` for a team, or any header value (undefined: none at all). */
export const bearer = (key: string) => `Bearer ${key}`;

export interface RawRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  url: string;
  authorization?: string | undefined;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One request with full control of the Authorization header and the body. */
export function send(t: TestApp, request: RawRequest): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...(request.headers ?? {}) };
  if (request.authorization !== undefined) headers.authorization = request.authorization;
  const options: InjectOptions = { method: request.method, url: request.url, headers };
  if (request.query) options.query = request.query;
  if (request.body !== undefined) {
    if (typeof request.body === 'string' || Buffer.isBuffer(request.body)) {
      options.payload = request.body;
    } else {
      options.payload = JSON.stringify(request.body);
      if (!headers['content-type']) headers['content-type'] = 'application/json';
    }
  }
  return t.app.inject(options);
}

/** Issues another API key for a team through the admin API. */
export async function issueKey(t: TestApp, teamId: string, adminToken: string) {
  const response = await send(t, {
    method: 'POST',
    url: `/api/admin/teams/${encodeURIComponent(teamId)}/keys`,
    authorization: bearer(adminToken),
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as { apiKey: string; keyId: string };
}

/** Revokes an API key through the admin API. */
export async function revokeKey(t: TestApp, teamId: string, keyId: string, adminToken: string) {
  return send(t, {
    method: 'DELETE',
    url: `/api/admin/teams/${encodeURIComponent(teamId)}/keys/${encodeURIComponent(keyId)}`,
    authorization: bearer(adminToken),
  });
}

/** The path and query of a `Link: <url>; rel="next"` header, or null. */
export function nextLink(response: LightMyRequestResponse): string | null {
  const link = response.headers.link;
  if (typeof link !== 'string') return null;
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
  if (!match?.[1]) return null;
  const url = new URL(match[1], 'http://localhost');
  return `${url.pathname}${url.search}`;
}

/** Every transaction the query matches, following `Link: rel="next"` across pages. */
export async function allTransactions(
  t: TestApp,
  team: Team,
  query: Record<string, string> = {},
): Promise<Json[]> {
  const params = new URLSearchParams({ teamId: team.teamId, limit: '5000', ...query });
  let url: string | null = `/api/banking/transactions?${params.toString()}`;
  const items: Json[] = [];
  for (let page = 0; url !== null; page++) {
    expect(page, 'too many pages').toBeLessThan(1000);
    const response: LightMyRequestResponse = await t.app.inject({
      method: 'GET',
      url,
      headers: { authorization: bearer(team.apiKey) },
    });
    expect(response.statusCode, response.body).toBe(200);
    items.push(...(response.json() as Json[]));
    url = nextLink(response);
  }
  return items;
}

/** The team's accounts (optionally of one connection); expects 200. */
export async function listAccounts(t: TestApp, team: Team, connectionId?: string): Promise<Json[]> {
  const response = await t.as(team).get('/api/banking/accounts', { teamId: team.teamId, connectionId });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as Json[];
}

/** The team's connections; expects 200. */
export async function listConnections(t: TestApp, team: Team): Promise<Json[]> {
  const response = await t.as(team).get('/api/banking/connections', { teamId: team.teamId });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as Json[];
}

/** Syncs a connection; expects 200 and returns the body with its `sync` summary. */
export async function syncConnection(t: TestApp, team: Team, connectionId: string) {
  const response = await t.as(team).post('/api/banking/sync', { teamId: team.teamId, connectionId });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as Json & {
    id: string;
    status: string;
    sync: {
      accountsAdded: number;
      accountsUpdated: number;
      transactionsAdded: number;
      transactionsUpdated: number;
      transactionsRemoved: number;
    };
  };
}

/** A well-formed but unknown id, as an attacker would guess one. */
export const unknownId = (prefix: string) => `${prefix}_AAAAAAAAAAAAAAAA`;
