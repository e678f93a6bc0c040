/** Where `sessionpool mcp` gets its providers: the environment, a JSON config file, or the embedded mock. */
import { ConfigFileError, readJsonFile } from '../cli/config-file.ts';
import { z } from 'zod';
import { startMockProvider } from '../mock/server.ts';
import { BUILT_IN_PROVIDERS, InvalidRequestError, type ProviderConfig, type SupervisorOptions } from '../../api/internal.ts';

/** A provider entry of the config file: the engine's ProviderConfig, plus the name of a variable holding the key. */
export interface FileProviderConfig extends ProviderConfig {
  /** Read the key from this environment variable (keeps keys out of the file). */
  apiKeyEnv?: string;
}

export interface McpConfig {
  providers: Record<string, ProviderConfig>;
  /** The provider a `chat` call without `provider` goes to. */
  defaultProvider: string;
  /**
   * Where each provider's key comes from, when not from its built-in variables: the file's
   * `apiKeyEnv` (that variable only), or none when the file gives the key itself.
   */
  keyEnv: KeyVariables;
  supervisor: Omit<SupervisorOptions, 'providers' | 'logger' | 'inspect' | 'clock'>;
  /** Set when `--mock` started the embedded provider; closed on shutdown. */
  mock?: { url: string; close(): Promise<void> };
}

const fileSchema = z.strictObject({
  providers: z.record(z.string().min(1), z.looseObject({ apiKeyEnv: z.string().min(1).optional() })).optional(),
  defaultProvider: z.string().min(1).optional(),
  supervisor: z
    .strictObject({
      threads: z.number().optional(),
      maxConcurrent: z.number().optional(),
      maxQueue: z.number().optional(),
      timeoutMs: z.number().optional(),
      abortGraceMs: z.number().optional(),
      retry: z.record(z.string(), z.number()).optional(),
    })
    .optional(),
});

/** Provider name → the environment variables its key is read from; absent: the built-in profile's. */
export type KeyVariables = Record<string, readonly string[]>;

/** The mock's key: any bearer works with the mock, the engine only insists that there is one. */
export const MOCK_API_KEY = 'sk-sessionpool-mock';

/** Reads and checks a config file; the supervisor checks the provider fields themselves when it starts. */
export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<McpConfig> {
  // Read and parsed in one place for every command: a mistake is told by line and column, never quoted.
  const raw = await readJsonFile(path);
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `\`${i.path.join('.') || '(root)'}\`: ${i.message}`);
    // The operator's mistake, as a file that is not JSON is (the CLI exits 2).
    throw new ConfigFileError(`invalid config file ${path}: ${issues.join('; ')}`);
  }
  const providers: Record<string, ProviderConfig> = {};
  const keyEnv: KeyVariables = {};
  for (const [name, entry] of Object.entries(parsed.data.providers ?? {})) {
    const { apiKeyEnv, ...config } = entry as FileProviderConfig;
    const fromEnv = apiKeyEnv === undefined ? undefined : env[apiKeyEnv];
    providers[name] = { ...config, ...(config.apiKey === undefined && fromEnv ? { apiKey: fromEnv } : {}) };
    // Recorded whenever the file decides where the key comes from; a built-in provider it leaves
    // at that keeps the built-in variables (the engine reads them).
    if (config.apiKey !== undefined) keyEnv[name] = [];
    else if (apiKeyEnv !== undefined) keyEnv[name] = [apiKeyEnv];
    else if (!Object.hasOwn(BUILT_IN_PROVIDERS, name)) keyEnv[name] = [];
  }
  const defaultProvider = parsed.data.defaultProvider ?? firstWithKey(providers, keyEnv, env) ?? 'kimi';
  return { providers, defaultProvider, keyEnv, supervisor: (parsed.data.supervisor ?? {}) as McpConfig['supervisor'] };
}

/** Built-in providers with keys from the usual environment variables (the supervisor reads them). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): McpConfig {
  return { providers: {}, defaultProvider: firstWithKey({}, {}, env) ?? 'kimi', keyEnv: {}, supervisor: {} };
}

/** Starts the embedded mock provider and points the three built-in providers at it. */
export async function configWithMock(): Promise<McpConfig> {
  const mock = await startMockProvider();
  const providers: Record<string, ProviderConfig> = {};
  const keyEnv: KeyVariables = {};
  for (const name of ['kimi', 'glm', 'openai'] as const) {
    providers[name] = { baseURL: mock.baseURL(name), apiKey: MOCK_API_KEY };
    keyEnv[name] = [];
  }
  return { providers, defaultProvider: 'kimi', keyEnv, supervisor: {}, mock: { url: mock.url, close: () => mock.close() } };
}

/** The variables a provider's key is read from: the config's, else its built-in profile's. */
export function keyVariables(name: string, keyEnv: KeyVariables = {}): readonly string[] {
  return keyEnv[name] ?? BUILT_IN_PROVIDERS[name]?.keyEnv ?? [];
}

/** Whether a provider would have a key: its own, or one from the variables it reads. */
export function hasKey(name: string, config: ProviderConfig | undefined, keyEnv: KeyVariables = {}, env: NodeJS.ProcessEnv = process.env): boolean {
  if (config?.apiKey) return true;
  return keyVariables(name, keyEnv).some((variable) => Boolean(env[variable]));
}

/**
 * A provider whose key source the config file decided (`keyEnv` has it) and that has no key:
 * refused before any session, naming the variables this server reads. The engine's own message
 * would name the built-in variables and `createSupervisor`, and the engine would fall back to a
 * built-in variable the file did not name. Other providers are the engine's to check.
 */
export function missingKeyError(
  name: string,
  providers: Record<string, ProviderConfig>,
  keyEnv: KeyVariables = {},
  env: NodeJS.ProcessEnv = process.env,
): InvalidRequestError | undefined {
  if (!Object.hasOwn(keyEnv, name)) return undefined;
  if (hasKey(name, providers[name], keyEnv, env)) return undefined;
  const variables = keyVariables(name, keyEnv);
  const where = variables.length > 0 ? `set ${variables.join(' or ')}` : 'give it `apiKey` or `apiKeyEnv` in the config file';
  const issue = `\`provider\`: "${name}" has no API key: ${where}`;
  return new InvalidRequestError(`Invalid request: ${issue}`, [issue]);
}

function firstWithKey(providers: Record<string, ProviderConfig>, keyEnv: KeyVariables, env: NodeJS.ProcessEnv): string | undefined {
  const names = [...new Set([...Object.keys(providers), ...Object.keys(BUILT_IN_PROVIDERS)])];
  return names.find((name) => hasKey(name, providers[name], keyEnv, env));
}
