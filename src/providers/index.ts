import type { Config } from '../config.js';
import { GoCardlessProvider } from './gocardless/index.js';
import { PlaidProvider } from './plaid/index.js';
import type { BankProvider, Clock } from './provider.js';
import type { UnavailableProvider } from './registry.js';
import { SandboxProvider } from './sandbox/index.js';

/**
 * The providers this deployment offers, built from its configuration. A provider without
 * credentials, or without an encryption key for the tokens it would store, is listed as
 * unavailable with the reason, and never stops the service from starting.
 */
export function createProviders(
  config: Config,
  clock: Clock,
  log?: { warn(message: string): void },
): (BankProvider | UnavailableProvider)[] {
  const providers: (BankProvider | UnavailableProvider)[] = [];
  providers.push(
    config.sandboxEnabled
      ? new SandboxProvider({ clock })
      : { name: 'sandbox', unavailable: 'SANDBOX_ENABLED is false' },
  );
  const noKey = config.encryptionKeys
    ? null
    : 'ENCRYPTION_KEY is not set, so its access tokens could not be stored';
  const timeoutMs = config.providerTimeoutMs;

  if (!config.gocardless) {
    providers.push({
      name: 'gocardless',
      unavailable: 'GOCARDLESS_SECRET_ID and GOCARDLESS_SECRET_KEY are not set',
    });
  } else if (noKey) {
    providers.push({ name: 'gocardless', unavailable: noKey });
  } else {
    const { secretId, secretKey, baseUrl } = config.gocardless;
    providers.push(new GoCardlessProvider({ secretId, secretKey, baseUrl, timeoutMs, clock }));
  }

  if (!config.plaid) {
    providers.push({ name: 'plaid', unavailable: 'PLAID_CLIENT_ID and PLAID_SECRET are not set' });
  } else if (noKey) {
    providers.push({ name: 'plaid', unavailable: noKey });
  } else {
    const { clientId, secret, env, baseUrl } = config.plaid;
    providers.push(
      new PlaidProvider({
        clientId,
        secret,
        env,
        ...(baseUrl ? { baseUrl } : {}),
        timeoutMs,
        clock,
        ...(log ? { warn: (message: string) => log.warn(message) } : {}),
      }),
    );
  }
  return providers;
}
