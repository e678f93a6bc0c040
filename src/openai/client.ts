// An OpenAI-shaped client on the pool: `chat.completions` with the openai SDK's create(), parse(),
// stream() and runTools(), each provider call one supervised session. create() is ours (the SDK's
// params in, its ChatCompletion, Stream and error classes out); the three helpers are the SDK's own
// (parseChatCompletion, ChatCompletionStream, ChatCompletionRunner, ChatCompletionStreamingRunner),
// fed with this client: they call its create() as they call the SDK's.
import type OpenAI from 'openai';
import type { RunnerOptions } from 'openai/lib/AbstractChatCompletionRunner';
import { ChatCompletionRunner } from 'openai/lib/ChatCompletionRunner';
import { ChatCompletionStream, type ChatCompletionStreamParams } from 'openai/lib/ChatCompletionStream';
import { ChatCompletionStreamingRunner } from 'openai/lib/ChatCompletionStreamingRunner';
import { type ExtractParsedContentFromParams, parseChatCompletion, validateInputTools } from 'openai/lib/parser';
import type { RunnableToolFunctionWithContext } from 'openai/lib/RunnableFunction';
import type {
  ChatCompletion,
  ChatCompletionCreateParams,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionParseParams,
  ChatCompletionStreamingToolRunnerParamsWithContext,
  ChatCompletionStreamingToolRunnerParamsWithoutContext,
  ChatCompletionToolRunnerParamsWithContext,
  ChatCompletionToolRunnerParamsWithoutContext,
  ParsedChatCompletion,
} from 'openai/resources/chat/completions';
import { InvalidRequestError } from '../errors/errors.ts';
import type { ChatResult } from '../types/chat.ts';
import type { ChatEngine, CreateOptions, OpenAIClientOptions } from '../types/openai.ts';
import type { StreamEvent } from '../types/session.ts';
import { ChatCompletionChunkStream } from './chunk-stream.ts';
import { toChatCompletion } from './completion.ts';
import { toSDKError } from './errors.ts';
import { toChatRequest } from './params.ts';
import { remember, resultOf } from './sessions.ts';

/** Any tool argument list, as the SDK's own runTools() signatures take it. */
// biome-ignore lint/suspicious/noExplicitAny: the SDK's signatures say `any` here, and the inference of ParsedT depends on it
type Args = any;

/** A completion as the SDK's create() resolves with it: `_request_id` is the provider's `x-request-id` (not enumerable). */
export type WithRequestID<T> = T & {
  /** The provider's request id (its `x-request-id` header), as the SDK sets it; `null` when it sent none. */
  _request_id?: string | null;
};

/** The runners' own options: they pass them on to create() with the rest (the SDK ignores them there). */
const RUNNER_ONLY = ['maxChatCompletions', 'afterCompletion'] as const;

/** `_request_id` on a completion, as the SDK sets it (from `x-request-id`, not enumerable). */
function withRequestId<T extends object>(completion: T, result: ChatResult): T {
  Object.defineProperty(completion, '_request_id', {
    value: result.metadata.response?.requestId ?? null,
    enumerable: false,
    configurable: true,
    writable: true,
  });
  return remember(completion, result);
}

/** The options create() checks: a runner's own options, which it passes along, are taken out. */
function createOptions(options: CreateOptions | RunnerOptions | undefined): CreateOptions {
  // The SDK takes `null` for no options; anything else that is not an object is refused by name.
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    const issue = `\`options\`: expected an object of request options, got a ${typeof options === 'object' ? 'list' : typeof options}`; // never quoted: it may hold a credential
    throw new InvalidRequestError(`Invalid request: ${issue}`, [issue]);
  }
  if (options.__metadata?.['helperMethod'] !== 'runTools' || !RUNNER_ONLY.some((name) => name in options)) return options;
  const { maxChatCompletions: _m, afterCompletion: _a, ...rest } = options as RunnerOptions;
  return rest;
}

