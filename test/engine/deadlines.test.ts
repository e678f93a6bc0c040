import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/index.ts';
import { harness, rejection, released, user, waitForTransition, type Harness } from '../support/helpers.ts';

// Deadlines run on a ManualClock: time moves only when a test advances it.
describe('deadlines and aborts cancel the provider call', () => {
  const clock = new ManualClock();
  let h: Harness;
  before(async () => {
    h = await harness({ supervisor: { clock, timeoutMs: 3_600_000, maxConcurrent: 2, maxQueue: 2 } });
  });
  after(() => h.close());

  test('a hanging provider: ERR_SESSION_TIMEOUT at the deadline, the socket closed, the session released', async () => {
    h.mock.reset();
    const call = h.supervisor.chat({ provider: 'kimi', messages: user('[[mock hang]]'), timeoutMs: 1000, requestId: 'hang-1' });
    await h.mock.waitForRequests(1);
    clock.advance(999);
    assert.equal(h.supervisor.stats().timedOut, 0);
    clock.advance(1);
    const error = await rejection(call);
    assert.equal(error.code, 'ERR_SESSION_TIMEOUT');
    assert.equal(error.requestId, 'hang-1');
    assert.match(String(error.sessionId), /^[0-9a-f-]{36}$/);
    const [closed] = await h.mock.waitForClosed(1);
    assert.equal(closed?.closedEarly, true);
    const event = await waitForTransition(h, released(String(error.sessionId)));
    assert.equal(event.outcome, 'timeout');
    assert.equal(event.error?.code, 'ERR_SESSION_TIMEOUT');
    const stats = h.supervisor.stats();
    assert.equal(stats.timedOut, 1);
    assert.equal(stats.failed, 0, 'a timeout is not counted as a generic failure');
  });

  test("the caller's signal aborts a running call the same way", async () => {
    h.mock.reset();
    const controller = new AbortController();
    const call = h.supervisor.chat({ provider: 'glm', prompt: '[[mock hang]]', signal: controller.signal });
    await h.mock.waitForRequests(1);
    controller.abort();
    const error = await rejection(call);
    assert.equal(error.code, 'ERR_SESSION_ABORTED');
    await h.mock.waitForClosed(1);
    await waitForTransition(h, released(String(error.sessionId)));
    assert.equal(h.supervisor.stats().aborted, 1);
  });

  test('queued sessions: one times out, one is aborted, neither reaches the provider; beyond the queue ERR_QUEUE_FULL', async () => {
    h.mock.reset();
    const blockers = [new AbortController(), new AbortController()];
    const running = blockers.map((c) => h.supervisor.chat({ provider: 'kimi', messages: user('[[mock hang]]'), signal: c.signal }));
    await h.mock.waitForRequests(2);
    const aborter = new AbortController();
    const timesOut = h.supervisor.chat({ provider: 'kimi', messages: user('queued 1'), timeoutMs: 500 });
    const aborted = h.supervisor.chat({ provider: 'kimi', messages: user('queued 2'), signal: aborter.signal });
    assert.equal(h.supervisor.stats().queued, 2);
    const full = await rejection(h.supervisor.chat({ provider: 'kimi', messages: user('one too many') }));
    assert.equal(full.code, 'ERR_QUEUE_FULL');
    clock.advance(500);
    aborter.abort();
    const [timeout, abort] = await Promise.all([rejection(timesOut), rejection(aborted)]);
    assert.equal(timeout.code, 'ERR_SESSION_TIMEOUT');
    assert.equal(abort.code, 'ERR_SESSION_ABORTED');
    for (const error of [timeout, abort]) {
      await waitForTransition(h, released(String(error.sessionId)));
      const path = h.transitions.filter((e) => e.sessionId === error.sessionId).map((e) => e.to);
      assert.deepEqual(path, ['created', 'failed', 'released']);
    }
    for (const c of blockers) c.abort();
    await Promise.allSettled(running);
    await h.mock.waitForClosed(2);
    assert.equal(h.mock.totalRequests, 2, 'queued sessions never reached the provider');
    assert.equal(h.supervisor.stats().rejected.queueFull, 1);
  });

  test('the slot of a timed-out call is freed only when the worker confirms the call settled', async () => {
    h.mock.reset();
    const controller = new AbortController();
    const hung = h.supervisor.chat({ provider: 'glm', prompt: '[[mock hang]]', timeoutMs: 100 });
    const other = h.supervisor.chat({ provider: 'glm', prompt: '[[mock hang]]', signal: controller.signal });
    await h.mock.waitForRequests(2);
    const next = h.supervisor.chat({ provider: 'glm', prompt: 'waits for a slot' });
    const queuedId = h.transitions.at(-1)!.sessionId;
    clock.advance(100);
    // The caller is told at once, but the call has not been confirmed over: the slot is still taken.
    const stats = h.supervisor.stats();
    assert.deepEqual([stats.states.failed, stats.states.processing, stats.queued], [1, 1, 1]);
    const error = await rejection(hung);
    assert.equal(error.code, 'ERR_SESSION_TIMEOUT');
    await waitForTransition(h, released(String(error.sessionId)));
    const dispatched = await waitForTransition(h, (e) => e.sessionId === queuedId && e.to === 'processing');
    const release = h.transitions.findIndex((e) => e.sessionId === error.sessionId && e.to === 'released');
    assert.ok(h.transitions.indexOf(dispatched) > release, 'the queued session got the slot after the release');
    assert.equal((await next).finishReason, 'stop');
    await h.mock.waitForClosed(1);
    controller.abort();
    await rejection(other);
  });
});
