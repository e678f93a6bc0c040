// The session behind a completion, reachable without adding a field to the SDK's types.
import type { ChatResult, SessionMetadata } from '../types/chat.ts';

const results = new WeakMap<object, ChatResult>();

export function remember<T extends object>(target: T, result: ChatResult): T {
  results.set(target, result);
  return target;
}

/**
 * The session behind a completion, a stream or a stream's final completion from
 * `supervisor.openai()`: its sessionId, requestId, durationSeconds, attempts, crashRetries (and
 * `host` behind a queue). The SDK's types gain no field: this reads a private table.
 *
 * @param completion - A `ChatCompletion` or {@link ChatCompletionChunkStream} from {@link Completions.create}.
 * @returns Its {@link SessionMetadata}, or undefined for any other object (and for a stream not yet read to its end).
 *
 * @example
 * ```ts
 * import { createSupervisor, sessionOf, startMockProvider } from 'sessionpool';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { openai: { baseURL: mock.baseURL('openai'), apiKey: 'sk-test' } } });
 * const completion = await supervisor.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] });
 *
 * const session = sessionOf(completion);
 * console.log(session?.sessionId, session?.requestId, session?.durationSeconds, session?.attempts);
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export function sessionOf(completion: object): SessionMetadata | undefined {
  return results.get(completion)?.metadata.session;
}

/**
 * The whole {@link ChatResult} behind a completion or stream from `supervisor.openai()`:
 * continuation, cache and response metadata included (`metadata.response.requestId` is the
 * provider's `x-request-id`).
 *
 * @param completion - A `ChatCompletion` or {@link ChatCompletionChunkStream} from {@link Completions.create}.
 * @returns The result, or undefined for any other object (and for a stream not yet read to its end).
 *
 * @example
 * ```ts
 * import { createSupervisor, resultOf, startMockProvider } from 'sessionpool';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-test' } } });
 * const completion = await supervisor.openai({ provider: 'kimi' }).chat.completions.create(
 *   { model: 'moonshot-v1-8k', messages: [{ role: 'user', content: 'A long answer [[mock lengthRounds=1]]' }] },
 *   { continuation: true }, // continue an answer cut at `length` (off by default, as with the SDK)
 * );
 *
 * const result = resultOf(completion);
 * console.log(result?.metadata.continuation, result?.metadata.response); // { attempts: 2, … } and the provider's request id
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export function resultOf(completion: object): ChatResult | undefined {
  return results.get(completion);
}
