import { ProviderResponseError } from '../../errors/errors.ts';
import type { ChatMessage } from '../../types/chat.ts';
import { baseBody, continueWithUserTurn, type DialectAdapter } from './dialect.ts';
import { withoutOpenAIOnly } from './messages.ts';

/** GLM takes temperatures in (0, 1]. */
export function clampTemperature(t: number): number {
  return Math.min(1, Math.max(0.01, t));
}

/** The search engine the base URL's platform offers: bigmodel.cn has search_std, api.z.ai search_pro_jina. */
export function searchEngineFor(baseURL: string): string {
  return new URL(baseURL).hostname.endsWith('bigmodel.cn') ? 'search_std' : 'search_pro_jina';
}

export function webSearchTool(options: true | Record<string, unknown>, baseURL: string): Record<string, unknown> {
  const own = options === true ? {} : options;
  return {
    type: 'web_search',
    web_search: { enable: true, search_engine: searchEngineFor(baseURL), search_result: true, ...own },
  };
}

// GLM drops list content of tool results: send them as strings.
function toolResultsAsText(messages: ChatMessage[]): ChatMessage[] {
  return messages.map((m) => (m.role === 'tool' && typeof m.content !== 'string' ? { ...m, content: JSON.stringify(m.content) } : m));
}

export const glmDialect: DialectAdapter = {
  body(call, provider, messages) {
    const body = baseBody(call, provider, toolResultsAsText(withoutOpenAIOnly(messages)));
    if (typeof body['temperature'] === 'number') body['temperature'] = clampTemperature(body['temperature']);
    if (call.webSearch) body['tools'] = [...((body['tools'] as unknown[] | undefined) ?? []), webSearchTool(call.webSearch, provider.baseURL)];
    if (body['tools'] !== undefined) body['tool_choice'] = 'auto';
    return { ...body, ...call.extra };
  },
  headers: () => ({}),
  continueWith: continueWithUserTurn,
  failedFinish(finishReason, provider) {
    if (finishReason !== 'sensitive' && finishReason !== 'network_error') return undefined;
    const what = finishReason === 'sensitive' ? 'stopped by its content filter' : 'failed during inference';
    return new ProviderResponseError(`${provider} ${what} (finish_reason "${finishReason}")`, {}, finishReason === 'network_error', finishReason);
  },
};
