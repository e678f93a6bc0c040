// The OpenAI-shaped client's own types: its options, what it needs of a supervisor, and the SDK's
// per-request options it takes.
import type OpenAI from 'openai';
import type { ChatRequest, ContinuationOptions } from './request.ts';
import type { ChatResult } from './chat.ts';
import type { StreamEvent } from './session.ts';

/** The options of {@link Supervisor.openai | supervisor.openai(options)}. */
export interface OpenAIClientOptions {
  /** The provider every call goes to (a built-in or configured name). @default 'openai' */
  provider?: string;
}

/**
 * What the OpenAI-shaped client needs of a supervisor: a {@link Supervisor} is one (pass your own to
 * put something between the client and the supervisor, or to test code that takes the client).
 */
export interface ChatEngine {
  /** Runs a chat session and resolves with its result ({@link Supervisor.chat}). */
  chat(request: ChatRequest): Promise<ChatResult>;
  /** Runs a streamed chat session ({@link Supervisor.stream}): its events, ending with `result`. */
  stream(request: ChatRequest): AsyncIterableIterator<StreamEvent>;
}

/** The openai SDK's per-request options (its `RequestOptions`), as `chat.completions.create(body, options)` takes them. */
export type SDKRequestOptions = NonNullable<Parameters<OpenAI['chat']['completions']['retrieve']>[1]>;

/**
 * The SDK's per-request options, each honoured or refused with ERR_INVALID_REQUEST naming it:
 * `signal`, `timeout` (here the whole session's deadline), `maxRetries`, `headers` (every form the
 * SDK takes), `query` and `idempotencyKey` (the session's `requestId`) are honoured; `fetchOptions`,
 * `defaultBaseURL`, `method`, `path`, `body`, `stream` and the SDK's internal `__` options other
 * than `__metadata` are refused. Plus the pool's own: `continuation`, `requestId`, `metadata`,
 * `structuredRetries`.
 */
export type CreateOptions = SDKRequestOptions & {
  /** Aborts the session; the call rejects with the SDK's APIUserAbortError (a stream being read ends quietly, as in the SDK). */
  signal?: AbortSignal | null | undefined;
  /** Deadline of the whole session in milliseconds, queue wait and retries included (the SDK's is per HTTP attempt); APIConnectionTimeoutError when it passes. @default the supervisor's `timeoutMs` */
  timeout?: number;
  /** Retries of a failed provider call (the engine's policy: never 400/401/403/404). @default the supervisor's `retry.maxRetries` (2) */
  maxRetries?: number;
  /** Continue answers cut at `length` (off by default, as with the SDK). @default false */
  continuation?: boolean | ContinuationOptions;
  /** Your id for the session. @default the `idempotencyKey`, else a UUID */
  requestId?: string;
  /** Your data for the session (not sent). */
  metadata?: Record<string, unknown>;
  /** With a json_schema `response_format` on Kimi or GLM: times an answer that misses the schema is asked again ({@link ChatRequest.structuredRetries}). @default 0 */
  structuredRetries?: number;
};
