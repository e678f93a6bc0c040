// Reading provider responses into the result's shape. Raw bodies are read defensively: the
// providers add fields the SDK types do not know (cached_tokens, reasoning_content, web_search).
import { ProviderResponseError } from '../../errors/errors.ts';
import type { ResponseHead, ChatChoice, ToolCall, Usage } from '../../types/chat.ts';
import { errorInBody, readChoices, readHead, readToolCalls } from './result.ts';

export { readToolCalls } from './result.ts';

export interface Reading {
  content: string;
  finishReason: string;
  usage: Usage;
  toolCalls?: ToolCall[];
  reasoningContent?: string;
  webSearch?: unknown[];
  /** id, created, served model, system_fingerprint, service_tier: those the server sent. */
  head: ResponseHead;
  /** Every choice as sent (streams: the one choice assembled from its deltas). */
  choices: ChatChoice[];
  /** False when the server sent no usage (then `usage` holds zeros). */
  usageReported: boolean;
}

type Raw = Record<string, unknown>;

const asRecord = (value: unknown): Raw | undefined => (typeof value === 'object' && value !== null ? (value as Raw) : undefined);
// A token count: a safe non-negative integer, or nothing. A provider (or anyone on its path) that
// reports negative, fractional or astronomic usage would otherwise make negative costs, lift spent
// budgets and step Prometheus counters back.
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const asNumber = (value: unknown): number => (isCount(value) ? value : 0);

/** `usage` in OpenAI, Kimi (top-level `cached_tokens`) or GLM/newer (`prompt_tokens_details.cached_tokens`) form, details kept. */
export function readUsage(raw: unknown): Usage | undefined {
  const usage = asRecord(raw);
  if (usage === undefined) return undefined;
  const promptTokens = asNumber(usage['prompt_tokens']);
  const completionTokens = asNumber(usage['completion_tokens']);
  const result: Usage = { promptTokens, completionTokens, totalTokens: asNumber(usage['total_tokens']) || promptTokens + completionTokens };
  const promptDetails = detailsOf(usage['prompt_tokens_details']);
  const completionDetails = detailsOf(usage['completion_tokens_details']);
  const cached = usage['cached_tokens'] ?? promptDetails?.['cached_tokens'];
  if (isCount(cached)) result.cachedTokens = cached;
  const reasoning = completionDetails?.['reasoning_tokens'];
  if (isCount(reasoning)) result.reasoningTokens = reasoning;
  if (promptDetails) result.promptTokensDetails = promptDetails;
  if (completionDetails) result.completionTokensDetails = completionDetails;
  return result;
}

function detailsOf(raw: unknown): Record<string, number | null> | undefined {
  const details = asRecord(raw);
  if (details === undefined) return undefined;
  const out: Record<string, number | null> = {};
  for (const [key, value] of Object.entries(details)) if (typeof value === 'number' || value === null) out[key] = value;
  return out;
}

function addDetails(a: Record<string, number | null> | undefined, b: Record<string, number | null> | undefined): Record<string, number | null> | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  const sum: Record<string, number | null> = { ...a };
  for (const [key, value] of Object.entries(b)) sum[key] = value === null ? (sum[key] ?? null) : (sum[key] ?? 0) + value;
  return sum;
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
  if (a.reasoningTokens !== undefined || b.reasoningTokens !== undefined) sum.reasoningTokens = (a.reasoningTokens ?? 0) + (b.reasoningTokens ?? 0);
  const promptDetails = addDetails(a.promptTokensDetails, b.promptTokensDetails);
  const completionDetails = addDetails(a.completionTokensDetails, b.completionTokensDetails);
  if (promptDetails) sum.promptTokensDetails = promptDetails;
  if (completionDetails) sum.completionTokensDetails = completionDetails;
  return sum;
}

/** Reads a non-streaming chat completion; a body without a choice is a malformed response. */
export function readCompletion(body: unknown, provider: string): Reading {
  const raw = asRecord(body);
  const failed = raw && errorInBody(raw, provider);
  if (failed) throw failed;
  const choices = raw ? readChoices(raw) : [];
  const first = choices[0];
  if (raw === undefined || first === undefined) {
    throw new ProviderResponseError(`${provider} sent a completion without choices[0].message`);
  }
  const { message } = first;
  const usage = readUsage(raw['usage']) ?? readUsage(asRecord((raw['choices'] as unknown[])[0])?.['usage']);
  const reading: Reading = {
    content: message.content ?? '',
    finishReason: first.finishReason ?? 'unknown',
    usage: usage ?? emptyUsage(),
    head: readHead(raw),
    choices,
    usageReported: usage !== undefined,
  };
  const toolCalls = readToolCalls(message.tool_calls);
  if (toolCalls) reading.toolCalls = toolCalls;
  if (typeof message.reasoning_content === 'string' && message.reasoning_content !== '') reading.reasoningContent = message.reasoning_content;
  if (Array.isArray(raw['web_search'])) reading.webSearch = raw['web_search'];
  return reading;
}
