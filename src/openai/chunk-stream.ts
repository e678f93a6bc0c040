// A streamed session as the openai SDK's Stream<ChatCompletionChunk>: an async iterable of chunks
// with a `controller` that aborts the session, plus `finalChatCompletion()`. Chunks are built from
// the session's events, which arrive batched: one chunk may carry several of the server's pieces.
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { ChatResult, ResponseHead } from '../types/chat.ts';
import type { StreamEvent } from '../types/session.ts';
import { headFields, toChatCompletion, toCompletionUsage } from './completion.ts';
import { remember } from './sessions.ts';

type Writable = Record<string, unknown>;

/**
 * A streamed completion, from {@link Completions.create} with `stream: true`, shaped as
 * the openai SDK's `Stream<ChatCompletionChunk>`: an async iterable of chunks (once), a `controller`
 * that aborts the session, and {@link ChatCompletionChunkStream.finalChatCompletion | finalChatCompletion()}.
 * Chunks are rebuilt from the session's events: their text, reasoning and tool-call pieces add up to
 * the same message as the SDK's, but boundaries differ (pieces of one worker turn arrive joined), and
 * the refusal and logprobs come in the finish chunk.
 *
 * @example
 * ```ts
 * import { createSupervisor, startMockProvider } from 'sessionpool';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { openai: { baseURL: mock.baseURL('openai'), apiKey: 'sk-test' } } });
 *
 * const stream = await supervisor.openai().chat.completions.create({
 *   model: 'gpt-4o-mini',
 *   messages: [{ role: 'user', content: 'Tell me a story [[mock chunks=20 chunkDelayMs=50]]' }],
 *   stream: true,
 * });
 * let received = 0;
 * try {
 *   for await (const chunk of stream) if (++received === 3) stream.controller.abort(); // stops the session
 * } catch (error) {
 *   console.log((error as { code?: string }).code); // 'ERR_SESSION_ABORTED'
 * }
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class ChatCompletionChunkStream implements AsyncIterable<ChatCompletionChunk> {
  /** Aborts the session (and so the provider call); iteration then throws ERR_SESSION_ABORTED. */
  readonly controller: AbortController;
  readonly #events: AsyncIterableIterator<StreamEvent>;
  readonly #includeUsage: boolean;
  #head: Writable = {};
  #used = false;
  #result: ChatResult | undefined;

  /**
   * Made by {@link Completions.create}; not for constructing yourself.
   * @param events - The session's events ({@link Supervisor.stream}).
   * @param controller - Aborts the session: its signal must be the session's.
   * @param includeUsage - Yield a last chunk with the usage (`stream_options.include_usage`).
   */
  constructor(events: AsyncIterableIterator<StreamEvent>, controller: AbortController, includeUsage: boolean) {
    this.#events = events;
    this.controller = controller;
    this.#includeUsage = includeUsage;
  }

  /**
   * The chunks, in order: a first one with `role: 'assistant'`, the text, reasoning and tool-call
   * pieces, the finish chunk, and with `include_usage` a last chunk with `usage` and no choices.
   * A stream can be iterated once; leaving the loop early aborts the session.
   *
   * @throws An Error when the stream was iterated already; while iterating, the session's failures
   *   (a {@link SessionPoolError}: ERR_SESSION_ABORTED after `controller.abort()`, ERR_SESSION_TIMEOUT, ERR_PROVIDER, …).
   *
   * @example
   * ```ts
   * import { createSupervisor, startMockProvider } from 'sessionpool';
   *
   * const mock = await startMockProvider();
   * const supervisor = createSupervisor({ providers: { openai: { baseURL: mock.baseURL('openai'), apiKey: 'sk-test' } } });
   * const stream = await supervisor.openai().chat.completions.create({
   *   model: 'gpt-4o-mini',
   *   messages: [{ role: 'user', content: 'Hello' }],
   *   stream: true,
   *   stream_options: { include_usage: true },
   * });
   *
   * for await (const chunk of stream) {
   *   if (chunk.usage) console.log('\n', chunk.usage.total_tokens);
   *   else process.stdout.write(chunk.choices[0]?.delta.content ?? '');
   * }
   * await supervisor.close();
   * await mock.close();
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<ChatCompletionChunk> {
    if (this.#used) throw new Error('Cannot iterate over a consumed stream, use `.tee()` in the openai SDK or iterate once');
    this.#used = true;
    // Every chunk repeats the head; pieces that came before it (see StreamTally) wait for it.
    let waiting: StreamEvent[] | undefined = [];
    for await (const event of this.#events) {
      if (waiting !== undefined && event.type !== 'response' && event.type !== 'result') {
        waiting.push(event);
        continue;
      }
      const chunk = this.#chunkOf(event);
      if (chunk !== undefined) yield chunk;
      if (event.type === 'response' && waiting !== undefined) {
        for (const early of waiting) yield* this.#optional(this.#chunkOf(early));
        waiting = undefined;
      }
      if (event.type === 'result') yield* this.#closing(event.result);
    }
  }

  /**
   * Reads the stream to its end (unless iterated already) and returns the whole completion, as a
   * call without `stream` would have; {@link sessionOf} and {@link resultOf} work on it.
   *
   * @returns The `ChatCompletion`. Rejects with the session's failure, or with an Error when the
   *   stream ended without a result (it was left early).
   *
   * @example
   * ```ts
   * import { createSupervisor, sessionOf, startMockProvider } from 'sessionpool';
   *
   * const mock = await startMockProvider();
   * const supervisor = createSupervisor({ providers: { openai: { baseURL: mock.baseURL('openai'), apiKey: 'sk-test' } } });
   * const stream = await supervisor.openai().chat.completions.create({
   *   model: 'gpt-4o-mini',
   *   messages: [{ role: 'user', content: 'Hello' }],
   *   stream: true,
   * });
   *
   * const completion = await stream.finalChatCompletion();
   * console.log(completion.choices[0]?.message.content, sessionOf(completion)?.durationSeconds);
   * await supervisor.close();
   * await mock.close();
   * ```
   */
  async finalChatCompletion(): Promise<ChatCompletion> {
    if (!this.#used) for await (const _ of this) void _;
    if (this.#result === undefined) throw new Error('the stream ended without a result');
    return remember(toChatCompletion(this.#result), this.#result);
  }

  /** The session's result once the stream has ended. */
  get result(): ChatResult | undefined {
    return this.#result;
  }

  *#optional(chunk: ChatCompletionChunk | undefined): Generator<ChatCompletionChunk> {
    if (chunk !== undefined) yield chunk;
  }

  #chunk(delta: Writable | undefined, extra: Writable = {}): ChatCompletionChunk {
    const choices = delta === undefined ? [] : [{ index: 0, delta, finish_reason: null, ...extra }];
    return { ...this.#head, object: 'chat.completion.chunk', choices } as unknown as ChatCompletionChunk;
  }

  #chunkOf(event: StreamEvent): ChatCompletionChunk | undefined {
    switch (event.type) {
      case 'response':
        this.#head = headFields({ ...event.head, model: event.head.model ?? '' } as ResponseHead & { model: string });
        return this.#chunk({ role: 'assistant', content: '' });
      case 'delta':
        return this.#chunk({ content: event.text });
      case 'reasoning':
        return this.#chunk({ reasoning_content: event.text });
      case 'tool-call': {
        const call: Writable = { index: event.index };
        if (event.id !== undefined) Object.assign(call, { id: event.id, type: 'function' });
        const fn: Writable = {};
        if (event.name !== undefined) fn['name'] = event.name;
        if (event.arguments !== undefined) fn['arguments'] = event.arguments;
        call['function'] = fn;
        return this.#chunk({ tool_calls: [call] });
      }
      default:
        return undefined;
    }
  }

  /** The finish chunk (with the refusal and logprobs the session assembled) and, when asked, the usage chunk. */
  *#closing(result: ChatResult): Generator<ChatCompletionChunk> {
    this.#result = result;
    remember(this, result);
    const choice = result.choices[0];
    const delta: Writable = {};
    if (typeof result.refusal === 'string') delta['refusal'] = result.refusal;
    const extra: Writable = { finish_reason: choice?.finishReason ?? result.finishReason };
    if (choice?.logprobs !== undefined) extra['logprobs'] = choice.logprobs;
    yield this.#chunk(delta, extra);
    if (this.#includeUsage && result.metadata.response?.usageReported !== false) {
      yield { ...this.#chunk(undefined), usage: toCompletionUsage(result.usage) } as ChatCompletionChunk;
    }
  }
}
