/** Where `sessionpool mcp` gets its providers: the environment, a JSON config file, or the embedded mock. */
import { readJsonFile } from '../cli/config-file.ts';
import { z } from 'zod';
import { BUILT_IN_PROVIDERS, startMockProvider, type ProviderConfig, type SupervisorOptions } from '../index.ts';

/** A provider entry of the config file: the engine's ProviderConfig, plus the name of a variable holding the key. */
export interface FileProviderConfig extends ProviderConfig {
  /** Read the key from this environment variable (keeps keys out of the file). */
  apiKeyEnv?: string;
}

export interface McpConfig {
  providers: Record<string, ProviderConfig>;
  /** The provider a `chat` call without `provider` goes to. */
  defaultProvider: string;
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

/** The mock's key: any bearer works with the mock, the engine only insists that there is one. */
export const MOCK_API_KEY = 'sk-sessionpool-mock';

/** Reads and checks a config file; the supervisor checks the provider fields themselves when it starts. */
export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<McpConfig> {
  let raw: unknown;
  try {
    raw = await readJsonFile(path);
  } catch (error) {
    throw new Error(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `\`${i.path.join('.') || '(root)'}\`: ${i.message}`);
    throw new Error(`invalid config file ${path}: ${issues.join('; ')}`);
  }
  const providers: Record<string, ProviderConfig> = {};
  for (const [name, entry] of Object.entries(parsed.data.providers ?? {})) {
    const { apiKeyEnv, ...config } = entry as FileProviderConfig;
    const fromEnv = apiKeyEnv === undefined ? undefined : env[apiKeyEnv];
    providers[name] = { ...config, ...(config.apiKey === undefined && fromEnv ? { apiKey: fromEnv } : {}) };
  }
  const defaultProvider = parsed.data.defaultProvider ?? firstWithKey(providers, env) ?? 'kimi';
  return { providers, defaultProvider, supervisor: (parsed.data.supervisor ?? {}) as McpConfig['supervisor'] };
}

/** Built-in providers with keys from the usual environment variables (the supervisor reads them). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): McpConfig {
  return { providers: {}, defaultProvider: firstWithKey({}, env) ?? 'kimi', supervisor: {} };
}

/** Starts the embedded mock provider and points the three built-in providers at it. */
export async function configWithMock(): Promise<McpConfig> {
  const mock = await startMockProvider();
  const providers: Record<string, ProviderConfig> = {};
  for (const name of ['kimi', 'glm', 'openai'] as const) providers[name] = { baseURL: mock.baseURL(name), apiKey: MOCK_API_KEY };
  return { providers, defaultProvider: 'kimi', supervisor: {}, mock: { url: mock.url, close: () => mock.close() } };
}

/** Whether a provider would have a key: its own, or one from its built-in profile's variables. */
export function hasKey(name: string, config: ProviderConfig | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (config?.apiKey) return true;
  return (BUILT_IN_PROVIDERS[name]?.keyEnv ?? []).some((variable) => Boolean(env[variable]));
}

function firstWithKey(providers: Record<string, ProviderConfig>, env: NodeJS.ProcessEnv): string | undefined {
  const names = [...new Set([...Object.keys(providers), ...Object.keys(BUILT_IN_PROVIDERS)])];
  return names.find((name) => hasKey(name, providers[name], env));
}
