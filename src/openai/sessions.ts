// The session behind a completion, reachable without adding a field to the SDK's types.
import type { ChatResult, SessionMetadata } from '../types/chat.ts';

const results = new WeakMap<object, ChatResult>();

export function remember<T extends object>(target: T, result: ChatResult): T {
  results.set(target, result);
  return target;
}

/** The session metadata (sessionId, requestId, durationSeconds, attempts) of a completion or stream from `supervisor.openai()`. */
export function sessionOf(completion: object): SessionMetadata | undefined {
  return results.get(completion)?.metadata.session;
}

/** The whole ChatResult behind a completion (continuation, cache and response metadata included). */
export function resultOf(completion: object): ChatResult | undefined {
  return results.get(completion);
}
