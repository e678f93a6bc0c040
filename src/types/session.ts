import type { Usage } from './chat.ts';
import type { ResponseHead } from './chat.ts';
import type { ChatResult } from './chat.ts';

import type { RouteOutcome } from './route.ts';
import type { SessionMetadata } from './chat.ts';
export type SessionKind = 'chat' | 'execute';

export type SessionState = 'created' | 'processing' | 'completed' | 'failed' | 'released';

/** How a session ended: a timeout and an abort are outcomes of their own, never generic failures. */
export type SessionOutcome = 'completed' | 'failed' | 'timeout' | 'aborted';

export interface TransitionEvent {
  sessionId: string;
  requestId: string;
  from: SessionState | null;
  to: SessionState;
  at: number;
  kind: SessionKind;
  provider?: string;
  model?: string;
  attempt: number;
  threadId?: number;
  /** The error code of a session that failed, with its outcome (`timeout`, `aborted`, `failed`). */
  error?: { code: string; message: string };
  outcome?: string;
  /** The request's `metadata`, when it had some. */
  metadata?: Record<string, unknown>;
}

/** A worker began running the session (first attempt or a retry after a crash). */
export interface StartedEvent {
  sessionId: string;
  requestId: string;
  threadId: number;
  at: number;
  attempt: number;
  metadata?: Record<string, unknown>;
}

/** A provider call failed and will be tried again after `delayMs`. */
export interface RetryEvent {
  sessionId: string;
  requestId: string;
  provider?: string;
  /** The number of the attempt about to be made (2 for the first retry). */
  attempt: number;
  delayMs: number;
  /** The wait the provider asked for (Retry-After); `delayMs` is never shorter, and spread above it. */
  retryAfterMs?: number;
  /** The failed attempt's error; `status` and `providerCode` when the provider answered. */
  error: { code: string; message: string; status?: number; providerCode?: string };
  at: number;
  metadata?: Record<string, unknown>;
}

/**
 * What `stream()` yields: answer text, reasoning text, tool-call deltas (`index` says which call;
 * `id` and `name` come with its first delta, `arguments` in pieces), usage as the server reports
 * it, the response head (id, created, served model, …) once at the start, then one `result`.
 */
export type StreamEvent =
  | { type: 'delta'; text: string }
  | { type: 'reasoning'; text: string }
  | { type: 'tool-call'; index: number; id?: string; name?: string; arguments?: string }
  | { type: 'usage'; usage: Usage }
  | { type: 'response'; head: ResponseHead }
  | { type: 'result'; result: ChatResult };

export type AbortReason = 'timeout' | 'aborted' | 'closed';

export interface CircuitChange {
  from: CircuitState;
  to: CircuitState;
  at: number;
  reason: string;
}

export interface CircuitEvent extends CircuitChange {
  provider: string;
}

export interface FallbackEvent {
  sessionId: string;
  requestId: string;
  from: { provider: string; model: string };
  to: { provider: string; model: string };
  reason: RouteOutcome;
  error?: { code: string; message: string };
  at: number;
}

export interface RoutingEvents {
  circuit: [CircuitEvent];
  fallback: [FallbackEvent];
}

export interface EngineEvents {
  transition: [TransitionEvent];
  started: [StartedEvent];
  retry: [RetryEvent];
}

export interface ExecuteResult<T = unknown> {
  output: T;
  metadata: { session: SessionMetadata };
}

export interface CloseOptions {
  /**
   * How long running and queued sessions may go on before they are aborted: 0 to 2_147_483_647 ms,
   * or `Infinity` to wait for every one of them (each still ends by its own deadline). @default 10_000
   */
  timeoutMs?: number;
}

export interface CloseReport {
  activeAtStart: number;
  queuedAtStart: number;
  finishedDuringClose: number;
  aborted: number;
  durationMs: number;
}

export type CircuitState = 'closed' | 'open' | 'halfOpen';
