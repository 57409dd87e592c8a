import { createScheduler } from '../../src/banking/sync/scheduler.js';
import { createSyncService } from '../../src/banking/sync/service.js';
import type { Database } from '../../src/db/client.js';
import { createProviderRegistry } from '../../src/providers/registry.js';
import { SandboxProvider } from '../../src/providers/sandbox/index.js';
import { NO_SECRET_BOX } from '../../src/secrets.js';
import type { TestClock } from './app.js';

const HOUR = 3_600_000;
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * A background scheduler of the sandbox bank on `db`, as another instance of the service would
 * run it: syncs every 6 h on `clock`, polled by `runOnce`, silent unless given a `log`.
 */
export function sandboxScheduler(
  db: Database,
  clock: TestClock,
  maxFailures = 3,
  log: Parameters<typeof createScheduler>[0]['log'] = quiet,
) {
  const sync = createSyncService({
    db,
    providers: createProviderRegistry([new SandboxProvider({ clock: clock.now })]),
    clock: clock.now,
    secrets: NO_SECRET_BOX,
    syncIntervalMs: 6 * HOUR,
  });
  return createScheduler({
    db,
    sync,
    clock: clock.now,
    pollMs: 60_000,
    syncIntervalMs: 6 * HOUR,
    maxFailures,
    retryBaseMs: 60_000,
    log,
  });
}
