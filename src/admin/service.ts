import { issueKey } from '../auth/keys.js';
import type { Database } from '../db/client.js';
import { AppError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { Clock } from '../providers/provider.js';
import { insertApiKey, insertTeam, revokeApiKey, teamExists } from './queries.js';

export interface AdminService {
  createTeam(input: {
    name: string;
    id?: string | undefined;
  }): Promise<{ teamId: string; apiKey: string; keyId: string }>;
  createKey(teamId: string): Promise<{ apiKey: string; keyId: string }>;
  revokeKey(teamId: string, keyId: string): Promise<void>;
}

export function createAdminService(db: Database, clock: Clock): AdminService {
  return {
    async createTeam({ name, id }) {
      const teamId = id ?? newId('team');
      return db.transaction(async (tx) => {
        if (!(await insertTeam(tx, { id: teamId, name }))) {
          throw new AppError('TEAM_EXISTS', `Team ${teamId} already exists.`);
        }
        const key = issueKey();
        await insertApiKey(tx, { teamId, id: key.keyId, keyHash: key.keyHash });
        return { teamId, apiKey: key.apiKey, keyId: key.keyId };
      });
    },

    async createKey(teamId) {
      return db.transaction(async (tx) => {
        if (!(await teamExists(tx, teamId))) throw notFound('Team');
        const key = issueKey();
        await insertApiKey(tx, { teamId, id: key.keyId, keyHash: key.keyHash });
        return { apiKey: key.apiKey, keyId: key.keyId };
      });
    },

    async revokeKey(teamId, keyId) {
      if (!(await revokeApiKey(db, teamId, keyId, clock()))) throw notFound('API key');
    },
  };
}
