import type { Actor } from 'xstate';
import type { TimerHandle } from '../clock.ts';
import type { AbortReason, SessionTask } from '../protocol.ts';
import type { SessionKind, SessionMachine, SessionState } from '../session/machine.ts';

/** A task before dispatch: the budget is computed when it leaves for a worker. */
export type PendingTask = DistributiveOmit<SessionTask, 'budgetMs'>;

export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What the supervisor is asked to run: one session, validated and resolved. */
export interface SessionSpec {
  kind: SessionKind;
  sessionId: string;
  requestId: string;
  provider?: string;
  model?: string;
  task: PendingTask;
  timeoutMs: number;
  signal?: AbortSignal;
  onDelta?: (text: string) => void;
  /** Strings that must never leave in an error message (the provider's API key). */
  secrets: readonly string[];
  /** Builds what the caller receives from the worker's value and the session's metadata. */
  toValue(value: unknown, session: SessionSummary): unknown;
}

export interface SessionSummary {
  sessionId: string;
  requestId: string;
  durationSeconds: number;
  attempts: number;
}

/** The supervisor's bookkeeping of one admitted session, from admission to release. */
export interface SessionRecord {
  readonly spec: SessionSpec;
  readonly actor: Actor<SessionMachine>;
  readonly admittedAt: number;
  readonly deadlineAt: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  deadline?: TimerHandle;
  kill?: TimerHandle;
  holdsSlot: boolean;
  released: boolean;
  threadId?: number;
  /** An abort asked for and not yet confirmed by the worker settling the call. */
  abortReason?: AbortReason;
  streamed: boolean;
  /** Characters of answer text handed to the caller's onDelta so far. */
  delivered: number;
  crashRetries: number;
  detachSignal?: () => void;
}

export function stateOf(record: SessionRecord): SessionState {
  return record.actor.getSnapshot().value as SessionState;
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
}

/** A worker began running the session (first attempt or a retry after a crash). */
export interface StartedEvent {
  sessionId: string;
  requestId: string;
  threadId: number;
  at: number;
  attempt: number;
}

/** A provider call failed and will be tried again after `delayMs`. */
export interface RetryEvent {
  sessionId: string;
  requestId: string;
  provider?: string;
  /** The number of the attempt about to be made (2 for the first retry). */
  attempt: number;
  delayMs: number;
  /** The failed attempt's error; `status` and `providerCode` when the provider answered. */
  error: { code: string; message: string; status?: number; providerCode?: string };
  at: number;
}
