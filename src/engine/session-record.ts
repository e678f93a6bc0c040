import type { Actor } from 'xstate';
import type { Abortable } from './abort-router.ts';
import type { TimerHandle } from '../util/clock.ts';
import type { Lifecycle } from './session/lifecycle.ts';
import type { SessionMachine } from './session/machine.ts';
import type { SessionState } from '../types/session.ts';
import type { SessionSpec } from '../seam/seam.ts';

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
