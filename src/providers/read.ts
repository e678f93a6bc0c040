// Reading provider responses into the result's shape. Raw bodies are read defensively: the
// providers add fields the SDK types do not know (cached_tokens, reasoning_content, web_search).
import { ProviderResponseError } from '../errors.ts';
import type { ToolCall, Usage } from '../protocol.ts';

export interface Reading {
  content: string;
  finishReason: string;
  usage: Usage;
  toolCalls?: ToolCall[];
  reasoningContent?: string;
  webSearch?: unknown[];
}

type Raw = Record<string, unknown>;

const asRecord = (value: unknown): Raw | undefined => (typeof value === 'object' && value !== null ? (value as Raw) : undefined);
const asNumber = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** `usage` in OpenAI, Kimi (top-level `cached_tokens`) or GLM/newer (`prompt_tokens_details.cached_tokens`) form. */
export function readUsage(raw: unknown): Usage | undefined {
  const usage = asRecord(raw);
  if (usage === undefined) return undefined;
  const promptTokens = asNumber(usage['prompt_tokens']);
  const completionTokens = asNumber(usage['completion_tokens']);
  const result: Usage = { promptTokens, completionTokens, totalTokens: asNumber(usage['total_tokens']) || promptTokens + completionTokens };
  const cached = usage['cached_tokens'] ?? asRecord(usage['prompt_tokens_details'])?.['cached_tokens'];
  if (typeof cached === 'number') result.cachedTokens = cached;
  return result;
}

export function emptyUsage(): Usage {
  return { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
}

export function addUsage(a: Usage, b: Usage): Usage {
  const sum: Usage = {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    totalTokens: a.totalTokens + b.totalTokens,
  };
  if (a.cachedTokens !== undefined || b.cachedTokens !== undefined) sum.cachedTokens = (a.cachedTokens ?? 0) + (b.cachedTokens ?? 0);
  return sum;
}

/** Tool calls as plain JSON (no SDK objects): id, type, function name and arguments. */
export function readToolCalls(raw: unknown): ToolCall[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) return undefined;
  return raw.map((call: Raw) => {
    const fn = asRecord(call['function']) ?? {};
    return {
      id: String(call['id'] ?? ''),
      type: String(call['type'] ?? 'function'),
      function: { name: String(fn['name'] ?? ''), arguments: typeof fn['arguments'] === 'string' ? fn['arguments'] : JSON.stringify(fn['arguments'] ?? {}) },
    };
  });
}

/** Reads a non-streaming chat completion; a body without a choice is a malformed response. */
export function readCompletion(body: unknown, provider: string): Reading {
  const raw = asRecord(body);
  const choice = Array.isArray(raw?.['choices']) ? asRecord(raw['choices'][0]) : undefined;
  const message = asRecord(choice?.['message']);
  if (raw === undefined || choice === undefined || message === undefined) {
    throw new ProviderResponseError(`${provider} sent a completion without choices[0].message`);
  }
  const reading: Reading = {
    content: typeof message['content'] === 'string' ? message['content'] : '',
    finishReason: typeof choice['finish_reason'] === 'string' ? choice['finish_reason'] : 'unknown',
    usage: readUsage(raw['usage']) ?? readUsage(choice['usage']) ?? emptyUsage(),
  };
  const toolCalls = readToolCalls(message['tool_calls']);
  if (toolCalls) reading.toolCalls = toolCalls;
  if (typeof message['reasoning_content'] === 'string' && message['reasoning_content'] !== '') reading.reasoningContent = message['reasoning_content'];
  if (Array.isArray(raw['web_search'])) reading.webSearch = raw['web_search'];
  return reading;
}