/**
 * `client.chat.completions` of {@link SessionPoolOpenAI}: the openai SDK's `create()`, `parse()`,
 * `stream()` and `runTools()`, each provider call one supervised session on the pool.
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
  /** What the SDK's helpers are given as their client: they call `chat.completions.create()` on it. */
  readonly #client: OpenAI;

  /**
   * @param engine - The supervisor (or any {@link ChatEngine}) the calls run on.
   * @param provider - The provider every call goes to (a built-in or configured name).
   */
  constructor(engine: ChatEngine, provider: string) {
    this.#engine = engine;
    this.#provider = provider;
    this.#client = { chat: { completions: this } } as unknown as OpenAI;
  }

  /**
   * Runs a chat completion as a session and resolves with the openai SDK's `ChatCompletion`, built
   * from the session's {@link ChatResult} (the served head fields, every choice as the server sent
   * it, usage in snake_case, `_request_id`). Body fields the client types (`temperature`,
   * `max_tokens`, `tools`, …) become the request's options; any other is sent as it is. A `null`
   * field is left out.
   *
   * @param body - The SDK's `ChatCompletionCreateParams` (`model`, `messages`, …).
   * @param options - The SDK's per-request options ({@link CreateOptions}): `signal`, `timeout` (the
   *   whole session's deadline, ms), `maxRetries`, `headers`, `query`, `idempotencyKey` are honoured,
   *   the others refused with ERR_INVALID_REQUEST naming them; and the pool's `continuation`,
   *   `requestId`, `metadata`, `structuredRetries`.
   * @returns The completion; {@link sessionOf} and {@link resultOf} give its session. Rejects as the
   *   SDK does where it has the class: `APIError` subclasses by status (`RateLimitError`, …, with
   *   `status`, `error`, `code`, `type`, `headers`, `requestID`), `APIConnectionError`,
   *   `APIUserAbortError`, `APIConnectionTimeoutError` (the engine's error is their `cause`);
   *   otherwise with the engine's {@link SessionPoolError} (ERR_INVALID_REQUEST, ERR_QUEUE_FULL, …).
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
  create(body: ChatCompletionCreateParamsNonStreaming, options?: CreateOptions): Promise<WithRequestID<ChatCompletion>>;
  /**
   * With `stream: true`: runs the completion as a streamed session and resolves, as the SDK does,
   * once the provider answered (the first event of the session: its response head or first piece),
   * with a {@link ChatCompletionChunkStream} (the SDK's `Stream<ChatCompletionChunk>`). A provider
   * that refuses (401, 400, 429 after the retries) rejects this call, not the loop. The usage chunk
   * comes only with `stream_options: { include_usage: true }`.
   *
   * @param body - The SDK's streaming `ChatCompletionCreateParams` (`stream: true`).
   * @param options - As for a completion that is not streamed ({@link CreateOptions}).
   * @returns The stream; a failure after the first event is thrown by its iterator.
   *
   * @example
   * ```ts
   * import OpenAI from 'openai';
   * import { createSupervisor, startMockProvider } from 'sessionpool';
   *
   * const mock = await startMockProvider();
   * const supervisor = createSupervisor({ providers: { openai: { baseURL: mock.baseURL('openai'), apiKey: 'sk-test' } } });
   *
   * try {
   *   const stream = await supervisor.openai().chat.completions.create({
   *     model: 'gpt-4o-mini',
   *     messages: [{ role: 'user', content: 'Tell me a story' }],
   *     stream: true,
   *     stream_options: { include_usage: true },
   *   });
   *   for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? '');
   * } catch (error) {
   *   if (error instanceof OpenAI.APIError) console.log(error.status); // a refused request lands here, before the loop
   *   else throw error;
   * }
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
  create(body: ChatCompletionCreateParams, options?: CreateOptions): Promise<WithRequestID<ChatCompletion> | ChatCompletionChunkStream>;
  async create(body: ChatCompletionCreateParams, options?: CreateOptions): Promise<WithRequestID<ChatCompletion> | ChatCompletionChunkStream> {
    let given: CreateOptions;
    let request: ReturnType<typeof toChatRequest>;
    try {
      given = createOptions(options);
      request = toChatRequest(this.#provider, body, given);
    } catch (error) {
      throw toSDKError(error);
    }
    if (body.stream !== true) {
      let result: ChatResult;
      try {
        result = await this.#engine.chat(request);
      } catch (error) {
        throw toSDKError(error);
      }
      return withRequestId(toChatCompletion(result), result);
    }
    // The stream's controller stops the session; the caller's signal aborts it too (and so ends a loop quietly).
    const controller = new AbortController();
    const signal = given.signal ?? undefined;
    const follow = () => controller.abort(signal?.reason);
    if (signal?.aborted) follow();
    else signal?.addEventListener('abort', follow, { once: true });
    const detach = () => signal?.removeEventListener('abort', follow);
    let events: AsyncIterableIterator<StreamEvent>;
    let first: IteratorResult<StreamEvent>;
    try {
      events = this.#engine.stream({ ...request, signal: controller.signal });
      first = await events.next();
    } catch (error) {
      detach();
      throw toSDKError(error);
    }
    return new ChatCompletionChunkStream(events, controller, body.stream_options?.include_usage === true, first, detach);
  }

  /**
   * The SDK's `parse()`: a completion whose message carries `parsed` (the answer of a
   * `response_format` with a JSON schema, such as `zodResponseFormat(schema, name)`, parsed by it) and
   * whose strict function tools' calls carry `parsed_arguments` (`zodFunction()`), by the SDK's own
   * `parseChatCompletion`: refusals leave `parsed` null, a cut answer rejects with the SDK's
   * `LengthFinishReasonError`, a filtered one with `ContentFilterFinishReasonError`. On Kimi and GLM
   * (`json_object` only) the schema goes into the system prompt and the answer is checked against it
   * on the worker first (ERR_PROVIDER_RESPONSE with `issues` when it misses, see `structuredRetries`).
   *
   * @param body - The SDK's `ChatCompletionParseParams` (`response_format`, strict `tools`, …).
   * @param options - As for {@link Completions.create | create()}.
   * @returns The `ParsedChatCompletion`. Throws the SDK's OpenAIError at once for a tool that is not strict.
   *
   * @example
   * ```ts
   * import { zodResponseFormat } from 'openai/helpers/zod';
   * import { z } from 'zod';
   * import { createSupervisor, startMockProvider } from 'sessionpool';
   *
   * const mock = await startMockProvider();
   * const supervisor = createSupervisor({ providers: { glm: { baseURL: mock.baseURL('glm'), apiKey: 'sk-test' } } });
   * const Step = z.object({ explanation: z.string(), output: z.string() });
   * const MathResponse = z.object({ steps: z.array(Step), final_answer: z.string() });
   *
   * const completion = await supervisor.openai({ provider: 'glm' }).chat.completions.parse({
   *   model: 'glm-4.5-flash',
   *   messages: [{ role: 'user', content: 'solve 8x + 31 = 2' }],
   *   response_format: zodResponseFormat(MathResponse, 'math_response'),
   * });
   * console.log(completion.choices[0]?.message.parsed?.final_answer);
   * await supervisor.close();
   * await mock.close();
   * ```
   */
  parse<Params extends ChatCompletionParseParams, ParsedT = ExtractParsedContentFromParams<Params>>(
    body: Params,
    options?: CreateOptions,
  ): Promise<WithRequestID<ParsedChatCompletion<ParsedT>>> {
    validateInputTools(body.tools);
    const metadata = { ...options?.__metadata, helperMethod: 'chat.completions.parse' };
    return this.create(body, { ...options, __metadata: metadata }).then((completion) => {
      const parsed = parseChatCompletion<Params, ParsedT>(completion, body);
      const result = resultOf(completion);
      return result === undefined ? parsed : withRequestId(parsed, result);
    });
  }

  /**
   * The SDK's `stream()`: its own `ChatCompletionStream` (events `content`, `content.delta`,
   * `content.done`, `refusal.*`, `tool_calls.function.arguments.*`, `chunk`, …;
   * `finalChatCompletion()`, `done()`, `abort()`), reading a streamed session of this client.
   *
   * @param body - The SDK's `ChatCompletionStreamParams`.
   * @param options - As for {@link Completions.create | create()}.
   * @returns The SDK's `ChatCompletionStream`.
   *
   * @example
   * ```ts
   * import { createSupervisor, startMockProvider } from 'sessionpool';
   *
   * const mock = await startMockProvider();
   * const supervisor = createSupervisor({ providers: { openai: { baseURL: mock.baseURL('openai'), apiKey: 'sk-test' } } });
   *
   * const stream = supervisor
   *   .openai()
   *   .chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Say this is a test' }] })
   *   .on('content.delta', ({ delta }) => process.stdout.write(delta));
   * const completion = await stream.finalChatCompletion();
   * console.log('\n', completion.choices[0]?.finish_reason);
   * await supervisor.close();
   * await mock.close();
   * ```
   */
  stream<Params extends ChatCompletionStreamParams, ParsedT = ExtractParsedContentFromParams<Params>>(
    body: Params,
    options?: CreateOptions,
  ): ChatCompletionStream<ParsedT> {
    return ChatCompletionStream.createChatCompletion<ParsedT>(this.#client, body, options);
  }

  /**
   * The SDK's `runTools()`: its own `ChatCompletionRunner` (or, with `stream: true`,
   * `ChatCompletionStreamingRunner`) calls the model through this client, runs the tools it asks
   * for (`zodFunction({ name, parameters, function })` or `{ type: 'function', function: { function, parse, parameters } }`),
   * sends their results back, and loops until an answer without tool calls or `maxChatCompletions`.
   * Each model call is one session.
   *
   * @param body - The SDK's tool-runner params (`tools` with their functions).
   * @param options - The SDK's `RunnerOptions`: `maxChatCompletions`, `afterCompletion`, and those of {@link Completions.create | create()}.
   * @returns The SDK's runner (`finalContent()`, `done()`, `abort()`, events `message`, `functionToolCall`, …).
   *
   * @example
   * ```ts
   * import { zodFunction } from 'openai/helpers/zod';
   * import { z } from 'zod';
   * import { createSupervisor, startMockProvider } from 'sessionpool';
   *
   * const mock = await startMockProvider({
   *   behave: (request) => (JSON.stringify(request.body?.messages).includes('"role":"tool"') ? { content: 'It is 50degF in Boston.' } : { toolCalls: [{ name: 'getWeather', arguments: { location: 'Boston' } }] }),
   * });
   * const supervisor = createSupervisor({ providers: { openai: { baseURL: mock.baseURL('openai'), apiKey: 'sk-test' } } });
   *
   * const runner = supervisor.openai().chat.completions.runTools({
   *   model: 'gpt-4o',
   *   messages: [{ role: 'user', content: 'How is the weather in Boston?' }],
   *   tools: [zodFunction({ name: 'getWeather', parameters: z.object({ location: z.string() }), function: async ({ location }) => ({ location, temperature: '50degF' }) })],
   * });
   * console.log(await runner.finalContent()); // It is 50degF in Boston.
   * await supervisor.close();
   * await mock.close();
   * ```
   */
  runTools<
    ToolContext,
    Params extends Omit<ChatCompletionToolRunnerParamsWithContext<Args, ToolContext>, 'toolContext' | 'tools'> = Omit<
      ChatCompletionToolRunnerParamsWithContext<Args, ToolContext>,
      'toolContext' | 'tools'
    >,
    ParsedT = ExtractParsedContentFromParams<Params & ChatCompletionToolRunnerParamsWithContext<Args, ToolContext>>,
  >(
    body: Params & { toolContext: ToolContext; tools: readonly RunnableToolFunctionWithContext<ToolContext>[] },
    options?: RunnerOptions,
  ): ChatCompletionRunner<ParsedT>;
  /**
   * With `stream: true` and a `toolContext`: the streaming runner.
   * @param body - The SDK's streaming tool-runner params with `toolContext`.
   * @param options - The SDK's `RunnerOptions`.
   */
  runTools<
    ToolContext,
    Params extends Omit<ChatCompletionStreamingToolRunnerParamsWithContext<Args, ToolContext>, 'toolContext' | 'tools'> = Omit<
      ChatCompletionStreamingToolRunnerParamsWithContext<Args, ToolContext>,
      'toolContext' | 'tools'
    >,
    ParsedT = ExtractParsedContentFromParams<Params & ChatCompletionStreamingToolRunnerParamsWithContext<Args, ToolContext>>,
  >(
    body: Params & { toolContext: ToolContext; tools: readonly RunnableToolFunctionWithContext<ToolContext>[] },
    options?: RunnerOptions,
  ): ChatCompletionStreamingRunner<ParsedT>;
  /**
   * Without `toolContext`: the runner.
   * @param body - The SDK's tool-runner params.
   * @param options - The SDK's `RunnerOptions`.
   */
  runTools<Params extends ChatCompletionToolRunnerParamsWithoutContext<Args>, ParsedT = ExtractParsedContentFromParams<Params>>(
    body: Params,
    options?: RunnerOptions,
  ): ChatCompletionRunner<ParsedT>;
  /**
   * Without `toolContext`, with `stream: true`: the streaming runner.
   * @param body - The SDK's streaming tool-runner params.
   * @param options - The SDK's `RunnerOptions`.
   */
  runTools<Params extends ChatCompletionStreamingToolRunnerParamsWithoutContext<Args>, ParsedT = ExtractParsedContentFromParams<Params>>(
    body: Params,
    options?: RunnerOptions,
  ): ChatCompletionStreamingRunner<ParsedT>;
  runTools(
    body:
      | ChatCompletionToolRunnerParamsWithoutContext<Args>
      | ChatCompletionToolRunnerParamsWithContext<Args, unknown>
      | ChatCompletionStreamingToolRunnerParamsWithoutContext<Args>
      | ChatCompletionStreamingToolRunnerParamsWithContext<Args, unknown>,
    options?: RunnerOptions,
  ): ChatCompletionRunner<unknown> | ChatCompletionStreamingRunner<unknown> {
    if (body.stream)
      return ChatCompletionStreamingRunner.runTools(this.#client, body as ChatCompletionStreamingToolRunnerParamsWithContext<Args, unknown>, options);
    return ChatCompletionRunner.runTools(this.#client, body as ChatCompletionToolRunnerParamsWithContext<Args, unknown>, options);
  }
}

/**
 * `supervisor.openai()`: the part of the openai SDK's client that runs chat completions on the pool,
 * so code written for `new OpenAI()` runs each call as a supervised session: `chat.completions`
 * with `create()`, `parse()`, `stream()` and `runTools()` (the README's table names what is left out).
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
    /** The SDK's `client.chat.completions`: create(), parse(), stream() and runTools(), each call a session. */
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
