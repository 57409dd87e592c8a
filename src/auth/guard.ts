import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { ActiveKey, KeyCache } from './key-cache.js';
import { bearerToken, hashSecret, keyIdOf, secretMatches } from './keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The team the request's API key belongs to; set by the team guard. */
    teamId: string;
    /** The id of the API key the request was made with (audit log, rate limits). */
    apiKeyId: string;
  }
}

// Compared against when no key matches, so a miss costs the same as a wrong secret.
const DECOY_HASH = hashSecret('decoy');

/**
 * Every route registered in `app` needs `Authorization: Bearer <api key>` (else 401), and the
 * request's `teamId` (query or body) must be the key's team (else 403). The team check runs
 * before validation so another team learns nothing about the request's other fields.
 */
export function registerTeamGuard(app: FastifyInstance, keys: KeyCache) {
  app.decorateRequest('teamId', '');
  app.decorateRequest('apiKeyId', '');

  // A key found in the cache is checked at once; only a lookup waits on the database.
  app.addHook('onRequest', (request, _reply, done) => {
    const token = bearerToken(request.headers.authorization);
    if (!token)
      return done(new AppError('UNAUTHORIZED', 'Send an API key as `Authorization: Bearer <key>`.'));
    const keyId = keyIdOf(token);
    const cached = keyId ? keys.cached(keyId) : undefined;
    if (!keyId || cached) return done(admit(request, token, cached ?? null));
    keys.find(keyId).then((key) => done(admit(request, token, key)), done);
  });

  app.addHook('preValidation', (request, _reply, done) => {
    if (namesAnotherTeam(request)) {
      return done(new AppError('FORBIDDEN', 'The API key does not belong to this team.'));
    }
    done();
  });
}

/** Sets the request's team and key when `token` is `key`'s secret; the 401 otherwise. */
function admit(request: FastifyRequest, token: string, key: ActiveKey | null): AppError | undefined {
  const matches = secretMatches(token, key?.keyHash ?? DECOY_HASH);
  if (!key || !matches) return new AppError('UNAUTHORIZED', 'The API key is invalid or revoked.');
  request.teamId = key.teamId;
  request.apiKeyId = key.id;
  return undefined;
}

/**
 * Whether the body's `teamId` or the query's names a team other than the key's. Each is checked:
 * a route reads its team from one of them, and a request naming the key's team in one place
 * must not pass while it names another team in the other. A `teamId` given as a list or an object
 * (`?teamId=a&teamId=b`, `?teamId[]=b`, which a route without a query schema would not refuse)
 * names every team it holds: something in front of the service may read another of them.
 */
function namesAnotherTeam(request: FastifyRequest): boolean {
  const fromBody = (request.body as Record<string, unknown> | undefined)?.teamId;
  const query = (request.query ?? {}) as Record<string, unknown>;
  // The query parser keeps `teamId[]=b` and `teamId[0]=b` as keys of their own, as `qs` writes a list.
  const fromQuery = Object.entries(query).flatMap(([key, value]) =>
    key === 'teamId' || key.startsWith('teamId[') ? [value] : [],
  );
  return [fromBody, ...fromQuery].some((named) => teamsNamed(named).some((team) => team !== request.teamId));
}

function teamsNamed(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object') return typeof value === 'string' ? [value] : [];
  return Object.values(value).flatMap(teamsNamed);
}
