// Providers as configured: the built-in profiles (Kimi, GLM, OpenAI), each provider's base URL,
// key (given, or read from its environment variables), dialect and defaults, checked before any
// work. The supervisor and a worker host resolve their providers here; a request names one.
import { InvalidRequestError } from '../errors/errors.ts';
import type { ProviderConfig, BuiltInProvider } from '../types/options.ts';
import { splitURL } from '../util/redact.ts';
import { HEADER_NAME, headerValueIssue } from '../util/validation.ts';
import type { ResolvedProvider } from '../wire/protocol.ts';

/** A provider as configured; `apiKey` may still be missing (checked when a session uses it). */
export interface ProviderProfile extends Omit<ResolvedProvider, 'apiKey'> {
  apiKey?: string;
  keyEnv: readonly string[];
}

/**
 * The built-in providers by name: `kimi` (Moonshot), `glm` (Zhipu / Z.ai) and `openai`, with their
 * base URL, dialect, default model and temperature, and the environment variables their key is read
 * from. Typed read-only: override a built-in field by field with `createSupervisor({ providers })`
 * rather than changing this object.
 *
 * @example
 * ```ts
 * import { BUILT_IN_PROVIDERS } from 'sessionpool';
 *
 * for (const [name, { baseURL, defaultModel, keyEnv }] of Object.entries(BUILT_IN_PROVIDERS)) {
 *   console.log(name, baseURL, defaultModel, keyEnv.join(' or '));
 * }
 * // kimi https://api.moonshot.ai/v1 moonshot-v1-8k MOONSHOT_API_KEY or KIMI_API_KEY …
 * ```
 */
export const BUILT_IN_PROVIDERS: Readonly<Record<string, BuiltInProvider>> = {
  kimi: {
    dialect: 'kimi',
    baseURL: 'https://api.moonshot.ai/v1',
    defaultModel: 'moonshot-v1-8k',
    defaultTemperature: 0.6,
    keyEnv: ['MOONSHOT_API_KEY', 'KIMI_API_KEY'],
  },
  glm: {
    dialect: 'glm',
    baseURL: 'https://api.z.ai/api/paas/v4',
    defaultModel: 'glm-4.5-flash',
    defaultTemperature: 0.3,
    keyEnv: ['ZHIPUAI_API_KEY', 'GLM_API_KEY', 'ZAI_API_KEY'],
  },
  openai: {
    dialect: 'openai',
    baseURL: 'https://api.openai.com/v1',
    defaultModel: 'gpt-4o-mini',
    keyEnv: ['OPENAI_API_KEY'],
  },
};

function optionsIssue(issue: string): never {
  throw new InvalidRequestError(`Invalid supervisor options: ${issue}`, [issue]);
}

/** What zod cannot say without quoting a credential: URLs with user:password, bad header names and values, keys. */
function checkCredentials(name: string, own: ProviderConfig): void {
  // An `@` anywhere after `//` counts: a password written unencoded (`https://u:8080/x@host`) is
  // read by a URL parser as a host and a path, and would be sent on as such.
  if (own.baseURL !== undefined && splitURL(own.baseURL)?.userinfo !== undefined) {
    optionsIssue(
      `\`providers.${name}.baseURL\`: expected a URL without credentials (user:password@ before the host; an @ in a path is written %40), got one with them; pass the key as providers.${name}.apiKey or in providers.${name}.headers`,
    );
  }
  const keyIssue = own.apiKey === undefined ? undefined : headerValueIssue(own.apiKey);
  if (keyIssue !== undefined) optionsIssue(`\`providers.${name}.apiKey\`: ${keyIssue} (it is sent in the Authorization header)`);
  for (const [header, value] of Object.entries(own.headers ?? {})) {
    if (!HEADER_NAME.test(header))
      optionsIssue(`\`providers.${name}.headers\`: expected header names made of letters, digits and !#$%&'*+-.^_\`|~, got ${JSON.stringify(header)}`);
    const issue = headerValueIssue(value);
    if (issue !== undefined) optionsIssue(`\`providers.${name}.headers.${header}\`: the value ${issue}`);
  }
}

function readEnv(names: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  for (const name of names) {
    const value = env[name];
    if (value) return value;
  }
  return undefined;
}

export function resolveProviders(config: Record<string, ProviderConfig> = {}, env = process.env): Map<string, ProviderProfile> {
  const providers = new Map<string, ProviderProfile>();
  for (const name of new Set([...Object.keys(BUILT_IN_PROVIDERS), ...Object.keys(config)])) {
    const builtIn = BUILT_IN_PROVIDERS[name];
    const own = config[name] ?? {};
    checkCredentials(name, own);
    const baseURL = own.baseURL ?? builtIn?.baseURL;
    if (baseURL === undefined) {
      const issue = `\`providers.${name}.baseURL\`: required for a provider that is not built in, got undefined`;
      throw new InvalidRequestError(`Invalid supervisor options: ${issue}`, [issue]);
    }
    const keyEnv = builtIn?.keyEnv ?? [];
    const apiKey = own.apiKey ?? readEnv(keyEnv, env);
    const defaultTemperature = own.defaultTemperature ?? builtIn?.defaultTemperature;
    providers.set(name, {
      name,
      dialect: own.dialect ?? builtIn?.dialect ?? 'openai',
      baseURL: baseURL.replace(/\/+$/, ''),
      defaultModel: own.defaultModel ?? builtIn?.defaultModel ?? 'default',
      keyEnv,
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(defaultTemperature !== undefined ? { defaultTemperature } : {}),
      ...(own.headers !== undefined ? { headers: own.headers } : {}),
    });
  }
  return providers;
}
