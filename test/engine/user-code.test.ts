// User code the supervisor calls — listeners and the inspect observer — never wedges the engine:
// what it throws is reported (an `error` event, else a warning) and every session goes on.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { ListenerError, type InspectOption } from '../../src/index.ts';
import { harness, rejection, released, user, waitForTransition } from '../support/helpers.ts';

const boom = () => {
  throw new Error('listener bug');
};

test('a throwing transition listener (created, processing, completed): sessions settle, slots are freed, close() returns', async () => {
  const h = await harness({ supervisor: { maxConcurrent: 1 } });
  const errors: ListenerError[] = [];
  h.supervisor.on('error', (error) => errors.push(error));
  h.supervisor.on('transition', boom);
  try {
    const results = await Promise.all([1, 2, 3].map((n) => h.supervisor.chat({ provider: 'kimi', messages: user(`call ${n}`) })));
    assert.deepEqual(
      results.map((r) => r.finishReason),
      ['stop', 'stop', 'stop'],
    );
    const failed = await rejection(h.supervisor.chat({ provider: 'glm', prompt: '[[mock status=401]]' }));
    assert.equal(failed.code, 'ERR_PROVIDER', "the caller gets the session's error, not the listener's");
    assert.equal(h.supervisor.stats().pool.running, 0, 'no slot leaked');
    assert.ok(errors.length >= 16, `every throw reported (${errors.length})`);
    assert.ok(errors.every((e) => e instanceof ListenerError && e.code === 'ERR_LISTENER' && e.source === 'transition'));
    assert.equal((errors[0]!.cause as Error).message, 'listener bug');
    assert.match(String(errors[0]!.sessionId), /^[0-9a-f-]{36}$/);
  } finally {
    const report = await h.supervisor.close({ timeoutMs: 1000 });
    assert.equal(report.aborted, 0);
    await h.mock.close();
  }
});

test('throwing started and retry listeners drop no event of the batch: retries, deltas and the result all arrive', async () => {
  const h = await harness();
  const errors: ListenerError[] = [];
  h.supervisor.on('error', (error) => errors.push(error));
  h.supervisor.on('started', boom);
  h.supervisor.on('retry', boom);
  try {
    // Workers report starts once they were told someone listens (over their control port): warm up until they do.
    while (errors.length === 0) await h.supervisor.chat({ provider: 'kimi', messages: user('warm-up') });
    let text = '';
    const result = await h.supervisor.chat({ provider: 'glm', prompt: '[[mock status=503 failTimes=1 key=uc1 chunks=8]]', onDelta: (t) => (text += t) });
    assert.equal(result.metadata.session.attempts, 2);
    assert.equal(text, result.content);
    assert.deepEqual(new Set(errors.map((e) => e.source)), new Set(['started', 'retry']));
  } finally {
    await h.close();
  }
});

test('an async listener that rejects is reported, not an unhandled rejection; without an error listener it is a logged warning', async () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
  const h = await harness({ supervisor: { logger: pino({ level: 'warn' }, sink) } });
  let unhandled = 0;
  const onUnhandled = () => unhandled++;
  process.on('unhandledRejection', onUnhandled);
  h.supervisor.on('transition', async (e) => {
    if (e.to === 'completed') throw new Error('async listener bug');
  });
  try {
    const result = await h.supervisor.chat({ provider: 'kimi', messages: user('hi') });
    await waitForTransition(h, released(result.metadata.session.sessionId));
    await new Promise((resolve) => setImmediate(resolve));
    const warning = lines.map((l) => JSON.parse(l) as { level: number; msg: string; source?: string }).find((l) => l.source === 'transition');
    assert.ok(warning, 'a warning was logged');
    assert.equal(warning.level, 40);
    assert.match(warning.msg, /async listener bug/);
    assert.equal(unhandled, 0);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await h.close();
  }
});

test('an inspect observer that throws on COMPLETE: the session completes at once, its slot is freed, close() returns', async () => {
  const inspect: InspectOption = (event) => {
    if (event.type === '@xstate.event' && event.event.type === 'COMPLETE') throw new Error('observer bug');
  };
  const h = await harness({ supervisor: { inspect, maxConcurrent: 1, timeoutMs: 3_600_000 } });
  const errors: ListenerError[] = [];
  h.supervisor.on('error', (error) => errors.push(error));
  try {
    const [a, b] = await Promise.all([
      h.supervisor.chat({ provider: 'kimi', messages: user('a') }),
      h.supervisor.chat({ provider: 'kimi', messages: user('b') }),
    ]);
    assert.deepEqual([a.finishReason, b.finishReason], ['stop', 'stop']);
    await waitForTransition(h, released(b.metadata.session.sessionId));
    assert.equal(h.supervisor.stats().pool.running, 0);
    assert.equal(errors.length, 2);
    assert.deepEqual([errors[0]!.source, errors[0]!.sessionId], ['inspect', a.metadata.session.sessionId]);
  } finally {
    await h.close();
  }
});

test('an abort fired inside a created listener is honoured: the call never reaches the provider', async () => {
  const h = await harness({ supervisor: { maxConcurrent: 1 } });
  try {
    const controller = new AbortController();
    h.supervisor.on('transition', (e) => {
      if (e.to === 'created' && e.requestId === 'abort-in-created') controller.abort();
    });
    const error = await rejection(
      h.supervisor.chat({ provider: 'kimi', messages: user('never sent'), requestId: 'abort-in-created', signal: controller.signal }),
    );
    assert.equal(error.code, 'ERR_SESSION_ABORTED');
    await waitForTransition(h, released(String(error['sessionId'])));
    assert.deepEqual(
      h.transitions.filter((e) => e.requestId === 'abort-in-created').map((e) => e.to),
      ['created', 'failed', 'released'],
    );
    assert.equal(h.mock.totalRequests, 0);
    assert.equal(h.supervisor.stats().pool.running, 0, 'its slot was freed');
    const next = await h.supervisor.chat({ provider: 'kimi', messages: user('next') });
    assert.equal(next.finishReason, 'stop');
  } finally {
    await h.close();
  }
});
