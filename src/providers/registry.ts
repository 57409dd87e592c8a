import { AppError, invalidInput } from '../errors.js';
import { type BankProvider, ProviderError } from './provider.js';

export interface ProviderRegistry {
  /** The provider of that name; a 400 naming `path` when there is none. */
  get(name: string, path?: string): BankProvider;
  names(): string[];
}

export function createProviderRegistry(providers: BankProvider[]): ProviderRegistry {
  const byName = new Map(providers.map((provider) => [provider.name, provider]));
  return {
    get(name, path = '/provider') {
      const provider = byName.get(name);
      if (!provider) {
        const known = [...byName.keys()].join(', ') || 'none';
        throw invalidInput([{ path, message: `unknown provider "${name}" (available: ${known})` }]);
      }
      return provider;
    },
    names: () => [...byName.keys()],
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
