// The fault suite: whatever the provider, a worker or the caller does, every session ends in
// `released` with the right code, and the supervisor goes on serving.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/index.ts';
import { harness, rejection, released, user, waitForTransition, type Harness } from '../support/helpers.ts';

const HANDLERS = new URL('../fixtures/handlers.ts', import.meta.url);

async function endsReleased(h: Harness, error: Error & { [key: string]: unknown }, code: string): Promise<void> {
  const event = await waitForTransition(h, released(String(error.sessionId)));
  assert.equal(event.error?.code, code);
}

describe('provider faults', () => {
  let h: Harness;
  before(async () => {
    h = await harness({ supervisor: { retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2 } } });
  });
  after(() => h.close());

  test('slow drip (a few bytes at a time, slower than the deadline): timeout, socket closed', async () => {
    const clock = new ManualClock();
    const dripping = await harness({ supervisor: { clock } });
    try {
      const call = dripping.supervisor.chat({ provider: 'kimi', messages: user('[[mock dripMs=200 dripBytes=4]]'), timeoutMs: 1000 });
      // The body has begun to drip: the call is reading it when the deadline comes.
      await new Promise<void>((resolve) => dripping.mock.once('request', () => resolve()));
      clock.advance(1000);
      const error = await rejection(call);
      assert.equal(error.code, 'ERR_SESSION_TIMEOUT');
      await dripping.mock.waitForClosed(1);
      await endsReleased(dripping, error, 'ERR_SESSION_TIMEOUT');
    } finally {
      await dripping.close();
    }
  });

  test('connection reset mid-stream after text was delivered: failed, not retried', async () => {
    h.mock.reset();
    let text = '';
    const error = await rejection(h.supervisor.chat({ provider: 'glm', prompt: '[[mock reset=mid chunks=20 chunkDelayMs=1]]', onDelta: (t) => (text += t) }));
    assert.equal(error.code, 'ERR_PROVIDER');
    assert.equal(error['providerCode'], 'connection_error');
    assert.ok(text.length > 0, 'text was delivered before the reset');
    assert.equal(h.mock.totalRequests, 1, 'a stream is not retried once text was delivered');
    await endsReleased(h, error, error.code);
  });

  test('a malformed SSE chunk is ERR_PROVIDER_RESPONSE', async () => {
    const error = await rejection(h.supervisor.chat({ provider: 'kimi', messages: user('[[mock garbage=chunk chunks=10]]'), onDelta: () => {} }));
    assert.equal(error.code, 'ERR_PROVIDER_RESPONSE');
    await endsReleased(h, error, 'ERR_PROVIDER_RESPONSE');
  });

  test('429 without Retry-After retried with backoff; 5xx retried; both then succeed', async () => {
    h.mock.reset();
    const a = await h.supervisor.chat({ provider: 'glm', prompt: '[[mock error=429_concurrency failTimes=1 key=f1]]' });
    const b = await h.supervisor.chat({ provider: 'kimi', messages: user('[[mock status=503 failTimes=1 key=f2]]') });
    assert.deepEqual([a.metadata.session.attempts, b.metadata.session.attempts], [2, 2]);
  });

  test("the caller's abort during a retry wait ends the wait at once", async () => {
    h.mock.reset();
    const controller = new AbortController();
    const call = h.supervisor.chat({
      provider: 'kimi',
      messages: user('[[mock error=429_overloaded retryAfter=600 failTimes=5 key=wait]]'),
      signal: controller.signal,
      timeoutMs: 3_600_000,
    });
    await waitForTransition(h, (e) => e.to === 'processing' && e.attempt === 1);
    await h.mock.waitForRequests(1);
    // The worker is now sleeping 600 s before its retry; the abort must end that sleep.
    controller.abort();
    const error = await rejection(call);
    assert.equal(error.code, 'ERR_SESSION_ABORTED');
    await endsReleased(h, error, 'ERR_SESSION_ABORTED');
    assert.equal(h.mock.totalRequests, 1);
  });
});

