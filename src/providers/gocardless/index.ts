export {
  GoCardlessProvider,
  type GoCardlessProviderOptions,
  type GoCardlessState,
  INSTITUTIONS_TTL_MS,
  LINK_VALID_MS,
} from './adapter.js';
export { DEFAULT_BASE_URL, GoCardlessClient, type GoCardlessClientOptions } from './client.js';
