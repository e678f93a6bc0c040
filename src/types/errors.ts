// Errors as data: the codes every error carries, and the plain form an error takes to cross a
// thread or a host (structuredClone drops classes; src/errors rebuilds them).
import type { RouteEntry } from './route.ts';

/**
 * The stable `code` of every error the engine raises: match on it (`error.code === 'ERR_QUEUE_FULL'`),
 * it survives every thread and host hop where `instanceof` may not. An `execute` handler's own errors
 * keep their own code (HandlerError), and a feature whose optional peer dependency is missing
 * raises `ERR_MISSING_PEER_DEPENDENCY` (MissingPeerDependencyError). `ERR_CIRCUIT_OPEN` (every target
 * of a routed session has its circuit open; nothing was sent) has no exported class: match its code.
 */
export type ErrorCode =
  | 'ERR_INVALID_REQUEST'
  | 'ERR_QUEUE_FULL'
  | 'ERR_SESSION_TIMEOUT'
  | 'ERR_SESSION_ABORTED'
  | 'ERR_PROVIDER'
  | 'ERR_PROVIDER_RESPONSE'
  | 'ERR_WORKER_CRASHED'
  | 'ERR_SUPERVISOR_CLOSED'
  | 'ERR_RESPONSE_TOO_LARGE'
  | 'ERR_CIRCUIT_OPEN'
  | 'ERR_TRANSPORT'
  | 'ERR_HANDLER'
  | 'ERR_HANDLER_RESULT'
  | 'ERR_LISTENER'
  | 'ERR_BUDGET_EXCEEDED';

/**
 * The plain form of an error that crosses a thread boundary: what `error.toJSON()` returns, what a
 * failed continuation round keeps in `metadata.continuation.error`, and what the session machine's
 * context holds.
 */
export interface WireError {
  /** The error's stable code (an ErrorCode, or an `execute` handler's own). */
  code: string;
  /** The class name (`RateLimitError`), or the name an `execute` handler's error had. */
  name: string;
  /** What went wrong, in words (the session's API keys scrubbed from it). */
  message: string;
  /** ERR_PROVIDER: the HTTP status the provider answered with; absent when it never answered. */
  status?: number;
  /** The provider's own error code or type (`rate_limit_reached_error`, GLM's `1302`), when it sent one. */
  providerCode?: string;
  /** Whether the same request may succeed if sent again (the engine's retries already used this). */
  retryable?: boolean;
  /** The session it ended, when it ended one. */
  sessionId?: string;
  /** The request id of that session (yours or the generated one). */
  requestId?: string;
  /** Set on what an `execute` handler threw: its code is the handler's, never one of the engine's classes. */
  handler?: boolean;
  /** ERR_PROVIDER: the response headers (secrets scrubbed). */
  headers?: Record<string, string>;
  /** ERR_PROVIDER: the provider's request id (`x-request-id`). */
  requestID?: string;
  /**
   * ERR_PROVIDER: the openai SDK's error in the worker, as data: its HTTP `status` (absent for an
   * error the provider sent inside a 200 stream) and its `error` (the body's `error` object as sent).
   * What `supervisor.openai()` rebuilds the SDK's own error class from.
   */
  apiError?: {
    /** The HTTP status the SDK error carried; absent for an error sent inside a stream. */
    status?: number;
    /** The `error` object of the provider's body, as sent (secrets scrubbed); absent when there was none. */
    error?: unknown;
  };
  /** ERR_PROVIDER_RESPONSE of a structured answer: each way the answer missed the JSON schema, as `path: problem`. */
  issues?: string[];
  /** What caused it, as plain data (the SDK's error, for instance). */
  cause?: {
    /** The cause's class name. */
    name: string;
    /** The cause's message. */
    message: string;
  };
  /** The targets a routed session tried, and why it left each (see src/routing). */
  route?: RouteEntry[];
}

/** The ids an error carries of the session it ended (both absent for an error raised before a session existed). */
export interface SessionIds {
  /** The engine's id of the session. */
  sessionId?: string;
  /** The session's request id. */
  requestId?: string;
}
