// The openai SDK's ChatCompletionCreateParams as a ChatRequest: known fields to the typed options,
// everything else passed on in `extra`, under the name the SDK would send.
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import type { ChatRequest } from '../types/request.ts';
import type { ChatMessage } from '../types/chat.ts';
import type { CreateOptions } from '../types/openai.ts';
import { sessionOptions } from './options.ts';
import { InvalidRequestError } from '../errors/errors.ts';
import { describeValue } from '../util/validation.ts';

// SDK body field → typed ChatRequest option. `null` means "the provider's default": left out.
const TYPED: Readonly<Record<string, keyof ChatRequest>> = {
  temperature: 'temperature',
  max_tokens: 'maxOutputTokens',
  max_completion_tokens: 'maxCompletionTokens',
  top_p: 'topP',
  stop: 'stop',
  seed: 'seed',
  response_format: 'responseFormat',
  parallel_tool_calls: 'parallelToolCalls',
  reasoning_effort: 'reasoningEffort',
  user: 'user',
  presence_penalty: 'presencePenalty',
  frequency_penalty: 'frequencyPenalty',
  logit_bias: 'logitBias',
  logprobs: 'logprobs',
  top_logprobs: 'topLogprobs',
  n: 'n',
  service_tier: 'serviceTier',
  tools: 'tools',
  tool_choice: 'toolChoice',
};

// What the engine decides itself (streaming, usage reporting); the rest of the body goes in `extra`.
const ENGINE = new Set(['model', 'messages', 'stream', 'stream_options']);

export function toChatRequest(provider: string, body: ChatCompletionCreateParams, options: CreateOptions = {}): ChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const issue = `\`body\`: expected the chat completion params (an object with \`model\` and \`messages\`), got ${describeValue(body)}`;
    throw new InvalidRequestError(`Invalid request: ${issue}`, [issue]);
  }
  const request: Record<string, unknown> = { provider, model: body.model, messages: body.messages as ChatMessage[] };
  let extra: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(body)) {
    if (ENGINE.has(key) || value === undefined) continue;
    // Own names only: a body field called `constructor` or `toString` is sent as it is, as the SDK sends it.
    const typed = Object.hasOwn(TYPED, key) ? TYPED[key] : undefined;
    // Defined, not assigned: a parsed body's own `__proto__` field stays a field, not the prototype of `extra`.
    if (typed === undefined) Object.defineProperty((extra ??= {}), key, { value, enumerable: true, writable: true, configurable: true });
    else if (value !== null) request[typed] = value;
  }
  if (extra !== undefined) request['extra'] = extra;
  return { ...(request as unknown as ChatRequest), ...sessionOptions(options) };
}
