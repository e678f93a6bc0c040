// The session machine compiled into a table, for sessions nobody inspects. An XState actor costs
// ~25 µs of main-thread CPU per session (create, start, three transitions, stop), and the pure
// `transition()` far more (it builds an inert actor on every call, ~100 µs a session); this table
// is read from the same machine definition — its states, transitions, guards and named actions —
// so the machine stays the one description of the lifecycle, and a machine this table cannot
// follow (an inline action, a nested state) fails here, at load, not at run time.
// test/engine/session-lifecycle.test.ts checks that both ways agree on every event sequence.
import type { AnyStateMachine } from 'xstate';
import { initialContext, sessionGuards, sessionMachine, sessionUpdates, type SessionContext, type SessionEvent, type SessionInput } from './machine.ts';
import type { SessionState } from '../../types/session.ts';

type Update = (context: SessionContext, event: SessionEvent) => Partial<SessionContext>;
type Guard = (context: SessionContext, event: SessionEvent) => boolean;

interface Step {
  /** undefined: the transition stays in its state (its actions still run). */
  target: SessionState | undefined;
  guard: Guard | undefined;
  updates: Update[];
}

type Table = Record<string, Record<string, Step[]>>;

/** What the table drives: a session's state and context, kept on the supervisor's own record. */
export interface Lifecycle {
  state: SessionState;
  context: SessionContext;
}

function named<T>(kind: string, name: unknown, from: Record<string, T>): T {
  const found = typeof name === 'string' ? from[name] : undefined;
  if (found === undefined) throw new Error(`lifecycle: the session machine uses ${kind} ${String(name)}, which the compiled table does not know`);
  return found;
}

export function compile(machine: AnyStateMachine, updates: Record<string, Update>, guards: Record<string, Guard>): Table {
  const table: Table = {};
  for (const [state, node] of Object.entries(machine.states)) {
    if (node.type !== 'atomic' && node.type !== 'final') throw new Error(`lifecycle: state ${state} is ${node.type}; the table follows flat machines only`);
    const on: Record<string, Step[]> = {};
    for (const [type, transitions] of node.transitions) {
      on[type] = transitions.map((t) => ({
        target: t.target?.[0]?.key as SessionState | undefined,
        guard: t.guard === undefined ? undefined : named('guard', t.guard, guards),
        updates: t.actions.map((action) => named('action', action, updates)),
      }));
    }
    table[state] = on;
  }
  return table;
}

const TABLE = compile(sessionMachine, sessionUpdates, sessionGuards);
const INITIAL = sessionMachine.root.initial.target[0]?.key as SessionState;

export function initialLifecycle(input: SessionInput): Lifecycle {
  return { state: INITIAL, context: initialContext(input) };
}

/** Applies `event` to `lifecycle` in place, as the machine would; returns the state it was in. */
export function step(lifecycle: Lifecycle, event: SessionEvent): SessionState {
  const from = lifecycle.state;
  const steps = TABLE[from]?.[event.type];
  if (steps === undefined) return from;
  for (const candidate of steps) {
    if (candidate.guard !== undefined && !candidate.guard(lifecycle.context, event)) continue;
    let { context } = lifecycle;
    for (const update of candidate.updates) context = { ...context, ...update(context, event) };
    lifecycle.context = context;
    if (candidate.target !== undefined) lifecycle.state = candidate.target;
    return from;
  }
  return from;
}
