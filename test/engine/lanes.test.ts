// Which thread takes a chat session (src/pool/lanes.ts): the first one with room, so that few threads
// wake for I/O work one thread can carry; the next once a thread's event loop is busy or it holds
// PACK_LIMIT runs; the least busy once none has room. Driven with fake ports and a load reader the
// test sets, so nothing depends on this machine's timing.
import assert from 'node:assert/strict';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { test } from 'node:test';
import type { MessagePort } from 'node:worker_threads';
import { SessionLanes } from '../../src/pool/lanes.ts';
import type { RunReceiver } from '../../src/seam/seam.ts';
import type { SessionTask, TaskMessage } from '../../src/wire/protocol.ts';

/** A thread's events port: records what was sent to it. */
function fakePort(sent: string[]): MessagePort {
  return {
    postMessage: (message: TaskMessage) => sent.push(message.task.sessionId),
    ref: () => {},
    unref: () => {},
  } as unknown as MessagePort;
}

const task = (i: number) => ({ kind: 'chat', sessionId: `s${i}`, run: 1 }) as unknown as SessionTask;

const ignore: RunReceiver = { settled: () => {}, crashed: () => {} };

/** A load reader whose utilization the test sets per thread; `since` marks are honoured as real ones are. */
function fakeLoad() {
  const busyMs = new Map<number, number>();
  let elapsed = 0;
  const reading = (threadId: number): EventLoopUtilization => {
    const active = busyMs.get(threadId) ?? 0;
    return { idle: elapsed - active, active, utilization: elapsed === 0 ? 0 : active / elapsed };
  };
  return {
    /** `ms` pass; each listed thread was busy that share of them. */
    advance(ms: number, utilization: Record<number, number>) {
      elapsed += ms;
      for (const [id, share] of Object.entries(utilization)) busyMs.set(Number(id), (busyMs.get(Number(id)) ?? 0) + ms * share);
    },
    read(threadId: number, since?: EventLoopUtilization): EventLoopUtilization {
      const now = reading(threadId);
      if (since === undefined) return now;
      const idle = now.idle - since.idle;
      const active = now.active - since.active;
      return { idle, active, utilization: idle + active === 0 ? 0 : active / (idle + active) };
    },
  };
}

function twoThreads(readLoad?: ReturnType<typeof fakeLoad>) {
  const lanes = new SessionLanes(readLoad && ((id, since) => readLoad.read(id, since)));
  const sent: Record<number, string[]> = { 1: [], 2: [] };
  lanes.attach(1, fakePort(sent[1]!));
  lanes.attach(2, fakePort(sent[2]!));
  return { lanes, sent };
}

test('sessions fill the first thread; the second wakes only past PACK_LIMIT (256) runs on the first', () => {
  const { lanes, sent } = twoThreads();
  for (let i = 0; i < 10; i++) lanes.run(task(i), ignore);
  assert.deepEqual([sent[1]!.length, sent[2]!.length], [10, 0], '10 concurrent calls: one thread');
  for (let i = 10; i < 300; i++) lanes.run(task(i), ignore);
  assert.deepEqual([sent[1]!.length, sent[2]!.length], [256, 44]);
  // Both full: the least busy takes the next.
  for (let i = 300; i < 520; i++) lanes.run(task(i), ignore);
  assert.deepEqual([sent[1]!.length, sent[2]!.length], [260, 260]);
});

test('a thread whose event loop was busy over the last sample sends new sessions to the next; it takes them again once it is not', () => {
  const load = fakeLoad();
  const { lanes, sent } = twoThreads(load);
  for (let i = 0; i < 5; i++) lanes.run(task(i), ignore);
  load.advance(100, { 1: 0.9, 2: 0 });
  lanes.sample();
  for (let i = 5; i < 8; i++) lanes.run(task(i), ignore);
  assert.deepEqual(
    [sent[1], sent[2]],
    [
      ['s0', 's1', 's2', 's3', 's4'],
      ['s5', 's6', 's7'],
    ],
  );
  // Both hot: the least busy (thread 2, 3 runs against 5).
  load.advance(100, { 1: 0.9, 2: 0.8 });
  lanes.sample();
  lanes.run(task(8), ignore);
  assert.deepEqual(sent[2]!.at(-1), 's8');
  // Thread 1 cooled down over the next window: it takes sessions again.
  load.advance(100, { 1: 0.2, 2: 0.8 });
  lanes.sample();
  lanes.run(task(9), ignore);
  assert.deepEqual(sent[1]!.at(-1), 's9');
});

test('when every run has ended, no thread counts as hot any more; runs lost with their thread count as ended', () => {
  const load = fakeLoad();
  const lanes = new SessionLanes((id, since) => load.read(id, since));
  const sent: Record<number, string[]> = { 1: [], 2: [], 3: [] };
  for (const id of [1, 2, 3]) lanes.attach(id, fakePort(sent[id]!));
  const crashed: string[] = [];
  const receiver: RunReceiver = { settled: () => {}, crashed: (t) => crashed.push(t.sessionId) };
  const ok = (sessionId: string, threadId: number) => ({ sessionId, run: 1, outcome: { ok: true as const, value: 'x', attempts: 1, threadId } });
  lanes.run(task(0), receiver);
  load.advance(100, { 1: 0.9 });
  lanes.sample();
  lanes.run(task(1), receiver);
  assert.deepEqual([sent[1], sent[2]], [['s0'], ['s1']]);
  lanes.settle([ok('s0', 1), ok('s1', 2)]);
  // Nothing in flight: the load of a finished burst says nothing of the next one.
  lanes.run(task(2), receiver);
  assert.deepEqual(sent[1], ['s0', 's2']);
  load.advance(100, { 1: 0.9 });
  lanes.sample();
  lanes.run(task(3), receiver);
  assert.deepEqual(sent[2], ['s1', 's3']);
  lanes.detach(2);
  assert.deepEqual(crashed, ['s3']);
  lanes.settle([ok('s2', 1)]);
  lanes.run(task(4), receiver);
  assert.deepEqual(sent[1], ['s0', 's2', 's4'], 'the lost run ended too: thread 1 is no longer hot');
});
