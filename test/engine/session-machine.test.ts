import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createActor } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { sessionMachine, type SessionState } from '../../src/index.ts';

const error = { code: 'ERR_PROVIDER', name: 'ProviderError', message: 'boom' };
const events = [
  { type: 'DISPATCH', at: 1 },
  { type: 'RETRY', at: 3, attempt: 2, error },
  { type: 'COMPLETE', at: 4, attempts: 2 },
  { type: 'FAIL', at: 4, error },
  { type: 'TIMEOUT', at: 5, error: { ...error, code: 'ERR_SESSION_TIMEOUT' } },
  { type: 'ABORT', at: 5, error: { ...error, code: 'ERR_SESSION_ABORTED' } },
  { type: 'RELEASE', at: 9 },
] as const;
const input = { sessionId: 's1', requestId: 'r1', kind: 'chat' as const, provider: 'kimi', at: 0 };
const options = { events: [...events], input };
const stateOf = (snapshot: { value: unknown }) => snapshot.value as SessionState;

test('every simple path starts in created and every state is reachable', () => {
  const paths = getSimplePaths(sessionMachine, options);
  const reached = new Set(paths.map((p) => stateOf(p.state)));
  assert.deepEqual([...reached].sort(), ['completed', 'created', 'failed', 'processing', 'released']);
  for (const path of paths) assert.equal(stateOf(path.steps[0]!.state), 'created');
});

test('released is reached only from completed or failed, and only by RELEASE', () => {
  const paths = getSimplePaths(sessionMachine, { ...options, toState: (s) => s.value === 'released' });
  assert.ok(paths.length >= 5, `expected at least 5 ways to be released, got ${paths.length}`);
  for (const path of paths) {
    const states = path.steps.map((s) => stateOf(s.state));
    const last = path.steps.at(-1)!;
    assert.equal(last.event.type, 'RELEASE');
    assert.ok(['completed', 'failed'].includes(states.at(-2)!), `released from ${states.at(-2)}`);
    // The lifecycle order holds on every path: created → processing? → completed|failed → released.
    const order = states.filter((s, i) => s !== states[i - 1]);
    assert.ok(
      ['created,processing,completed,released', 'created,processing,failed,released', 'created,failed,released'].includes(order.join(',')),
      order.join(','),
    );
  }
});

test('no event leaves a terminal state except RELEASE, and released is final', () => {
  const paths = getShortestPaths(sessionMachine, options);
  const checked = new Set<string>();
  for (const path of paths) {
    const state = stateOf(path.state);
    if (state !== 'completed' && state !== 'failed' && state !== 'released') continue;
    checked.add(state);
    for (const event of events) {
      const actor = createActor(sessionMachine, { input, snapshot: path.state });
      actor.start();
      actor.send(event);
      const next = stateOf(actor.getSnapshot());
      const allowed: SessionState = state !== 'released' && event.type === 'RELEASE' ? 'released' : state;
      assert.equal(next, allowed, `${state} + ${event.type} went to ${next}`);
      actor.stop();
    }
  }
  assert.deepEqual([...checked].sort(), ['completed', 'failed', 'released']);
});

test('timeouts and aborts are outcomes of their own, with their error and time', () => {
  for (const [event, outcome] of [
    [events[4], 'timeout'],
    [events[5], 'aborted'],
    [events[3], 'failed'],
  ] as const) {
    for (const dispatched of [false, true]) {
      const actor = createActor(sessionMachine, { input }).start();
      if (dispatched) actor.send(events[0]);
      actor.send(event);
      const { context, value } = actor.getSnapshot();
      assert.equal(value, 'failed');
      assert.equal(context.outcome, outcome);
      assert.equal(context.error?.code, event.error.code);
      assert.equal(context.endedAt, event.at);
      assert.equal(context.attempts, dispatched ? 1 : 0);
      actor.stop();
    }
  }
});

test('a completed session keeps its timestamps and attempts; stale retry reports are ignored', () => {
  const actor = createActor(sessionMachine, { input }).start();
  actor.send(events[0]);
  actor.send(events[1]);
  actor.send({ type: 'RETRY', at: 3, attempt: 2, error }); // the same report twice
  actor.send({ type: 'RETRY', at: 3, attempt: 1, error }); // and a late one
  actor.send(events[2]);
  actor.send(events[6]);
  const { context, value, status } = actor.getSnapshot();
  assert.equal(value, 'released');
  assert.equal(status, 'done');
  assert.deepEqual(
    {
      createdAt: context.createdAt,
      dispatchedAt: context.dispatchedAt,
      endedAt: context.endedAt,
      releasedAt: context.releasedAt,
      attempts: context.attempts,
      outcome: context.outcome,
    },
    { createdAt: 0, dispatchedAt: 1, endedAt: 4, releasedAt: 9, attempts: 2, outcome: 'completed' },
  );
});
