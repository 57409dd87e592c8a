import type { Scenario } from '../lib/types.js';
import { ingest } from './ingest.js';
import { readLatency } from './read-latency.js';
import { readThroughput } from './read-throughput.js';
import { resync } from './resync.js';
import { scheduler } from './scheduler.js';
import { syncMemory } from './sync-memory.js';

/**
 * Every scenario of `npm run bench`, in the order they run; a new one is a module in this
 * folder added here. Each starts on the same freshly emptied database.
 */
export const SCENARIOS: Scenario[] = [ingest, syncMemory, resync, scheduler, readLatency, readThroughput];
