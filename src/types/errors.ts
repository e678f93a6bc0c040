// Errors as data: the codes every error carries, and the plain form an error takes to cross a
// thread or a host (structuredClone drops classes; src/errors rebuilds them).
import type { RouteEntry } from './route.ts';

/** The stable `code` of every error the engine raises: match on it. */
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
  | 'ERR_LISTENER';

/** The plain form of an error that crosses a thread boundary. */
export interface WireError {
  code: string;
  name: string;
  message: string;
  status?: number;
  providerCode?: string;
  retryable?: boolean;
  sessionId?: string;
  requestId?: string;
  /** Set on what an `execute` handler threw: its code is the handler's, never one of the engine's classes. */
  handler?: boolean;
  /** ERR_PROVIDER: the response headers (secrets scrubbed). */
  headers?: Record<string, string>;
  /** ERR_PROVIDER: the provider's request id (`x-request-id`). */
  requestID?: string;
  /** What caused it, as plain data (the SDK's error, for instance). */
  cause?: { name: string; message: string };
  /** The targets a routed session tried, and why it left each (see src/routing). */
  route?: RouteEntry[];
}

export interface SessionIds {
  sessionId?: string;
  requestId?: string;
}
