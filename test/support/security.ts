/**
 * Helpers of the security, admin and hostile-input tests: raw requests with any Authorization
 * header and body, API keys issued and revoked through the admin API, the 401 problem, and ids to
 * probe with. Problem+json assertions, the list and sync calls are in `fixtures.ts`.
 */
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Team, TestApp } from './app.js';
import { expectProblem } from './fixtures.js';

/** A 401 problem that tells the client how to authenticate. */
export function expectUnauthorized(response: LightMyRequestResponse) {
  const body = expectProblem(response, 401);
  expect(String(response.headers['www-authenticate'] ?? '')).toMatch(/^Bearer/i);
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

/** `GET /api/banking/connections` of `team` with any key (the team's own by default) and headers. */
export function listConnectionsWith(
  t: TestApp,
  team: Team,
  apiKey = team.apiKey,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return send(t, {
    method: 'GET',
    url: '/api/banking/connections',
    authorization: bearer(apiKey),
    query: { teamId: team.teamId },
    headers,
  });
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

/** A well-formed but unknown id, as an attacker would guess one. */
export const unknownId = (prefix: string) => `${prefix}_AAAAAAAAAAAAAAAA`;
