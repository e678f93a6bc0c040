import type { ChatMessage } from '../../types/chat.ts';
import { baseBody, type DialectAdapter } from './dialect.ts';
import { withoutOpenAIOnly } from './messages.ts';

// kimi-k2.5 and later fix temperature and top_p and reject any other value.
const FIXED_TEMPERATURE = /^kimi-k(?:2\.(?:[5-9]|\d{2,})|[3-9]|\d{2,})/;

export const WEB_SEARCH_TOOL = { type: 'builtin_function', function: { name: '$web_search' } } as const;

export function fixesTemperature(model: string): boolean {
  return FIXED_TEMPERATURE.test(model);
}

export const kimiDialect: DialectAdapter = {
  body(call, provider, messages) {
    const body = baseBody(call, provider, withoutOpenAIOnly(messages));
    if (fixesTemperature(call.model)) {
      delete body['temperature'];
      delete body['top_p'];
    }
    if (call.webSearch) body['tools'] = [...((body['tools'] as unknown[] | undefined) ?? []), WEB_SEARCH_TOOL];
    if (call.stream) body['stream_options'] = { include_usage: true };
    return { ...body, ...call.extra };
  },
  headers(call) {
    if (call.cache === undefined) return {};
    const headers: Record<string, string> = { 'X-Msh-Context-Cache': call.cache.id };
    if (call.cache.resetTtlSeconds !== undefined) headers['X-Msh-Context-Cache-Reset-TTL'] = String(call.cache.resetTtlSeconds);
    return headers;
  },
  // Partial mode: the answer continues the last assistant message and does not repeat it.
  continueWith(messages, _chunk, textSoFar): ChatMessage[] {
    const history = messages.at(-1)?.partial === true ? messages.slice(0, -1) : messages;
    return [...history, { role: 'assistant', content: textSoFar, partial: true }];
  },
  failedFinish: () => undefined,
};
