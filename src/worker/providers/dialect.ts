import type { ProviderResponseError } from '../../errors/errors.ts';
import type { ChatCall, ResolvedProvider } from '../../wire/protocol.ts';
import type { ChatMessage } from '../../types/chat.ts';

export type Body = Record<string, unknown>;

/** How one provider family shapes requests and judges answers. Pure: no I/O, no SDK. */
export interface DialectAdapter {
  /** The request body of a round that sends `messages` (the call's own messages in the first round). */
  body(call: ChatCall, provider: ResolvedProvider, messages: ChatMessage[]): Body;
  /** Per-request headers (context cache and the like). */
  headers(call: ChatCall): Record<string, string>;
  /** The messages of the round after one that ended on `length`: `messages` were that round's, `chunk` its text. */
  continueWith(messages: ChatMessage[], chunk: string, textSoFar: string): ChatMessage[];
  /** A finish reason that means the attempt failed although the HTTP call succeeded, or undefined. */
  failedFinish(finishReason: string, provider: string): ProviderResponseError | undefined;
}

export const CONTINUE_PROMPT = 'Continue exactly where you stopped, without repeating anything.';

/** The body every OpenAI-compatible provider accepts; dialects adjust it. */
export function baseBody(call: ChatCall, provider: ResolvedProvider, messages: ChatMessage[]): Body {
  const body: Body = { model: call.model, messages };
  const temperature = call.temperature ?? provider.defaultTemperature;
  if (temperature !== undefined) body['temperature'] = temperature;
  if (call.maxOutputTokens !== undefined) body['max_tokens'] = call.maxOutputTokens;
  if (call.tools !== undefined) body['tools'] = call.tools;
  if (call.toolChoice !== undefined) body['tool_choice'] = call.toolChoice;
  if (call.params !== undefined) Object.assign(body, call.params);
  if (call.stream) body['stream'] = true;
  return body;
}

/** Continuation for providers without a partial mode: the cut answer as a turn, then a short user turn. */
export function continueWithUserTurn(messages: ChatMessage[], chunk: string): ChatMessage[] {
  return [...messages, { role: 'assistant', content: chunk }, { role: 'user', content: CONTINUE_PROMPT }];
}
