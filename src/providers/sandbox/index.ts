export {
  CONSENT_DAYS,
  EXPIRED_PREFIX,
  OUTAGE_PREFIX,
  PAGE_SIZE,
  SandboxProvider,
  type SandboxProviderOptions,
} from './adapter.js';
export { SANDBOX_CATEGORIES, type SandboxCategory } from './catalog.js';
export { HOLD_RATE, PENDING_MS, TIP_RATE } from './generator.js';
export { INSTITUTION_IDS, type InstitutionId, isValidIban } from './institutions.js';
export { DEFAULT_OPTIONS, parseSandboxConfig, type SandboxOptions } from './metadata.js';