describe('worker faults', () => {
  let h: Harness;
  before(async () => {
    // One thread: every session shares it, so killing it touches them all.
    h = await harness({ supervisor: { threads: 1, abortGraceMs: 50, resourceLimits: { maxOldGenerationSizeMb: 64 } } });
  });
  after(() => h.close());

  test('a hard kill fails only the session that ignored its abort; provider calls never share its thread', async () => {
    h.mock.reset();
    const bystander = h.supervisor.chat({ provider: 'glm', prompt: 'bystander [[mock latencyMs=300]]' });
    await h.mock.waitForRequests(1);
    const stuck = await rejection(h.supervisor.execute({ handler: HANDLERS, name: 'ignoreAbort', input: null, timeoutMs: 20 }));
    assert.equal(stuck.code, 'ERR_SESSION_TIMEOUT');
    await endsReleased(h, stuck, 'ERR_SESSION_TIMEOUT');
    const result = await bystander;
    assert.equal(result.finishReason, 'stop');
    assert.deepEqual([result.metadata.session.attempts, result.metadata.session.crashRetries], [1, 0], 'the chat was not on the killed thread');
    assert.equal(h.mock.totalRequests, 1, 'the provider got (and billed) one request');
  });

  test('a handler out of memory ends its thread: ERR_WORKER_CRASHED, and the pool goes on', async () => {
    const error = await rejection(h.supervisor.execute({ handler: HANDLERS, name: 'hog', input: null }));
    assert.equal(error.code, 'ERR_WORKER_CRASHED');
    await endsReleased(h, error, 'ERR_WORKER_CRASHED');
    const after = await h.supervisor.execute({ handler: HANDLERS, name: 'double', input: { n: 5 } });
    assert.deepEqual(after.output, { doubled: 10 });
  });
});

test('flood: thousands of mixed sessions, none lost — created = released', async () => {
  // The engine's accounting under a flood, without routing: its default breaker (docs/routing.md) would
  // answer part of this deliberate mix of failures with ERR_CIRCUIT_OPEN, by design.
  const h = await harness({ supervisor: { maxConcurrent: 200, maxQueue: 5000, retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1 }, routing: false } });
  try {
    const kinds = ['ok', 'stream', 'error', 'retry', 'timeout', 'abort', 'length'] as const;
    const total = 2100;
    const calls = Array.from({ length: total }, (_, i) => {
      const kind = kinds[i % kinds.length]!;
      const provider = i % 2 ? 'kimi' : 'glm';
      const controller = new AbortController();
      const directive = {
        ok: '[[mock latencyMs=2]]',
        stream: '[[mock chunks=20]]',
        error: '[[mock status=401]]',
        retry: `[[mock status=500 failTimes=1 key=flood${i}]]`,
        timeout: '[[mock hang]]',
        abort: '[[mock hang]]',
        length: '[[mock lengthRounds=2 completionTokens=3]]',
      }[kind];
      const call = h.supervisor.chat({
        provider,
        messages: user(`${kind} ${i} ${directive}`),
        ...(kind === 'stream' ? { onDelta: () => {} } : {}),
        ...(kind === 'timeout' ? { timeoutMs: 200 } : {}),
        signal: controller.signal,
      });
      if (kind === 'abort') setImmediate(() => controller.abort());
      return call.then(
        () => 'completed',
        (e: { code: string }) => e.code,
      );
    });
    const outcomes = await Promise.all(calls);
    const counts = Object.fromEntries(kinds.map((k) => [k, 0]));
    for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
    const per = total / kinds.length;
    assert.equal(counts['completed'], per * 4, JSON.stringify(counts));
    assert.equal(counts['ERR_PROVIDER'], per);
    assert.equal(counts['ERR_SESSION_TIMEOUT'], per);
    assert.equal(counts['ERR_SESSION_ABORTED'], per);
    await h.supervisor.close({ timeoutMs: 10_000 });
    const stats = h.supervisor.stats();
    assert.equal(stats.admitted, total);
    assert.equal(stats.states.released, total, 'every admitted session released');
    assert.deepEqual([stats.states.created, stats.states.processing, stats.states.completed, stats.states.failed], [0, 0, 0, 0]);
    assert.equal(stats.completed + stats.failed + stats.timedOut + stats.aborted, total);
  } finally {
    await h.mock.close();
  }
});
