// The public types of sessions: their kinds, states and outcomes, the events a supervisor emits
// (transitions, starts, retries, circuits, fallbacks), what stream() yields, and close()'s report.
import type { Usage, ResponseHead, ChatResult, SessionMetadata } from './chat.ts';

import type { RouteOutcome } from './route.ts';

/** What a session runs: a provider call (`chat()`, `stream()`, the openai client) or an `execute()` handler. */
export type SessionKind = 'chat' | 'execute';

/**
 * A state of the session machine: `created` (admitted, waiting for a slot or a key's budget),
 * `processing` (running on a worker), `completed` or `failed` (the caller has its answer or error),
 * `released` (its slot and resources freed; final). Every session passes
 * `created → processing → completed | failed → released` (or `created → failed → released`) once.
 */
export type SessionState = 'created' | 'processing' | 'completed' | 'failed' | 'released';

/** How a session ended: a timeout and an abort are outcomes of their own, never generic failures. */
export type SessionOutcome = 'completed' | 'failed' | 'timeout' | 'aborted';

/** A session changed state (the supervisor's `transition` event): one per state, `created` to `released`. */
export interface TransitionEvent {
  /** The engine's id of the session. */
  sessionId: string;
  /** The request's `requestId` (yours, or the UUID given to it). */
  requestId: string;
  /** The state it left; `null` for the first event (`to: 'created'`). */
  from: SessionState | null;
  /** The state it entered. */
  to: SessionState;
  /** When, in ms on the supervisor's clock (`performance.now()` unless `clock` says otherwise): monotonic, not wall-clock time. */
  at: number;
  /** Whether it is a chat or an `execute()` handler. */
  kind: SessionKind;
  /** A chat's provider, as the request named it. */
  provider?: string;
  /** A chat's model (the request's, or the provider's `defaultModel`). */
  model?: string;
  /** Provider calls (or handler runs) made so far: 0 before `processing`, then 1 plus every retry. */
  attempt: number;
  /** The worker thread that ran it, once known (from the outcome on). */
  threadId?: number;
  /** The error code of a session that failed, with its outcome (`timeout`, `aborted`, `failed`). */
  error?: {
    /** The error's code (ERR_SESSION_TIMEOUT, ERR_PROVIDER, …). */
    code: string;
    /** The error's message. */
    message: string;
  };
  /** How it ended (a SessionOutcome: `completed`, `failed`, `timeout`, `aborted`), on `completed`, `failed` and `released`. */
  outcome?: string;
  /** The request's `metadata`, when it had some. */
  metadata?: Record<string, unknown>;
}

/** A worker began running the session (first attempt or a retry after a crash). */
export interface StartedEvent {
  /** The engine's id of the session. */
  sessionId: string;
  /** The request's `requestId`. */
  requestId: string;
  /** The worker thread running it (its `threadId`). */
  threadId: number;
  /** When, in ms on the supervisor's clock (monotonic, not wall-clock time). */
  at: number;
  /** The session's attempt count at the start: 1 for the first run, more after a run lost to a crashed thread. */
  attempt: number;
  /** The request's `metadata`, when it had some. */
  metadata?: Record<string, unknown>;
}

/** A provider call failed and will be tried again after `delayMs`. */
export interface RetryEvent {
  /** The engine's id of the session. */
  sessionId: string;
  /** The request's `requestId`. */
  requestId: string;
  /** The provider the request named. */
  provider?: string;
  /** The number of the attempt about to be made (2 for the first retry). */
  attempt: number;
  /** The wait before that attempt, in ms (backoff with jitter, or the provider's Retry-After spread). */
  delayMs: number;
  /** The wait the provider asked for (Retry-After); `delayMs` is never shorter, and spread above it. */
  retryAfterMs?: number;
  /** The failed attempt's error; `status` and `providerCode` when the provider answered. */
  error: {
    /** The error's code (ERR_PROVIDER, ERR_PROVIDER_RESPONSE, …). */
    code: string;
    /** The error's message. */
    message: string;
    /** The HTTP status the provider answered with (429, 503, …). */
    status?: number;
    /** The provider's own error code or type. */
    providerCode?: string;
  };
  /** When the attempt failed, in ms on the supervisor's clock (monotonic, not wall-clock time). */
  at: number;
  /** The request's `metadata`, when it had some. */
  metadata?: Record<string, unknown>;
}

/**
 * What `stream()` yields: answer text, reasoning text, tool-call deltas (`index` says which call;
 * `id` and `name` come with its first delta, `arguments` in pieces), usage as the server reports
 * it, the response head (id, created, served model, …) once at the start, then one `result`.
 */
