import type { ProviderState } from '../../providers/provider.js';
import type { SecretBox } from '../../secrets.js';

/**
 * A provider's per-connection state (access tokens, cursors) is stored sealed (AES-256-GCM, see
 * `secrets.ts`), never as plain text.
 */
export function openProviderState(sealed: string | null, secrets: SecretBox): ProviderState | null {
  return sealed === null ? null : (JSON.parse(secrets.open(sealed)) as ProviderState);
}

export function sealProviderState(
  state: ProviderState | null | undefined,
  secrets: SecretBox,
): string | null {
  return state ? secrets.seal(JSON.stringify(state)) : null;
}
