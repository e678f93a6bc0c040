/** `sessionpool chat`: one call to a real provider (or any URL), streamed or not. */
import { parseArgs } from 'node:util';
import { quoteURL } from '../../api/internal.ts';
import { baseURLFlagIssue } from './base-url-flag.ts';
import { KEY_HELP, KEY_OPTIONS, keyFromFlags } from './key-flags.ts';
import {
  BUILT_IN_PROVIDERS,
  createSupervisor,
  type ChatRequest,
  type ChatResult,
  type Dialect,
  type ProviderConfig,
  type Supervisor,
} from '../../api/public.ts';

const USAGE = `usage: sessionpool chat [--provider kimi|glm|openai|NAME] [--dialect kimi|glm|openai] [--model M]
                        [--system S] [--stream] [--timeout MS] [--base-url URL] [--api-key-env NAME | --api-key-file FILE] "prompt"

Calls a provider once as a supervised session and prints the answer.
  --provider   kimi (the default), glm, openai, or any NAME for another OpenAI-compatible API (needs
               --base-url and --model)
  --dialect    how requests are shaped and answers read: kimi (partial-mode continuation, context
               cache), glm (temperature in (0, 1], web search), openai (plain); defaults to the
               provider's own, openai for a NAME
  --base-url   point the call elsewhere, e.g. at "sessionpool mock": --base-url http://127.0.0.1:PORT/v1;
               with --base-url and no --provider the plain OpenAI dialect is used (said on stderr)
  the key: MOONSHOT_API_KEY or KIMI_API_KEY (kimi), ZHIPUAI_API_KEY, GLM_API_KEY or ZAI_API_KEY (glm),
  OPENAI_API_KEY (openai), or
${KEY_HELP}
  --model      the model; defaults: kimi moonshot-v1-8k, glm glm-4.5-flash, openai gpt-4o-mini
  --system     a system prompt;  --stream  print the answer as it arrives;  --timeout  the deadline in ms`;

const DIALECTS = ['kimi', 'glm', 'openai'] as const;

