import type { Actor } from 'xstate';
import type { Abortable } from './abort-router.ts';
import type { TimerHandle } from '../util/clock.ts';
import type { SessionTask, StreamPartEvent } from '../wire/protocol.ts';
import type { Lifecycle } from './session/lifecycle.ts';
import type { SessionKind, SessionMachine, SessionState } from './session/machine.ts';

/** What the supervisor is asked to run: one session, validated and resolved. */
export interface SessionSpec {
  kind: SessionKind;
  sessionId: string;
  requestId: string;
  provider?: string;
  model?: string;
  /** The task to send; its `budgetMs` and `run` are set on the copy that leaves for a worker. */
  task: SessionTask;
  timeoutMs: number;
  signal?: AbortSignal;
  onDelta?: (text: string) => void;
  /** Run the session again after its thread crashed (chats: when nothing was streamed; handlers: only when asked). */
  retryOnCrash: boolean;
  /** Stream parts besides text (reasoning, tool-call deltas, usage, the response head), in order with the text. */
  onEvent?: (event: StreamPartEvent) => void;
  /** Strings that must never leave in an error message (the provider's API key). */
  secrets: readonly string[];
  /** The caller's own data: on the result and on every event of the session, never sent to a provider. */
  metadata?: Record<string, unknown>;
  /** Builds what the caller receives from the worker's value, the session's summary and the request's `metadata`. */
  toValue(value: unknown, session: SessionSummary, metadata: Record<string, unknown> | undefined): unknown;
}

export interface SessionSummary {
  sessionId: string;
  requestId: string;
  durationSeconds: number;
  attempts: number;
  /** Times the session was run again because the thread running it died (the request was sent again). */
  crashRetries: number;
  /** The worker host that ran it, behind a transport across hosts. */
  host?: string;
}

/**
 * The supervisor's bookkeeping of one admitted session, from admission to release. Its `state`
 * and `context` are the session machine's: driven by the compiled table, or mirrored from the
 * session's actor when one exists (only when `inspect` is set).
 */
export interface SessionRecord extends Abortable, Lifecycle {
  readonly spec: SessionSpec;
  readonly actor: Actor<SessionMachine> | undefined;
  readonly admittedAt: number;
  readonly deadlineAt: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  deadline?: TimerHandle;
  holdsSlot: boolean;
  /** A run was handed to the pool and has not ended: the slot stays taken, whatever the session's state. */
  running: boolean;
  released: boolean;
  streamed: boolean;
  /** Characters of answer text handed to the caller's onDelta so far. */
  delivered: number;
  crashRetries: number;
  /** The last run whose start was reported (`started`): a run reports its start once. */
  reportedRun: number;
  detachSignal?: () => void;
}

/** The session's state, read afresh (a function, so that TypeScript does not keep a narrowing across a transition). */
export function stateOf(record: SessionRecord): SessionState {
  return record.state;
}

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

/** The request's `metadata` as a field of an event, or nothing. */
export function metadataField(record: SessionRecord): { metadata?: Record<string, unknown> } {
  return record.spec.metadata === undefined ? {} : { metadata: record.spec.metadata };
}
