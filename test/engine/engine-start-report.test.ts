// The engine alone, on a fake dispatcher: a worker's start report and the run's outcome travel on
// different ports and may arrive in either order; `started` is emitted once per run either way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/util/clock.ts';
import { SessionMetrics } from '../../src/engine/metrics.ts';
import type { Dispatcher, SessionSpec } from '../../src/seam/seam.ts';
import type { EventBatch, SessionTask, TaskOutcome } from '../../src/wire/protocol.ts';
import { SessionEngine } from '../../src/engine/engine.ts';
import type { EngineEvents, StartedEvent } from '../../src/types/session.ts';

function fakeEngine() {
  const runs: Array<{ task: SessionTask; settle: (outcome: TaskOutcome) => void }> = [];
  const dispatcher: Dispatcher = {
    threads: 1,
    run: (task, receiver) => void runs.push({ task, settle: (outcome) => receiver.settled(task, outcome) }),
    reportStarts: () => {},
    abort: async () => undefined,
    reaches: () => true,
    forget: () => {},
    kill: () => false,
    close: async () => {},
  };
  const started: StartedEvent[] = [];
  const listening = new Set<keyof EngineEvents>(['started']);
  const engine = new SessionEngine(4, 4, {
    clock: new ManualClock(),
    dispatcher,
    metrics: new SessionMetrics(),
    logger: undefined,
    inspect: undefined,
    abortGraceMs: 100,
    emit: (type, event) => type === 'started' && started.push(event as StartedEvent),
    listening: (type) => listening.has(type),
    report: () => {},
  });
  return { engine, runs, started, listening };
}

function spec(sessionId: string): SessionSpec {
  return {
    kind: 'execute',
    sessionId,
    requestId: `req-${sessionId}`,
    timeoutMs: 1000,
    retryOnCrash: false,
    secrets: [],
    metadata: { job: sessionId },
    task: { kind: 'execute', sessionId, requestId: `req-${sessionId}`, handler: 'h.js', name: 'n', input: null } as unknown as SessionSpec['task'],
    toValue: (value) => value,
  };
}

const batch = (sessionId: string, run: number): EventBatch => ({ threadId: 7, events: [{ type: 'started', sessionId, run }] });

test('the outcome before the start report: started is still emitted, once, with the thread that ran it', async () => {
  const { engine, runs, started } = fakeEngine();
  const done = engine.submit(spec('a'));
  assert.equal(runs.length, 1);
  runs[0]?.settle({ ok: true, value: 42, attempts: 1, threadId: 3 });
  assert.equal(await done, 42);
  engine.receive(batch('a', 1));
  assert.deepEqual(
    started.map((e) => [e.sessionId, e.threadId, e.metadata]),
    [['a', 3, { job: 'a' }]],
  );
});

test('the start report before the outcome: started once, from the report', async () => {
  const { engine, runs, started } = fakeEngine();
  const done = engine.submit(spec('b'));
  engine.receive(batch('b', 1));
  runs[0]?.settle({ ok: true, value: 1, attempts: 1, threadId: 7 });
  await done;
  assert.deepEqual(
    started.map((e) => [e.sessionId, e.threadId]),
    [['b', 7]],
  );
});

test('a start report of an older run is not this run’s start; no listener, no event', async () => {
  const { engine, runs, started, listening } = fakeEngine();
  const done = engine.submit(spec('c'));
  engine.receive(batch('c', 0));
  assert.equal(started.length, 0);
  listening.clear();
  runs[0]?.settle({ ok: false, error: { name: 'ProviderError', code: 'ERR_PROVIDER', message: 'boom' }, attempts: 1, threadId: 7 });
  await assert.rejects(done, { code: 'ERR_PROVIDER' });
  assert.equal(started.length, 0);
});
