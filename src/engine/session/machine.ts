import { assign, setup, type EventObject, type MetaObject, type NonReducibleUnknown, type StateMachine, type StateSchema } from 'xstate';
import type { WireError } from '../../types/errors.ts';
import type { SessionKind, SessionOutcome, SessionState } from '../../types/session.ts';

/** What a session actor is created with (`createActor(sessionMachine, { input })`): the session's identity and admission time. */
export interface SessionInput {
  /** The engine's id of the session. */
  sessionId: string;
  /** The request's `requestId`. */
  requestId: string;
  /** A chat or an `execute()` handler. */
  kind: SessionKind;
  /** A chat's provider. */
  provider?: string;
  /** A chat's model. */
  model?: string;
  /** When it was admitted, in ms on the supervisor's clock: becomes `createdAt`. */
  at: number;
}

/** The session machine's context: what a session's snapshot (and the Stately inspector) shows of it. Times are ms on the supervisor's clock. */
export interface SessionContext {
  /** The engine's id of the session. */
  sessionId: string;
  /** The request's `requestId`. */
  requestId: string;
  /** A chat or an `execute()` handler. */
  kind: SessionKind;
  /** A chat's provider. */
  provider?: string;
  /** A chat's model. */
  model?: string;
  /** When it was admitted (entered `created`). */
  createdAt: number;
  /** When it got a slot and went to a worker (entered `processing`). */
  dispatchedAt?: number;
  /** When it completed or failed. */
  endedAt?: number;
  /** When it was released. */
  releasedAt?: number;
  /** Provider calls (or handler runs) made: 0 until dispatched, then 1 plus every retry. */
  attempts: number;
  /** How it ended, once it did. */
  outcome?: SessionOutcome;
  /** The error it failed with (plain data), for `failed`. */
  error?: WireError;
}

/** Every event carries the time it happened, read from the supervisor's (injectable) clock. */
export type SessionEvent =
  | {
      /** A slot was given and the session sent to a worker: `created` → `processing`. */
      type: 'DISPATCH';
      /** When, in ms on the supervisor's clock. */
      at: number;
    }
  | {
      /** A call failed and will be tried again (stays in `processing`; late or repeated reports are ignored). */
      type: 'RETRY';
      /** When, in ms on the supervisor's clock. */
      at: number;
      /** The number of the attempt about to be made (2 for the first retry). */
      attempt: number;
      /** The failed attempt's error. */
      error: WireError;
    }
  | {
      /** The worker returned a result: `processing` → `completed`. */
      type: 'COMPLETE';
      /** When, in ms on the supervisor's clock. */
      at: number;
      /** Attempts made in all. */
      attempts: number;
    }
  | {
      /** The session failed: → `failed` with outcome `failed`. */
      type: 'FAIL';
      /** When, in ms on the supervisor's clock. */
      at: number;
      /** Why. */
      error: WireError;
      /** Attempts made in all, when known. */
      attempts?: number;
    }
  | {
      /** The deadline passed: → `failed` with outcome `timeout`. */
      type: 'TIMEOUT';
      /** When, in ms on the supervisor's clock. */
      at: number;
      /** The SessionTimeoutError, as plain data. */
      error: WireError;
    }
  | {
      /** The caller (or close()) aborted it: → `failed` with outcome `aborted`. */
      type: 'ABORT';
      /** When, in ms on the supervisor's clock. */
      at: number;
      /** The SessionAbortedError, as plain data. */
      error: WireError;
    }
  | {
      /** Its slot and resources were freed: `completed` | `failed` → `released` (final). */
      type: 'RELEASE';
      /** When, in ms on the supervisor's clock. */
      at: number;
    };

function failed(outcome: SessionOutcome, context: SessionContext, event: SessionEvent): Partial<SessionContext> {
  const error = 'error' in event ? event.error : undefined;
  const attempts = event.type === 'FAIL' && event.attempts !== undefined ? event.attempts : context.attempts;
  return { outcome, endedAt: event.at, attempts, ...(error ? { error } : {}) };
}

type Update = (context: SessionContext, event: SessionEvent) => Partial<SessionContext>;

/**
 * What each named action does to the context, as pure functions: the machine's `assign` actions
 * call them, and so does the compiled table that drives uninspected sessions (lifecycle.ts).
 */
export const sessionUpdates = {
  markDispatched: (_, event) => ({ dispatchedAt: event.at, attempts: 1 }),
  countRetry: (_, event) => (event.type === 'RETRY' ? { attempts: event.attempt } : {}),
  markCompleted: (_, event) => (event.type === 'COMPLETE' ? { outcome: 'completed' as const, endedAt: event.at, attempts: event.attempts } : {}),
  markFailed: (context, event) => failed('failed', context, event),
  markTimedOut: (context, event) => failed('timeout', context, event),
  markAborted: (context, event) => failed('aborted', context, event),
  markReleased: (_, event) => ({ releasedAt: event.at }),
} satisfies Record<string, Update>;