const OPTIONS = {
  provider: { type: 'string' },
  dialect: { type: 'string' },
  model: { type: 'string' },
  system: { type: 'string' },
  stream: { type: 'boolean', default: false },
  timeout: { type: 'string' },
  'base-url': { type: 'string' },
  ...KEY_OPTIONS,
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** What to call, or why not (a usage mistake: exit 2). */
type Plan = { problem: string } | { provider: string; config: ProviderConfig; request: ChatRequest; note?: string };

/** The engine's own bound of a session's deadline (a day). */
const MAX_TIMEOUT_MS = 86_400_000;

export async function runChat(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const plan = planCall(values, positionals.join(' ').trim());
  if ('problem' in plan) {
    console.error(`sessionpool chat: ${plan.problem}`);
    return 2;
  }
  if (plan.note !== undefined) console.error(`sessionpool chat: ${plan.note}`);
  const supervisor = createSupervisor({ threads: 1, logger: false, providers: { [plan.provider]: plan.config } });
  try {
    const result = values.stream ? await streamTo(process.stdout, supervisor, plan.request) : await supervisor.chat(plan.request);
    if (!values.stream) process.stdout.write(result.content);
    console.log(`\n\n${dim(footer(result))}`);
    return 0;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    // One line whatever the provider answered (an HTML error page is many): line breaks folded, length bounded.
    const message = (e.message ?? String(error)).replace(/\s*[\r\n]+\s*/g, ' ');
    console.error(`error ${e.code ?? 'ERR'}: ${message.length > 1000 ? `${message.slice(0, 1000)}…` : message}`);
    // The request is made of the flags: one the engine refuses is a usage mistake.
    return e.code === 'ERR_INVALID_REQUEST' ? 2 : 1;
  } finally {
    await supervisor.close();
  }
}

/** Checks everything before a supervisor starts, so that a missing key says exactly what to set. */
function planCall(values: Values, prompt: string): Plan {
  const baseURL = values['base-url'];
  const apiKey = keyFromFlags(values);
  const dialect = values.dialect as Dialect | undefined;
  if (prompt === '') return { problem: `no prompt given (see "sessionpool chat --help")` };
  const urlIssue = baseURL === undefined ? undefined : baseURLFlagIssue(baseURL);
  if (urlIssue !== undefined) return { problem: urlIssue };
  if (dialect !== undefined && !DIALECTS.includes(dialect)) return { problem: `--dialect must be one of ${DIALECTS.join(', ')}, got "${values.dialect}"` };
  // A bare base URL is most often some OpenAI-compatible server: never Kimi's shaping by surprise.
  const provider = values.provider ?? (baseURL !== undefined ? 'openai' : 'kimi');
  const note =
    values.provider === undefined && baseURL !== undefined
      ? `no --provider given: using the plain ${dialect ?? 'openai'} dialect at ${quoteURL(baseURL)} (pass --provider kimi|glm or --dialect to change)`
      : undefined;
  const builtIn = BUILT_IN_PROVIDERS[provider];
  if (builtIn === undefined && baseURL === undefined) {
    return {
      problem: `unknown provider "${provider}" (built in: ${Object.keys(BUILT_IN_PROVIDERS).join(', ')}); pass --base-url (and --model) for another`,
    };
  }
  if (builtIn === undefined && values.model === undefined) return { problem: `provider "${provider}" is not built in: pass --model (the model to ask for)` };
  const keyEnv = builtIn?.keyEnv ?? [];
  if (apiKey === undefined && !keyEnv.some((name) => process.env[name])) return { problem: `no API key for ${provider}: ${keyHint(keyEnv)}` };
  const timeoutMs = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
    return { problem: `--timeout: expected a whole number from 1 to ${MAX_TIMEOUT_MS} (milliseconds), got "${values.timeout}"` };
  }
  if (values.model === '') return { problem: '--model: expected a model name, got an empty string' };
  const config: ProviderConfig = {
    ...(baseURL !== undefined ? { baseURL } : {}),
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(dialect !== undefined ? { dialect } : {}),
  };
  const request: ChatRequest = {
    provider,
    prompt,
    ...(values.system !== undefined ? { systemPrompt: values.system } : {}),
    ...(values.model !== undefined ? { model: values.model } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
  return { provider, config, request, ...(note !== undefined ? { note } : {}) };
}

/** "set MOONSHOT_API_KEY (or KIMI_API_KEY), or pass --api-key" */
function keyHint(keyEnv: readonly string[]): string {
  const [first, ...others] = keyEnv;
  if (first === undefined) return 'pass --api-key-env NAME or --api-key-file FILE';
  return `set ${first}${others.length > 0 ? ` (or ${others.join(' or ')})` : ''}, or pass --api-key-env NAME or --api-key-file FILE`;
}

function footer(result: ChatResult): string {
  const { usage, metadata } = result;
  const rounds = metadata.continuation ? ` · ${metadata.continuation.attempts} rounds` : '';
  return `[${result.model} · ${result.finishReason} · ${usage.promptTokens}+${usage.completionTokens} tokens${rounds} · ${metadata.session.attempts} attempt(s) · ${metadata.session.durationSeconds.toFixed(2)} s]`;
}

/** Faint on a terminal, plain elsewhere (pipes and tests get no escape codes). */
function dim(text: string): string {
  return process.stdout.isTTY ? `\x1b[2m${text}\x1b[22m` : text;
}

async function streamTo(out: NodeJS.WritableStream, supervisor: Supervisor, request: ChatRequest): Promise<ChatResult> {
  for await (const event of supervisor.stream(request)) {
    if (event.type === 'delta') out.write(event.text);
    else if (event.type === 'result') return event.result;
  }
  throw new Error('the stream ended without a result');
}
