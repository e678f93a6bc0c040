// A session stopped while its task still waits in the pool's queue: the task itself says so, so
// the worker opens it aborted even when the task overtakes the abort message (different ports).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerChannel } from '../../src/worker/call/channel.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { SessionMetrics } from '../../src/engine/metrics.ts';
import type { Dispatcher, SessionSpec } from '../../src/seam/seam.ts';
import type { SessionTask, TaskOutcome } from '../../src/wire/protocol.ts';
import { SessionEngine } from '../../src/engine/engine.ts';

test('an aborted session’s task, not yet posted, carries the abort', async () => {
  const runs: Array<{ task: SessionTask; settle: (outcome: TaskOutcome) => void }> = [];
  const told: string[] = [];
  const dispatcher: Dispatcher = {
    threads: 1,
    run: (task, receiver) => void runs.push({ task, settle: (outcome) => receiver.settled(task, outcome) }),
    reportStarts: () => {},
    abort: async (_threadId, sessionId) => (told.push(sessionId), undefined),
    reaches: () => false,
    forget: () => {},
    kill: () => false,
    close: async () => {},
  };
  const engine = new SessionEngine(1, 1, {
    clock: new ManualClock(),
    dispatcher,
    metrics: new SessionMetrics(),
    logger: undefined,
    inspect: undefined,
    abortGraceMs: 1000,
    emit: () => {},
    listening: () => false,
    report: () => {},
  });
  const controller = new AbortController();
  const spec = {
    kind: 'execute',
    sessionId: 'q',
    requestId: 'req-q',
    timeoutMs: 10_000,
    retryOnCrash: false,
    secrets: [],
    signal: controller.signal,
    task: { kind: 'execute', sessionId: 'q', requestId: 'req-q', handler: 'h.js', name: 'n', input: null },
    toValue: (value: unknown) => value,
  } as unknown as SessionSpec;
  const done = engine.submit(spec).catch((error: { code: string }) => error.code);
  assert.equal(runs[0]?.task.abort, undefined);
  controller.abort();
  assert.equal(await done, 'ERR_SESSION_ABORTED');
  assert.equal(runs[0]?.task.abort, 'aborted', 'the queued task is marked');
  assert.deepEqual(told, ['q'], 'and the workers are told as well');
});

test('a worker opens a marked task with its signal already aborted, with the session’s error', () => {
  const channel = new WorkerChannel();
  const task = { kind: 'execute', sessionId: 'm', requestId: 'req-m', budgetMs: 60_000, run: 1, abort: 'aborted' } as unknown as SessionTask;
  const scope = channel.open(task, false);
  assert.equal(scope.signal.aborted, true);
  assert.equal((scope.signal.reason as { code: string }).code, 'ERR_SESSION_ABORTED');
  channel.close('m');
  const plain = channel.open({ ...task, sessionId: 'n', abort: undefined } as SessionTask, false);
  assert.equal(plain.signal.aborted, false);
  channel.close('n');
});
