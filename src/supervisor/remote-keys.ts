// Behind a queue across hosts, provider keys live on the worker hosts: the producer names the
// provider and never holds nor sends a key. Its profiles still say which providers exist (so a
// request for an unknown one fails before any work), their dialect and default model.
import type { ProviderProfile } from '../request/providers.ts';

/** Stands for "the worker host's key": too short to be taken for a secret, never sent anywhere. */
export const REMOTE_KEY = '-';

export function remoteKeyProfiles(providers: Map<string, ProviderProfile>): void {
  for (const profile of providers.values()) profile.apiKey ??= REMOTE_KEY;
}
