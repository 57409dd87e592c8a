/** Parses and validates a sandbox connection's institution and `metadata.sandbox`. */
import { type FieldError, invalidInput, pointerSegment } from '../../errors.js';
import { findInstitution, INSTITUTION_IDS, type Institution } from './institutions.js';

export interface SandboxOptions {
  /** Number of accounts, 1..50. */
  accounts: number;
  /** Exact number of transactions per account over the history days; null: realistic rates. At most `MAX_SANDBOX_TRANSACTIONS` in all. */
  transactionsPerAccount: number | null;
  /** Days of history before the day of connection, 1..3650. */
  days: number;
}

export interface SandboxConfig extends SandboxOptions {
  institution: Institution;
}

export const DEFAULT_OPTIONS: SandboxOptions = { accounts: 3, transactionsPerAccount: null, days: 90 };

const LIMITS = {
  accounts: { min: 1, max: 50 },
  transactionsPerAccount: { min: 0, max: 2_000_000 },
  days: { min: 1, max: 3650 },
} as const satisfies Record<keyof SandboxOptions, { min: number; max: number }>;

/**
 * The most transactions one connection may ask for in all (`accounts` x `transactionsPerAccount`):
 * twice the 1,000,000 rows the sync's memory target is set for (bench/scenarios/sync-memory.ts).
 * The sandbox is on by default, so any team's key can size it; at the per-field limits alone one
 * connect queued a single sync of 100,000,000 rows (a probe's database grew 10 GB in 11 minutes),
 * holding the connection for hours.
 */
export const MAX_SANDBOX_TRANSACTIONS = 2_000_000;

type OptionKey = keyof typeof LIMITS;
const OPTION_KEYS = Object.keys(LIMITS) as OptionKey[];

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Checks the institution and the sandbox options; throws `invalidInput` listing every bad field
 * (`/providerId`, `/metadata/sandbox`, `/metadata/sandbox/<key>`).
 */
export function parseSandboxConfig(input: {
  providerId: string;
  metadata: Record<string, unknown>;
}): SandboxConfig {
  const errors: FieldError[] = [];
  const institution = findInstitution(input.providerId);
  if (!institution) {
    errors.push({
      path: '/providerId',
      in: 'body',
      message: `unknown sandbox institution; expected one of ${INSTITUTION_IDS.join(', ')}`,
    });
  }
  const options = parseOptions(input.metadata?.sandbox, errors);
  if (errors.length > 0 || !institution) throw invalidInput(errors);
  return { institution, ...options };
}

function parseOptions(raw: unknown, errors: FieldError[]): SandboxOptions {
  const options: SandboxOptions = { ...DEFAULT_OPTIONS };
  if (raw === undefined) return options;
  if (!isPlainObject(raw)) {
    errors.push({ path: '/metadata/sandbox', in: 'body', message: 'must be an object' });
    return options;
  }
  for (const key of Object.keys(raw)) {
    if (!(OPTION_KEYS as string[]).includes(key)) {
      errors.push({
        path: `/metadata/sandbox/${pointerSegment(key)}`,
        in: 'body',
        message: `is not allowed; expected only ${OPTION_KEYS.join(', ')}`,
      });
    }
  }
  for (const key of OPTION_KEYS) {
    const value = raw[key];
    if (value === undefined) continue;
    const { min, max } = LIMITS[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      errors.push({
        path: `/metadata/sandbox/${key}`,
        in: 'body',
        message: `must be an integer from ${min} to ${max}`,
      });
      continue;
    }
    options[key] = value;
  }
  const total = options.accounts * (options.transactionsPerAccount ?? 0);
  if (total > MAX_SANDBOX_TRANSACTIONS) {
    errors.push({
      path: '/metadata/sandbox',
      in: 'body',
      message: `asks for ${total} transactions in all (accounts x transactionsPerAccount); at most ${MAX_SANDBOX_TRANSACTIONS}`,
    });
  }
  return options;
}