/** The machine's guards, as pure functions (shared with the compiled table, like sessionUpdates). */
export const sessionGuards = {
  // Retry reports may arrive late or twice (batched across threads): only a higher count counts.
  isNewAttempt: (context: SessionContext, event: SessionEvent) => event.type === 'RETRY' && event.attempt > context.attempts,
};

/** The context of a session just admitted. */
export function initialContext(input: SessionInput): SessionContext {
  const context: SessionContext = { sessionId: input.sessionId, requestId: input.requestId, kind: input.kind, createdAt: input.at, attempts: 0 };
  if (input.provider !== undefined) context.provider = input.provider;
  if (input.model !== undefined) context.model = input.model;
  return context;
}

const update = (name: keyof typeof sessionUpdates) =>
  assign<SessionContext, SessionEvent, undefined, SessionEvent, never>(({ context, event }) => sessionUpdates[name](context, event));

/**
 * The type of sessionMachine: an XState `StateMachine` whose context is SessionContext, events
 * SessionEvent, input SessionInput and state values SessionState; no child actors, no delays.
 * Written out rather than inferred, so that it names what a caller uses (`createActor`, `transition`,
 * snapshots); the machine's definition must stay assignable to it (the compiler checks).
 */
export type SessionMachine = StateMachine<
  SessionContext,
  SessionEvent,
  Record<string, never>,
  never,
  {
    /** A named action: each one applies the update of the same name in sessionUpdates to the context. */
    type: 'markDispatched' | 'countRetry' | 'markCompleted' | 'markFailed' | 'markTimedOut' | 'markAborted' | 'markReleased';
    /** Actions take no parameters. */
    params: undefined;
  },
  {
    /** The one guard: a RETRY counts only when its attempt is higher than the context's. */
    type: 'isNewAttempt';
    /** Guards take no parameters. */
    params: unknown;
  },
  never,
  SessionState,
  string,
  SessionInput,
  NonReducibleUnknown,
  EventObject,
  MetaObject,
  StateSchema
>;

/**
 * The lifecycle of one session: created → processing → completed | failed → released.
 * Waiting for a slot is `created`. Terminal states leave only to `released`; `released` is final.
 * The engine drives an equivalent table for every session and runs this machine as an actor only
 * for an `inspect` observer; this one is exported to test, draw (sessionMachineMermaid()) or simulate.
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * import { sessionMachine } from 'sessionpool';
 *
 * const actor = createActor(sessionMachine, { input: { sessionId: 's1', requestId: 'r1', kind: 'chat', at: 0 } }).start();
 * actor.send({ type: 'DISPATCH', at: 5 });
 * actor.send({ type: 'COMPLETE', at: 40, attempts: 1 });
 * console.log(actor.getSnapshot().value, actor.getSnapshot().context.outcome); // completed completed
 * ```
 */
export const sessionMachine: SessionMachine = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as SessionInput,
  },
  actions: {
    markDispatched: update('markDispatched'),
    countRetry: update('countRetry'),
    markCompleted: update('markCompleted'),
    markFailed: update('markFailed'),
    markTimedOut: update('markTimedOut'),
    markAborted: update('markAborted'),
    markReleased: update('markReleased'),
  },
  guards: {
    isNewAttempt: ({ context, event }) => sessionGuards.isNewAttempt(context, event),
  },
}).createMachine({
  id: 'session',
  initial: 'created',
  context: ({ input }) => initialContext(input),
  states: {
    created: {
      on: {
        DISPATCH: { target: 'processing', actions: 'markDispatched' },
        TIMEOUT: { target: 'failed', actions: 'markTimedOut' },
        ABORT: { target: 'failed', actions: 'markAborted' },
        FAIL: { target: 'failed', actions: 'markFailed' },
      },
    },
    processing: {
      on: {
        RETRY: { guard: 'isNewAttempt', actions: 'countRetry' },
        COMPLETE: { target: 'completed', actions: 'markCompleted' },
        FAIL: { target: 'failed', actions: 'markFailed' },
        TIMEOUT: { target: 'failed', actions: 'markTimedOut' },
        ABORT: { target: 'failed', actions: 'markAborted' },
      },
    },
    completed: {
      on: { RELEASE: { target: 'released', actions: 'markReleased' } },
    },
    failed: {
      on: { RELEASE: { target: 'released', actions: 'markReleased' } },
    },
    released: { type: 'final' },
  },
});
