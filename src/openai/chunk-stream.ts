// A streamed session as the openai SDK's Stream<ChatCompletionChunk>: the SDK's own Stream class
// (so `tee()`, `toReadableStream()`, `controller` and `instanceof Stream` are the SDK's), fed with
// chunks built from the session's events, plus `finalChatCompletion()`. The session's events
// arrive batched: one chunk may carry several of the server's pieces.
import { APIUserAbortError, OpenAIError } from 'openai';
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import { Stream } from 'openai/streaming';
import type { ChatResult, ResponseHead } from '../types/chat.ts';
import type { StreamEvent } from '../types/session.ts';
import { headFields, toChatCompletion, toCompletionUsage } from './completion.ts';
import { toSDKError } from './errors.ts';
import { remember } from './sessions.ts';

type Writable = Record<string, unknown>;

/**
 * A streamed completion, from {@link Completions.create} with `stream: true`: the openai SDK's
 * `Stream<ChatCompletionChunk>` (an instance of it), plus
 * {@link ChatCompletionChunkStream.finalChatCompletion | finalChatCompletion()} and `result`. As
 * with the SDK, it is iterated once (`tee()` splits it), `controller.abort()` or the caller's
 * `signal` end a loop quietly (and stop the session), leaving the loop early (`break`) aborts the
 * session, and failures while reading are the SDK's error classes. Chunks are rebuilt from the
 * session's events: their text, reasoning and tool-call pieces add up to the same message as the
 * SDK's, but boundaries differ (pieces of one worker turn arrive joined), and the refusal and
 * logprobs come in the finish chunk.
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
 * for await (const chunk of stream) if (++received === 3) stream.controller.abort(); // stops the session; the loop ends quietly
 * console.log(received, stream.controller.signal.aborted); // 3 true
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class ChatCompletionChunkStream extends Stream<ChatCompletionChunk> {
  readonly #events: AsyncIterator<StreamEvent>;
  readonly #includeUsage: boolean;
  #first: IteratorResult<StreamEvent> | undefined;
  #head: Writable = {};
  #used = false;
  #result: ChatResult | undefined;
  #detach: (() => void) | undefined;

  /**
   * Made by {@link Completions.create}; not for constructing yourself.
   * @param events - The session's events ({@link Supervisor.stream}).
   * @param controller - Aborts the session: its signal must be the session's.
   * @param includeUsage - Yield a last chunk with the usage (`stream_options.include_usage`).
   * @param first - The first event, already read (create() resolves once it came).
   * @param detach - Removes the listener that ties the caller's signal to `controller`.
   */
  constructor(
    events: AsyncIterator<StreamEvent>,
    controller: AbortController,
    includeUsage: boolean,
    first?: IteratorResult<StreamEvent>,
    detach?: () => void,
  ) {
    super(() => (this as ChatCompletionChunkStream).#chunks(), controller);
    this.#events = events;
    this.#includeUsage = includeUsage;
    this.#first = first;
    this.#detach = detach;
  }

  /**
   * Reads the stream to its end (unless iterated already) and returns the whole completion, as a
   * call without `stream` would have; {@link sessionOf} and {@link resultOf} work on it.
   *
   * @returns The `ChatCompletion`. Rejects with the session's failure (the SDK's error class where it
   *   has one), with APIUserAbortError when the stream was aborted, or with an OpenAIError when it
   *   was left early.
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
    if (this.#result === undefined) throw this.controller.signal.aborted ? new APIUserAbortError() : new OpenAIError('The stream ended without a result');
    return remember(toChatCompletion(this.#result), this.#result);
  }

  /** The session's result once the stream has ended. */
  get result(): ChatResult | undefined {
    return this.#result;
  }

  /**
   * The chunks, in order: a first one with `role: 'assistant'`, the text, reasoning and tool-call
   * pieces, the finish chunk, and with `include_usage` a last chunk with `usage` and no choices.
   */
  async *#chunks(): AsyncGenerator<ChatCompletionChunk> {
    if (this.#used) throw new OpenAIError('Cannot iterate over a consumed stream, use `.tee()` to split the stream.');
    this.#used = true;
    let done = false;
    // Every chunk repeats the head; pieces that came before it (see StreamTally) wait for it.
    let waiting: StreamEvent[] | undefined = [];
    try {
      for (let next = this.#first ?? (await this.#events.next()); !next.done; next = await this.#events.next()) {
        this.#first = undefined;
        const event = next.value;
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
      done = true;
    } catch (error) {
      // As the SDK's Stream: `controller.abort()` (or the caller's signal) ends the loop without an error.
      if (this.controller.signal.aborted) return;
      throw toSDKError(error);
    } finally {
      this.#detach?.();
      if (!done) {
        this.controller.abort();
        void this.#events.return?.().catch(() => undefined);
      }
    }
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
