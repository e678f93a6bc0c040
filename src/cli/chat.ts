/** `sessionpool chat`: one call to a real provider (or any URL), streamed or not. */
import { parseArgs } from 'node:util';
import { BUILT_IN_PROVIDERS, createSupervisor, type ChatRequest, type ChatResult } from '../index.ts';

const USAGE = `usage: sessionpool chat --provider kimi|glm [--model M] [--system S] [--stream] [--timeout MS]
                        [--base-url URL] [--api-key KEY] "prompt"`;

export async function runChatCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      provider: { type: 'string', default: 'kimi' },
      model: { type: 'string' },
      system: { type: 'string' },
      stream: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      'base-url': { type: 'string' },
      'api-key': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const prompt = positionals.join(' ').trim();
  const provider = values.provider;
  const builtIn = BUILT_IN_PROVIDERS[provider];
  if (prompt === '' || (builtIn === undefined && values['base-url'] === undefined)) {
    console.error(prompt === '' ? `sessionpool chat: no prompt given\n${USAGE}` : `sessionpool chat: unknown provider "${provider}" (built in: ${Object.keys(BUILT_IN_PROVIDERS).join(', ')}); pass --base-url for another\n${USAGE}`);
    return 2;
  }
  // Checked before anything starts, so that the message says exactly what to set.
  const keyEnv = builtIn?.keyEnv ?? [];
  if (values['api-key'] === undefined && !keyEnv.some((name) => process.env[name])) {
    console.error(`sessionpool chat: no API key for ${provider}: set ${keyEnv.join(' (or ')}${keyEnv.length > 1 ? ')' : ''}, or pass --api-key`);
    return 2;
  }
  const timeoutMs = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
    console.error(`sessionpool chat: --timeout must be a positive number of milliseconds, got "${values.timeout}"`);
    return 2;
  }
  const supervisor = createSupervisor({
    threads: 1,
    logger: false,
    providers: {
      [provider]: {
        ...(values['base-url'] !== undefined ? { baseURL: values['base-url'] } : {}),
        ...(values['api-key'] !== undefined ? { apiKey: values['api-key'] } : {}),
      },
    },
  });
  const request: ChatRequest = {
    provider,
    prompt,
    ...(values.system !== undefined ? { systemPrompt: values.system } : {}),
    ...(values.model !== undefined ? { model: values.model } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
  try {
    const result = values.stream ? await streamTo(process.stdout, supervisor, request) : await supervisor.chat(request);
    if (!values.stream) process.stdout.write(result.content);
    const { usage, metadata } = result;
    console.log(`\n\n[${result.model} · ${result.finishReason} · ${usage.promptTokens}+${usage.completionTokens} tokens · ${metadata.session.attempts} attempt(s) · ${metadata.session.durationSeconds.toFixed(2)} s]`);
    return 0;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    console.error(`error ${e.code ?? 'ERR'}: ${e.message ?? String(error)}`);
    return 1;
  } finally {
    await supervisor.close();
  }
}

async function streamTo(out: NodeJS.WritableStream, supervisor: ReturnType<typeof createSupervisor>, request: ChatRequest): Promise<ChatResult> {
  for await (const event of supervisor.stream(request)) {
    if (event.type === 'delta') out.write(event.text);
    else return event.result;
  }
  throw new Error('the stream ended without a result');
}
