import type { Actor } from 'xstate';
import type { Abortable } from './abort-router.ts';
import type { TimerHandle } from '../util/clock.ts';
import type { SessionTask, StreamPartEvent } from '../wire/protocol.ts';
import type { Lifecycle } from './session/lifecycle.ts';
import type { SessionMachine } from './session/machine.ts';
import type { SessionKind, SessionState } from '../types/session.ts';
import type { SessionSummary } from '../types/session.ts';

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

/** The request's `metadata` as a field of an event, or nothing. */
export function metadataField(record: SessionRecord): { metadata?: Record<string, unknown> } {
  return record.spec.metadata === undefined ? {} : { metadata: record.spec.metadata };
}
