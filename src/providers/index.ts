import type { Config } from '../config.js';
import type { BankProvider, Clock } from './provider.js';
import type { UnavailableProvider } from './registry.js';
import { SandboxProvider } from './sandbox/index.js';

/**
 * The providers this deployment offers, built from its configuration. A provider without
 * credentials, or without an encryption key for the tokens it would store, is listed as
 * unavailable with the reason, and never stops the service from starting.
 */
export function createProviders(config: Config, clock: Clock): (BankProvider | UnavailableProvider)[] {
  const providers: (BankProvider | UnavailableProvider)[] = [];
  if (config.sandboxEnabled) providers.push(new SandboxProvider({ clock }));
  const noKey = config.encryptionKeys
    ? null
    : 'ENCRYPTION_KEY is not set, so its access tokens could not be stored';
  providers.push({
    name: 'gocardless',
    unavailable: config.gocardless
      ? (noKey ?? 'not built into this version')
      : 'GOCARDLESS_SECRET_ID and GOCARDLESS_SECRET_KEY are not set',
  });
  providers.push({
    name: 'plaid',
    unavailable: config.plaid
      ? (noKey ?? 'not built into this version')
      : 'PLAID_CLIENT_ID and PLAID_SECRET are not set',
  });
  return providers;
}
