// The OpenAI-shaped client's own types: its options, what it needs of a supervisor, and the SDK's
// per-request options it honours.
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

/** The SDK's per-request options this client honours (`timeout` is the whole session's deadline here). */
export interface CreateOptions {
  /** Aborts the session (ERR_SESSION_ABORTED, with the signal's reason as `cause`). */
  signal?: AbortSignal | null;
  /** Deadline of the whole session in milliseconds, queue wait and retries included. @default the supervisor's `timeoutMs` */
  timeout?: number;
  /** Retries of a failed provider call. @default the supervisor's `retry.maxRetries` (2) */
  maxRetries?: number;
  /** Headers sent with every call of the session; a `null` value is left out. */
  headers?: Record<string, string | null | undefined> | Headers;
  /** Continue answers cut at `length` (off by default, as with the SDK). @default false */
  continuation?: boolean | ContinuationOptions;
  /** Your id for the session. @default a UUID */
  requestId?: string;
  /** Your data for the session (not sent). */
  metadata?: Record<string, unknown>;
}
