import { type AuditContext, recordAudit } from '../audit/record.js';
import { issueKey } from '../auth/keys.js';
import type { Database } from '../db/client.js';
import { AppError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { Clock } from '../providers/provider.js';
import { insertApiKey, insertTeam, revokeApiKey, teamExists } from './queries.js';

export interface AdminService {
  createTeam(
    input: { name: string; id?: string | undefined },
    context: AuditContext,
  ): Promise<{ teamId: string; apiKey: string; keyId: string }>;
  createKey(teamId: string, context: AuditContext): Promise<{ apiKey: string; keyId: string }>;
  revokeKey(teamId: string, keyId: string, context: AuditContext): Promise<void>;
}

/** `onKeyRevoked` runs after a revocation commits (the guard's key cache forgets the key). */
export function createAdminService(
  db: Database,
  clock: Clock,
  onKeyRevoked: (keyId: string) => void = () => {},
): AdminService {
  return {
    async createTeam({ name, id }, context) {
      const teamId = id ?? newId('team');
      return db.transaction(async (tx) => {
        if (!(await insertTeam(tx, { id: teamId, name }))) {
          throw new AppError('TEAM_EXISTS', `Team ${teamId} already exists.`);
        }
        const key = issueKey();
        await insertApiKey(tx, { teamId, id: key.keyId, keyHash: key.keyHash });
        const now = clock();
        await recordAudit(
          tx,
          context,
          { teamId, action: 'team.created', targetType: 'team', targetId: teamId, details: { name } },
          now,
        );
        // The first key is a key like any other: its creation is on record for when it is revoked.
        await recordAudit(
          tx,
          context,
          { teamId, action: 'api_key.created', targetType: 'api_key', targetId: key.keyId },
          now,
        );
        return { teamId, apiKey: key.apiKey, keyId: key.keyId };
      });
    },

    async createKey(teamId, context) {
      return db.transaction(async (tx) => {
        if (!(await teamExists(tx, teamId))) throw notFound('Team');
        const key = issueKey();
        await insertApiKey(tx, { teamId, id: key.keyId, keyHash: key.keyHash });
        await recordAudit(
          tx,
          context,
          { teamId, action: 'api_key.created', targetType: 'api_key', targetId: key.keyId },
          clock(),
        );
        return { apiKey: key.apiKey, keyId: key.keyId };
      });
    },

    async revokeKey(teamId, keyId, context) {
      await db.transaction(async (tx) => {
        const now = clock();
        const outcome = await revokeApiKey(tx, teamId, keyId, now);
        if (outcome === 'not_found') throw notFound('API key');
        if (outcome === 'revoked') {
          await recordAudit(
            tx,
            context,
            { teamId, action: 'api_key.revoked', targetType: 'api_key', targetId: keyId },
            now,
          );
        }
      });
      onKeyRevoked(keyId);
    },
  };
}
