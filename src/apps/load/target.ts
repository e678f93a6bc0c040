// What a run loads: a built-in provider (key from its usual environment variables), any
// OpenAI-compatible URL, or — with neither a provider nor a base URL — the embedded mock provider,
// run in a child process so that serving answers is not counted as the host's work.
import { baseURLFlagIssue } from '../cli/base-url-flag.ts';
import { UsageError } from '../cli/usage-error.ts';
import { BUILT_IN_PROVIDERS, type Dialect, type ProviderConfig } from '../../api/public.ts';
import { parseMockDirective } from '../mock/behaviour.ts';
import { behaviourIssues } from '../mock/behaviour-check.ts';
import { quoteURL } from '../../api/internal.ts';
import { startMockProcess } from '../mock/process.ts';
import { BASE_PATHS } from '../mock/server.ts';
import type { MockBehaviour } from '../mock/types.ts';

export interface TargetInput {
  provider?: string;
  baseURL?: string;
  apiKey?: string;
  dialect?: Dialect;
  /** `key=value` pairs of the mock's directive syntax (embedded mock only). */
  mock?: string;
}

export interface Target {
  provider: string;
  providerConfig: ProviderConfig;
  /** The embedded mock's behaviour for every request, when it is the target. */
  mock?: MockBehaviour;
  /** What the target is, for the first line of output. */
  description: string;
  close(): Promise<void>;
}

/** The embedded mock's default: 40 ms before the answer starts, then 400 tokens a second. */
export const DEFAULT_MOCK = 'latencyMs=40 tokensPerSec=400';

/** Thrown for a target that cannot be used (a usage mistake: the CLI exits 2). */
export class TargetError extends UsageError {}

/** Checks everything that needs no I/O; call before resolveTarget so nothing starts on bad input. */
export function checkTarget(input: TargetInput, env: NodeJS.ProcessEnv = process.env): void {
  const embedded = input.provider === undefined && input.baseURL === undefined;
  if (!embedded && input.mock !== undefined) throw new TargetError('--mock programs the embedded mock: leave out --provider and --base-url');
  if (embedded) return void mockBehaviour(input.mock ?? DEFAULT_MOCK);
  const urlIssue = input.baseURL === undefined ? undefined : baseURLFlagIssue(input.baseURL);
  if (urlIssue !== undefined) throw new TargetError(urlIssue);
  const builtIn = input.provider === undefined ? undefined : BUILT_IN_PROVIDERS[input.provider];
  if (builtIn === undefined && input.baseURL === undefined) {
    throw new TargetError(`unknown provider "${input.provider}" (built in: ${Object.keys(BUILT_IN_PROVIDERS).join(', ')}); pass --base-url for another`);
  }
  if (builtIn !== undefined && input.apiKey === undefined && !builtIn.keyEnv.some((name) => env[name])) {
    throw new TargetError(`no API key for ${input.provider}: set ${builtIn.keyEnv.join(' or ')}, or pass --api-key-env NAME or --api-key-file FILE`);
  }
}

export async function resolveTarget(input: TargetInput, env: NodeJS.ProcessEnv = process.env): Promise<Target> {
  checkTarget(input, env);
  const dialect = input.dialect;
  if (input.provider === undefined && input.baseURL === undefined) {
    const mock = await startMockProcess();
    const d = dialect ?? 'openai';
    return {
      provider: 'mock',
      providerConfig: { baseURL: mock.url + BASE_PATHS[d], apiKey: 'sk-load-mock', dialect: d, defaultModel: 'mock-model' },
      mock: mockBehaviour(input.mock ?? DEFAULT_MOCK),
      description: `the embedded mock provider (${d} dialect, ${input.mock ?? DEFAULT_MOCK}) at ${mock.url}`,
      close: () => mock.close(),
    };
  }
  const provider = input.provider ?? 'custom';
  const builtIn = BUILT_IN_PROVIDERS[provider] !== undefined;
  const config: ProviderConfig = {};
  if (input.baseURL !== undefined) config.baseURL = input.baseURL;
  if (dialect !== undefined || !builtIn) config.dialect = dialect ?? 'openai';
  // Servers of one's own often check no key; the SDK still needs one.
  const apiKey = input.apiKey ?? (builtIn ? undefined : (env['OPENAI_API_KEY'] ?? 'none'));
  if (apiKey !== undefined) config.apiKey = apiKey;
  return { provider, providerConfig: config, description: `${provider}${input.baseURL ? ` at ${quoteURL(input.baseURL)}` : ''}`, close: async () => {} };
}

const TOKEN = /([A-Za-z_]\w*)(?:=(?:"[^"]*"|\S+))?/g;

/** `latencyMs=50 errorRate=0.1 status=429` → the behaviour; a field the mock does not know is refused. */
export function mockBehaviour(spec: string): MockBehaviour {
  const behaviour = parseMockDirective(`[[mock ${spec}]]`);
  for (const [, name] of spec.matchAll(TOKEN)) {
    if (name !== undefined && !(name in behaviour))
      throw new TargetError(
        `--mock: "${name}" is not a mock field or has a value of the wrong type (e.g. latencyMs=50 tokensPerSec=400 chunks=20 errorRate=0.1 status=429)`,
      );
  }
  const [issue] = behaviourIssues(behaviour);
  if (issue !== undefined) throw new TargetError(`--mock: ${issue}`);
  return behaviour;
}
