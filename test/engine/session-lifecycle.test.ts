// The compiled table (src/engine/session/lifecycle.ts) and the XState machine it is read from agree: for
// every sequence of events up to four long, and for seeded random longer ones, the table, an actor
// and XState's pure `transition()` go through the same states, the same transitions and the same
// contexts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createActor, initialTransition, setup, transition } from 'xstate';
import { compile, initialLifecycle, step } from '../../src/engine/session/lifecycle.ts';
import { sessionMachine, type SessionEvent } from '../../src/engine/session/machine.ts';
import type { SessionState } from '../../src/types/session.ts';

const error = { code: 'ERR_PROVIDER', name: 'ProviderError', message: 'boom' };
const EVENTS: readonly SessionEvent[] = [
  { type: 'DISPATCH', at: 1 },
  { type: 'RETRY', at: 2, attempt: 2, error },
  { type: 'RETRY', at: 2, attempt: 1, error },
  { type: 'RETRY', at: 3, attempt: 3, error },
  { type: 'COMPLETE', at: 4, attempts: 2 },
  { type: 'FAIL', at: 4, error },
  { type: 'FAIL', at: 4, error, attempts: 5 },
  { type: 'TIMEOUT', at: 5, error: { ...error, code: 'ERR_SESSION_TIMEOUT' } },
  { type: 'ABORT', at: 5, error: { ...error, code: 'ERR_SESSION_ABORTED' } },
  { type: 'RELEASE', at: 9 },
];
const inputs = [
  { sessionId: 's1', requestId: 'r1', kind: 'chat' as const, provider: 'kimi', model: 'k2', at: 0 },
  { sessionId: 's2', requestId: 'r2', kind: 'execute' as const, at: 0 },
];

type Trace = Array<{ from: SessionState; to: SessionState; context: unknown }>;

function viaTable(input: (typeof inputs)[number], events: readonly SessionEvent[]): Trace {
  const lifecycle = initialLifecycle(input);
  const trace: Trace = [{ from: lifecycle.state, to: lifecycle.state, context: lifecycle.context }];
  for (const event of events) {
    const from = step(lifecycle, event);
    trace.push({ from, to: lifecycle.state, context: lifecycle.context });
  }
  return trace;
}

function viaActor(input: (typeof inputs)[number], events: readonly SessionEvent[]): Trace {
  const actor = createActor(sessionMachine, { input }).start();
  const first = actor.getSnapshot();
  const trace: Trace = [{ from: first.value, to: first.value, context: first.context }];
  for (const event of events) {
    const from = actor.getSnapshot().value;
    actor.send(event);
    const next = actor.getSnapshot();
    trace.push({ from, to: next.value, context: next.context });
  }
  actor.stop();
  return trace;
}

function viaTransition(input: (typeof inputs)[number], events: readonly SessionEvent[]): Trace {
  let [snapshot] = initialTransition(sessionMachine, input);
  const trace: Trace = [{ from: snapshot.value, to: snapshot.value, context: snapshot.context }];
  for (const event of events) {
    const from = snapshot.value;
    [snapshot] = transition(sessionMachine, snapshot, event);
    trace.push({ from, to: snapshot.value, context: snapshot.context });
  }
  return trace;
}

function* sequences(length: number): Generator<SessionEvent[]> {
  if (length === 0) return yield [];
  for (const rest of sequences(length - 1)) for (const event of EVENTS) yield [...rest, event];
}

/** A small seeded generator (mulberry32): the same sequences on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('the table and an actor agree on every event sequence up to four long', () => {
  let checked = 0;
  for (const input of inputs) {
    for (let length = 0; length <= 4; length++) {
      for (const events of sequences(length)) {
        assert.deepEqual(viaTable(input, events), viaActor(input, events), events.map((e) => e.type).join(','));
        checked++;
      }
    }
  }
  assert.ok(checked > 20_000, `${checked} sequences`);
});

test('the table, an actor and transition() agree on seeded random sequences of up to 16 events', () => {
  const next = random(13);
  for (let i = 0; i < 400; i++) {
    const input = inputs[i % inputs.length]!;
    const events = Array.from({ length: 1 + Math.floor(next() * 16) }, () => EVENTS[Math.floor(next() * EVENTS.length)]!);
    const table = viaTable(input, events);
    const label = events.map((e) => e.type).join(',');
    assert.deepEqual(table, viaActor(input, events), label);
    assert.deepEqual(table, viaTransition(input, events), label);
  }
});

test('every state and event the machine defines is in the table; what it cannot follow is refused at load', () => {
  const reached = new Set<SessionState>();
  for (const events of sequences(3)) for (const t of viaTable(inputs[0]!, events)) reached.add(t.to);
  assert.deepEqual([...reached].sort(), ['completed', 'created', 'failed', 'processing', 'released']);

  const inline = setup({}).createMachine({ initial: 'a', states: { a: { on: { GO: { target: 'b', actions: () => {} } } }, b: {} } });
  assert.throws(() => compile(inline, {}, {}), /uses action/);
  const nested = setup({}).createMachine({ initial: 'a', states: { a: { initial: 'x', states: { x: {} } } } });
  assert.throws(() => compile(nested, {}, {}), /flat machines only/);
});
