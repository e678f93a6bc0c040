// An OpenAI-shaped client on the pool: `chat.completions.create(body, options)` takes the openai
// SDK's own ChatCompletionCreateParams and returns its ChatCompletion (or, with `stream: true`, a
// Stream-like iterable of ChatCompletionChunk); every call is one supervised session.
import type {
  ChatCompletion,
  ChatCompletionCreateParams,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import type { ChatResult } from '../types/chat.ts';
import { ChatCompletionChunkStream } from './chunk-stream.ts';
import { toChatCompletion } from './completion.ts';
import { toChatRequest } from './params.ts';
import type { CreateOptions, ChatEngine, OpenAIClientOptions } from '../types/openai.ts';
import { remember } from './sessions.ts';

/**
 * `client.chat.completions` of {@link SessionPoolOpenAI}: the openai SDK's `create()`, each call one
 * supervised session on the pool.
 *
 * @example
 * ```ts
 * import { Completions, createSupervisor, startMockProvider } from 'sessionpool';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { openai: { baseURL: mock.baseURL('openai'), apiKey: 'sk-test' } } });
 * const completions: Completions = supervisor.openai().chat.completions;
 *
 * const completion = await completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] });
 * console.log(completion.choices[0]?.message.content);
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class Completions {
  readonly #engine: ChatEngine;
  readonly #provider: string;

  /**
   * @param engine - The supervisor (or any {@link ChatEngine}) the calls run on.
   * @param provider - The provider every call goes to (a built-in or configured name).
   */
  constructor(engine: ChatEngine, provider: string) {
    this.#engine = engine;
    this.#provider = provider;
  }

  /**
   * Runs a chat completion as a session and resolves with the openai SDK's `ChatCompletion`, built
   * from the session's {@link ChatResult} (the served head fields, every choice as the server sent
   * it, usage in snake_case). Body fields the client types (`temperature`, `max_tokens`, `tools`, …)
   * become the request's options; any other is sent as it is. A `null` field is left out.
   *
   * @param body - The SDK's `ChatCompletionCreateParams` (`model`, `messages`, …).
   * @param options - The SDK's per-request options this client honours: `signal`, `timeout` (the
   *   whole session's deadline, ms), `maxRetries`, `headers`, and `continuation`, `requestId`,
   *   `metadata` ({@link CreateOptions}).
   * @returns The completion; {@link sessionOf} and {@link resultOf} give its session. Rejects as
   *   {@link Supervisor.chat | chat()} does (a {@link SessionPoolError} with a `code`: ERR_INVALID_REQUEST,
   *   ERR_SESSION_TIMEOUT, ERR_PROVIDER and its subclasses by status, named as the SDK's, …).
   *
   * @example
   * ```ts
   * import { createSupervisor, sessionOf, startMockProvider } from 'sessionpool';
   *
   * const mock = await startMockProvider();
   * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-test' } } });
   * const openai = supervisor.openai({ provider: 'kimi' });
   *
   * const completion = await openai.chat.completions.create(
   *   { model: 'moonshot-v1-8k', messages: [{ role: 'user', content: 'Hello' }], temperature: 0.3 },
   *   { timeout: 30_000, maxRetries: 1 },
   * );
   * console.log(completion.choices[0]?.message.content, completion.usage?.total_tokens, sessionOf(completion)?.attempts);
   * await supervisor.close();
   * await mock.close();
   * ```
   */
  create(body: ChatCompletionCreateParamsNonStreaming, options?: CreateOptions): Promise<ChatCompletion>;
  /**
   * With `stream: true`: runs the completion as a streamed session and resolves, once the request
   * was checked and admitted, with a {@link ChatCompletionChunkStream} of the SDK's
   * `ChatCompletionChunk`s (its `controller` aborts the session). The usage chunk comes only with
   * `stream_options: { include_usage: true }`.
   *
   * @param body - The SDK's streaming `ChatCompletionCreateParams` (`stream: true`).
   * @param options - As for a completion that is not streamed ({@link CreateOptions}).
   * @returns The stream; failures after admission are thrown by its iterator.
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
   *   messages: [{ role: 'user', content: 'Tell me a story' }],
   *   stream: true,
   *   stream_options: { include_usage: true },
   * });
   * for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? '');
   * await supervisor.close();
   * await mock.close();
   * ```
   */
  create(body: ChatCompletionCreateParamsStreaming, options?: CreateOptions): Promise<ChatCompletionChunkStream>;
  /**
   * A body whose `stream` is known only at run time: a `ChatCompletion`, or with `stream: true` a
   * {@link ChatCompletionChunkStream}.
   *
   * @param body - The SDK's `ChatCompletionCreateParams`.
   * @param options - As above ({@link CreateOptions}).
   */
  create(body: ChatCompletionCreateParams, options?: CreateOptions): Promise<ChatCompletion | ChatCompletionChunkStream>;
  async create(body: ChatCompletionCreateParams, options: CreateOptions = {}): Promise<ChatCompletion | ChatCompletionChunkStream> {
    const request = toChatRequest(this.#provider, body, options);
    if (body.stream !== true) {
      const result = await this.#engine.chat(request);
      return remember(toChatCompletion(result), result);
    }
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    const events = this.#engine.stream({ ...request, signal });
    return new ChatCompletionChunkStream(events, controller, body.stream_options?.include_usage === true);
  }
}

/**
 * `supervisor.openai()`: the part of the openai SDK's client that runs chat completions on the pool,
 * so code written for `new OpenAI()` runs each call as a supervised session. Only
 * `chat.completions.create()` is there.
 *
 * @example
 * ```ts
 * import { createSupervisor, resultOf, SessionPoolOpenAI, startMockProvider } from 'sessionpool';
 *
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-test' } } });
 * const openai = new SessionPoolOpenAI(supervisor, { provider: 'kimi' }); // the same as supervisor.openai({ provider: 'kimi' })
 *
 * const completion = await openai.chat.completions.create({ model: 'moonshot-v1-8k', messages: [{ role: 'user', content: 'Hello' }] });
 * console.log(completion.choices[0]?.message.content, resultOf(completion)?.metadata.response);
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class SessionPoolOpenAI {
  /** The SDK's `client.chat`. */
  readonly chat: {
    /** The SDK's `client.chat.completions`: {@link Completions.create | create()} runs a completion as a session. */
    readonly completions: Completions;
  };

  /**
   * @param engine - The supervisor (or any {@link ChatEngine}) the calls run on.
   * @param options - The provider the calls go to (`provider`, default `'openai'`).
   */
  constructor(engine: ChatEngine, options: OpenAIClientOptions = {}) {
    this.chat = { completions: new Completions(engine, options.provider ?? 'openai') };
  }
}
