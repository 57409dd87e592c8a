/**
 * A child process that is one service instance: builds the app with `buildApp` on the bench
 * database, creates a team, connects a sandbox bank of one account of `transactions`
 * transactions and syncs it `syncs` times through `app.inject`, measuring the process's peak
 * RSS (`process.resourceUsage().maxRSS`) before the first sync and after each.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { buildApp } from '../../src/app.js';
import type { SyncSummary } from '../../src/banking/sync/service.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/client.js';
import { childInput, describeError, reportToParent } from './child.js';

export interface SyncChildInput {
  databaseUrl: string;
  transactions: number;
  days: number;
  syncs: number;
}

export type { SyncSummary };

export interface SyncChildResult {
  /** Peak RSS (KB) after building the app, creating the team and connecting, before any sync. */
  baselineMaxRssKb: number;
  syncs: { seconds: number; maxRssKb: number; heapUsedBytes: number; summary: SyncSummary }[];
}

const ADMIN_TOKEN = randomBytes(24).toString('hex');

async function main(input: SyncChildInput): Promise<SyncChildResult> {
  const config = loadConfig({
    DATABASE_URL: input.databaseUrl,
    ADMIN_TOKEN,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
    // Only the syncs this process is asked for are measured: no background sync of the
    // connection (a setting older builds do not know, and ignore).
    SCHEDULER_ENABLED: 'false',
  });
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
  });
  // The clock stands still, so that the sandbox bank shows the same data to every sync.
  const frozen = new Date();
  const app = await buildApp({ config, database, clock: () => new Date(frozen) });
  try {
    await app.ready();
    const call = async (url: string, authorization: string, payload: object, status: number) => {
      const response = await app.inject({ method: 'POST', url, headers: { authorization }, payload });
      if (response.statusCode !== status) {
        throw new Error(`POST ${url}: ${response.statusCode} ${response.body.slice(0, 500)}`);
      }
      return response.json();
    };
    const team = (await call('/api/admin/teams', `Bearer ${ADMIN_TOKEN}`, { name: 'Bench' }, 201)) as {
      teamId: string;
      apiKey: string;
    };
    const asTeam = `Bearer ${team.apiKey}`;
    const connection = (await call(
      '/api/banking/connect',
      asTeam,
      {
        teamId: team.teamId,
        provider: 'sandbox',
        providerId: 'sandbox-gb',
        consentId: `bench-${randomBytes(8).toString('hex')}`,
        metadata: { sandbox: { accounts: 1, transactionsPerAccount: input.transactions, days: input.days } },
      },
      201,
    )) as { id: string };

    const baselineMaxRssKb = process.resourceUsage().maxRSS;
    const syncs: SyncChildResult['syncs'] = [];
    for (let i = 0; i < input.syncs; i++) {
      const start = performance.now();
      const body = (await call(
        '/api/banking/sync',
        asTeam,
        { teamId: team.teamId, connectionId: connection.id },
        200,
      )) as { sync: SyncSummary };
      syncs.push({
        seconds: (performance.now() - start) / 1000,
        maxRssKb: process.resourceUsage().maxRSS,
        heapUsedBytes: process.memoryUsage().heapUsed,
        summary: body.sync,
      });
    }
    return { baselineMaxRssKb, syncs };
  } finally {
    await app.close();
    await database.close();
  }
}

main(childInput<SyncChildInput>())
  .then((result) => reportToParent({ result }))
  .catch((error: unknown) => reportToParent({ error: describeError(error) }))
  .finally(() => process.exit(0));
