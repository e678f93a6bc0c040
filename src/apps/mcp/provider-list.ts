/** The `providers` tool's answer: what is configured, never a key. */
import { BUILT_IN_PROVIDERS, type ProviderConfig } from '../../api/public.ts';
import { hasKey, type KeyVariables, keyVariables } from './config.ts';

export interface ProviderInfo {
  name: string;
  dialect: string;
  baseURL: string;
  defaultModel: string;
  hasKey: boolean;
  /** Variables a key is read from: the config's `apiKeyEnv`, else the built-in ones; none when the key is configured inline. */
  keyEnv: string[];
  isDefault: boolean;
}

export function describeProviders(
  configured: Record<string, ProviderConfig>,
  defaultProvider: string,
  env: NodeJS.ProcessEnv = process.env,
  keyEnv: KeyVariables = {},
): ProviderInfo[] {
  const names = [...new Set([...Object.keys(BUILT_IN_PROVIDERS), ...Object.keys(configured)])];
  return names.map((name) => {
    const own = configured[name];
    const builtIn = BUILT_IN_PROVIDERS[name];
    return {
      name,
      dialect: own?.dialect ?? builtIn?.dialect ?? 'openai',
      baseURL: withoutCredentials(own?.baseURL ?? builtIn?.baseURL ?? ''),
      defaultModel: own?.defaultModel ?? builtIn?.defaultModel ?? 'default',
      hasKey: hasKey(name, own, keyEnv, env),
      keyEnv: [...keyVariables(name, keyEnv)],
      isDefault: name === defaultProvider,
    };
  });
}

/** A base URL may carry user:password, or a key in its query (`?key=`, `?api-key=`): the tool shows it without them. */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    parsed.hash = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
