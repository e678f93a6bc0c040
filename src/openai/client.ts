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
import type { StreamEvent } from '../types/session.ts';
import type { ChatRequest } from '../types/request.ts';
import { ChatCompletionChunkStream } from './chunk-stream.ts';
import { toChatCompletion } from './completion.ts';
import { toChatRequest, type CreateOptions } from './params.ts';
import { remember } from './sessions.ts';

/** What the client needs of a supervisor. */
export interface ChatEngine {
  chat(request: ChatRequest): Promise<ChatResult>;
  stream(request: ChatRequest): AsyncIterableIterator<StreamEvent>;
}

export interface OpenAIClientOptions {
  /** The provider every call goes to (a built-in or configured name). @default 'openai' */
  provider?: string;
}

export class Completions {
  readonly #engine: ChatEngine;
  readonly #provider: string;

  constructor(engine: ChatEngine, provider: string) {
    this.#engine = engine;
    this.#provider = provider;
  }

  create(body: ChatCompletionCreateParamsNonStreaming, options?: CreateOptions): Promise<ChatCompletion>;
  create(body: ChatCompletionCreateParamsStreaming, options?: CreateOptions): Promise<ChatCompletionChunkStream>;
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

/** `supervisor.openai()`: the part of the openai SDK's client that runs chat completions on the pool. */
export class SessionPoolOpenAI {
  readonly chat: { readonly completions: Completions };

  constructor(engine: ChatEngine, options: OpenAIClientOptions = {}) {
    this.chat = { completions: new Completions(engine, options.provider ?? 'openai') };
  }
}
