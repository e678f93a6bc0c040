import type { ChatMessage } from '../../types/chat.ts';

// Fields of OpenAI's assistant messages that Kimi and GLM do not know.
const OPENAI_ONLY = ['refusal', 'annotations', 'audio'] as const;

/**
 * Messages as Kimi and GLM take them: `developer` (OpenAI's newer name for the system role) sent
 * as `system`, and the OpenAI-only fields of a passed-back assistant message left out.
 */
export function withoutOpenAIOnly(messages: ChatMessage[]): ChatMessage[] {
  if (!messages.some((m) => m.role === 'developer' || OPENAI_ONLY.some((field) => field in m))) return messages;
  return messages.map((m) => {
    if (m.role !== 'developer' && !OPENAI_ONLY.some((field) => field in m)) return m;
    const { refusal: _r, annotations: _a, audio: _au, ...rest } = m;
    return m.role === 'developer' ? { ...rest, role: 'system' } : rest;
  });
}
