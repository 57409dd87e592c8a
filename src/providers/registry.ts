import { AppError, type FieldError, invalidInput } from '../errors.js';
import { type BankProvider, ProviderError } from './provider.js';

/** A provider this deployment knows but cannot use, and why (e.g. no credentials). */
export interface UnavailableProvider {
  name: string;
  unavailable: string;
}

export interface ProviderStatus {
  name: string;
  available: boolean;
  reason: string | null;
}

export interface ProviderRegistry {
  /**
   * The provider of that name: a 400 naming `field` (the body's `provider` unless given) when
   * there is none, a 503 PROVIDER_NOT_CONFIGURED when it is known but not set up here.
   */
  get(name: string, field?: Omit<FieldError, 'message'>): BankProvider;
  list(): ProviderStatus[];
}

export function createProviderRegistry(entries: (BankProvider | UnavailableProvider)[]): ProviderRegistry {
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  return {
    get(name, field = { path: '/provider', in: 'body' }) {
      const entry = byName.get(name);
      if (!entry) {
        const known = [...byName.keys()].join(', ') || 'none';
        throw invalidInput([{ ...field, message: `unknown provider "${name}" (known: ${known})` }]);
      }
      if ('unavailable' in entry) {
        throw new AppError(
          'PROVIDER_NOT_CONFIGURED',
          `Provider ${name} is not available here: ${entry.unavailable}`,
        );
      }
      return entry;
    },
    list: () =>
      [...byName.values()].map((entry) =>
        'unavailable' in entry
          ? { name: entry.name, available: false, reason: entry.unavailable }
          : { name: entry.name, available: true, reason: null },
      ),
  };
}

/** Runs a provider call, turning its failure into the API's error for it. */
export async function callProvider<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ProviderError) throw fromProviderError(error);
    throw error;
  }
}

export function fromProviderError(error: ProviderError): AppError {
  const retry = error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds };
  switch (error.kind) {
    case 'expired':
      return new AppError(
        'PROVIDER_CONSENT_EXPIRED',
        `The bank reports the consent expired: ${error.message}`,
      );
    case 'revoked':
      return new AppError(
        'PROVIDER_CONSENT_REVOKED',
        `The bank reports the consent revoked: ${error.message}`,
      );
    case 'login_required':
      return new AppError(
        'PROVIDER_LOGIN_REQUIRED',
        `The bank needs the user to log in again: ${error.message}`,
      );
    case 'invalid':
      return new AppError('PROVIDER_CONSENT_INVALID', `The bank refused the consent: ${error.message}`);
    case 'rate_limited':
      return new AppError(
        'PROVIDER_RATE_LIMITED',
        `The bank's rate limit was reached: ${error.message}`,
        retry,
      );
    case 'timeout':
      return new AppError('PROVIDER_TIMEOUT', `The bank did not answer in time: ${error.message}`);
    case 'unavailable':
      return new AppError('PROVIDER_UNAVAILABLE', `The bank is unavailable: ${error.message}`, retry);
  }
}
