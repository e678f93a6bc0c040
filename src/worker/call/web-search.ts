import type { ChatMessage } from '../../types/chat.ts';
import type { Reading } from '../providers/read.ts';

export const KIMI_WEB_SEARCH = '$web_search';

/**
 * Kimi's built-in web search: when the model calls `$web_search`, the caller sends the call's
 * arguments back unchanged as the tool result and asks again. Returns those turns, or undefined
 * when the answer is not such a call.
 */
export function builtinToolTurns(reading: Reading): ChatMessage[] | undefined {
  const calls = reading.toolCalls;
  if (reading.finishReason !== 'tool_calls' || calls === undefined || !calls.every((c) => c.function.name === KIMI_WEB_SEARCH)) return undefined;
  return [
    { role: 'assistant', content: reading.content, tool_calls: calls },
    ...calls.map((c): ChatMessage => ({ role: 'tool', tool_call_id: c.id, name: KIMI_WEB_SEARCH, content: c.function.arguments })),
  ];
}
