import { assign, setup } from 'xstate';
import type { WireError } from '../../types/errors.ts';
import type { SessionKind } from '../../types/session.ts';
import type { SessionOutcome } from '../../types/session.ts';

export interface SessionInput {
  sessionId: string;
  requestId: string;
  kind: SessionKind;
  provider?: string;
  model?: string;
  at: number;
}

export interface SessionContext {
  sessionId: string;
  requestId: string;
  kind: SessionKind;
  provider?: string;
  model?: string;
  createdAt: number;
  dispatchedAt?: number;
  endedAt?: number;
  releasedAt?: number;
  attempts: number;
  outcome?: SessionOutcome;
  error?: WireError;
}

/** Every event carries the time it happened, read from the supervisor's (injectable) clock. */
export type SessionEvent =
  | { type: 'DISPATCH'; at: number }
  | { type: 'RETRY'; at: number; attempt: number; error: WireError }
  | { type: 'COMPLETE'; at: number; attempts: number }
  | { type: 'FAIL'; at: number; error: WireError; attempts?: number }
  | { type: 'TIMEOUT'; at: number; error: WireError }
  | { type: 'ABORT'; at: number; error: WireError }
  | { type: 'RELEASE'; at: number };

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

export const sessionGuards = {
  // Retry reports may arrive late or twice (batched across threads): only a higher count counts.
  isNewAttempt: (context: SessionContext, event: SessionEvent) => event.type === 'RETRY' && event.attempt > context.attempts,
};

export function initialContext(input: SessionInput): SessionContext {
  const context: SessionContext = { sessionId: input.sessionId, requestId: input.requestId, kind: input.kind, createdAt: input.at, attempts: 0 };
  if (input.provider !== undefined) context.provider = input.provider;
  if (input.model !== undefined) context.model = input.model;
  return context;
}

const update = (name: keyof typeof sessionUpdates) =>
  assign<SessionContext, SessionEvent, undefined, SessionEvent, never>(({ context, event }) => sessionUpdates[name](context, event));

/**
 * The lifecycle of one session: created → processing → completed | failed → released.
 * Waiting for a slot is `created`. Terminal states leave only to `released`; `released` is final.
 */
export const sessionMachine = setup({
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

export type SessionMachine = typeof sessionMachine;
