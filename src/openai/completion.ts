// A ChatResult in the openai SDK's ChatCompletion shape: the served head fields, every choice with
// its message as the server sent it, and usage in snake_case. What the server left out stays out.
import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { ChatResult, Usage } from '../types/chat.ts';

type Writable = Record<string, unknown>;

/** `usage` as the server sent it: details under their own names, Kimi's top-level `cached_tokens` as Kimi sends it. */
export function toCompletionUsage(usage: Usage): CompletionUsage {
  const out: Writable = { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.totalTokens };
  if (usage.promptTokensDetails !== undefined) out['prompt_tokens_details'] = usage.promptTokensDetails;
  else if (usage.cachedTokens !== undefined) out['cached_tokens'] = usage.cachedTokens;
  if (usage.completionTokensDetails !== undefined) out['completion_tokens_details'] = usage.completionTokensDetails;
  return out as unknown as CompletionUsage;
}

/** The head fields a completion and its chunks share. */
export function headFields(result: Pick<ChatResult, 'id' | 'created' | 'model' | 'serviceTier' | 'systemFingerprint'>): Writable {
  const head: Writable = {};
  if (result.id !== undefined) head['id'] = result.id;
  if (result.created !== undefined) head['created'] = result.created;
  head['model'] = result.model;
  if (result.serviceTier !== undefined) head['service_tier'] = result.serviceTier;
  if (result.systemFingerprint !== undefined) head['system_fingerprint'] = result.systemFingerprint;
  return head;
}

export function toChatCompletion(result: ChatResult): ChatCompletion {
  const choices = result.choices.map((choice) => {
    const out: Writable = { index: choice.index, message: choice.message, finish_reason: choice.finishReason };
    if (choice.logprobs !== undefined) out['logprobs'] = choice.logprobs;
    return out;
  });
  const completion: Writable = { ...headFields(result), object: 'chat.completion', choices };
  if (result.metadata.response?.usageReported !== false) completion['usage'] = toCompletionUsage(result.usage);
  if (result.webSearch !== undefined) completion['web_search'] = result.webSearch;
  return completion as unknown as ChatCompletion;
}