export type StreamEvent =
  | {
      /** Answer text. */
      type: 'delta';
      /** The next piece of the answer. */
      text: string;
    }
  | {
      /** Reasoning text of a thinking model (`reasoning_content`). */
      type: 'reasoning';
      /** The next piece of the reasoning. */
      text: string;
    }
  | {
      /** A piece of a tool call. */
      type: 'tool-call';
      /** Which call of the turn it belongs to (0 for the first). */
      index: number;
      /** The call's id, with its first delta. */
      id?: string;
      /** The function's name, with its first delta. */
      name?: string;
      /** The next piece of the arguments' JSON text. */
      arguments?: string;
    }
  | {
      /** Token counts as the server reported them in the stream. */
      type: 'usage';
      /** The counts of one round, as a chunk carried them (the result's `usage` sums every round). */
      usage: Usage;
    }
  | {
      /** The response head, once at the start. */
      type: 'response';
      /** The completion's id, creation time, served model, … */
      head: ResponseHead;
    }
  | {
      /** The session's result, always the last event. */
      type: 'result';
      /** The same ChatResult `chat()` resolves with. */
      result: ChatResult;
    };

/** Why a session was stopped before its worker finished: its deadline, its caller's signal, or `close()`. */
export type AbortReason = 'timeout' | 'aborted' | 'closed';

/** A circuit breaker's change of state. */
export interface CircuitChange {
  /** The state it left. */
  from: CircuitState;
  /** The state it entered. */
  to: CircuitState;
  /** When, in ms on the supervisor's clock (monotonic, not wall-clock time). */
  at: number;
  /** Why, in words: `5 consecutive failures`, `6 of 10 calls failed in 30000 ms`, `cool-down of 10000 ms over`, `probe succeeded`, `probe failed`. */
  reason: string;
}

/** A provider's circuit breaker changed state (the supervisor's `circuit` event; needs `routing.breaker`). */
export interface CircuitEvent extends CircuitChange {
  /** The provider whose circuit it is. */
  provider: string;
}

/** A session left a target for its next one (the supervisor's `fallback` event). */
export interface FallbackEvent {
  /** The engine's id of the session. */
  sessionId: string;
  /** The request's `requestId`. */
  requestId: string;
  /** The target it left. */
  from: {
    /** That target's provider. */
    provider: string;
    /** The model asked of it. */
    model: string;
  };
  /** The target it goes to next. */
  to: {
    /** That target's provider. */
    provider: string;
    /** The model asked of it. */
    model: string;
  };
  /** Why it left (`failed`, `circuit_open`, `no_budget`). */
  reason: RouteOutcome;
  /** The error that made it leave, for `failed`. */
  error?: {
    /** The error's code. */
    code: string;
    /** The error's message. */
    message: string;
  };
  /** When, in ms on the supervisor's clock (monotonic, not wall-clock time). */
  at: number;
}

/** The routing events of the supervisor, by name, with their listeners' arguments. */
export interface RoutingEvents {
  /** A provider's circuit breaker changed state. */
  circuit: [CircuitEvent];
  /** A session left a target for its next one. */
  fallback: [FallbackEvent];
}

/** The session events of the supervisor, by name, with their listeners' arguments. */
export interface EngineEvents {
  /** Every state change of every session. */
  transition: [TransitionEvent];
  /** A worker began running a session (reported only while someone listens). */
  started: [StartedEvent];
  /** A provider call failed and will be tried again. */
  retry: [RetryEvent];
}

/** What `supervisor.execute()` resolves with. */
export interface ExecuteResult<T = unknown> {
  /** What the handler returned (or resolved with), structured-cloned back from its thread. */
  output: T;
  /** The session that ran it; also `request` (the request's own `metadata`), when it had some. */
  metadata: {
    /** Ids, duration, attempts of the session. */
    session: SessionMetadata;
  };
}

/** The options of `supervisor.close()`. */
export interface CloseOptions {
  /**
   * How long running and queued sessions may go on before they are aborted: 0 to 2_147_483_647 ms,
   * or `Infinity` to wait for every one of them (each still ends by its own deadline). @default 10_000
   */
  timeoutMs?: number;
}

/** What `supervisor.close()` resolves with. */
export interface CloseReport {
  /** Sessions not yet released when close() was called, queued ones included. */
  activeAtStart: number;
  /** Of those, the sessions waiting for a slot. */
  queuedAtStart: number;
  /** Of those, the sessions that ended on their own before the timeout (`activeAtStart - aborted`). */
  finishedDuringClose: number;
  /** Sessions aborted when the timeout passed (ERR_SESSION_ABORTED). */
  aborted: number;
  /** How long close() took, in ms. */
  durationMs: number;
}

/** A circuit breaker's state: `closed` (calls go), `open` (calls are refused until the cool-down is over), `halfOpen` (one probe goes). */
export type CircuitState = 'closed' | 'open' | 'halfOpen';
