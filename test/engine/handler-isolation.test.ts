// execute handlers run on threads of their own, once, and what they return or throw comes back
// typed: they never hurt provider calls, never run twice unasked, never pose as engine errors.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HandlerError, HandlerResultError, ManualClock, QueueFullError, type StartedEvent } from '../../src/index.ts';
import { harness, rejection, released, user, waitForTransition, type Harness } from '../support/helpers.ts';

const HANDLERS = new URL('../fixtures/handlers.ts', import.meta.url);
const counter = () => new Int32Array(new SharedArrayBuffer(4));

describe('what a handler returns or throws', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  for (const what of ['function', 'symbol', 'stream']) {
    test(`a ${what} returned: ERR_HANDLER_RESULT at once, run once, no crash counted`, async () => {
      const runs = counter();
      const error = await rejection(h.supervisor.execute({ handler: HANDLERS, name: 'misbehave', input: { counter: runs, what } }));
      assert.ok(error instanceof HandlerResultError);
      assert.equal(error.code, 'ERR_HANDLER_RESULT');
      assert.match(error.message, /cannot be sent back/);
      assert.equal(Atomics.load(runs, 0), 1, 'run once');
      assert.equal((await waitForTransition(h, released(String(error['sessionId'])))).attempt, 1);
      assert.equal(h.supervisor.stats().crashed, 0);
    });
  }

  for (const what of ['null-prototype', 'bad-toString']) {
    test(`a thrown ${what} object: a HandlerError (ERR_HANDLER), run once, no crash counted`, async () => {
      const runs = counter();
      const error = await rejection(h.supervisor.execute({ handler: HANDLERS, name: 'misbehave', input: { counter: runs, what } }));
      assert.ok(error instanceof HandlerError);
      assert.equal(error.code, 'ERR_HANDLER');
      assert.match(error.message, /not an Error/);
      assert.equal(Atomics.load(runs, 0), 1);
      assert.equal(h.supervisor.stats().crashed, 0);
    });
  }

  test('a thrown { code, message } keeps both', async () => {
    const error = await rejection(h.supervisor.execute({ handler: HANDLERS, name: 'misbehave', input: { counter: counter(), what: 'plain' } }));
    assert.ok(error instanceof HandlerError);
    assert.deepEqual([error.code, error.message], ['MY_CODE', 'm']);
  });

  test("a handler's ERR_QUEUE_FULL stays a handler error: code, name and message kept, never an engine class", async () => {
    const error = await rejection(h.supervisor.execute({ handler: HANDLERS, name: 'misbehave', input: { counter: counter(), what: 'engine-code' } }));
    assert.ok(error instanceof HandlerError);
    assert.ok(!(error instanceof QueueFullError));
    assert.deepEqual([error.code, error.name, error.message], ['ERR_QUEUE_FULL', 'BusyError', 'my own queue is full']);
    assert.equal(h.supervisor.stats().rejected.queueFull, 0);
  });
});

describe('handlers never share a thread with provider calls', () => {
  let h: Harness;
  before(async () => {
    h = await harness({ supervisor: { threads: 1 } });
  });
  after(() => h.close());

  test('a CPU-bound handler holding its thread does not stall a chat', async () => {
    const gate = counter();
    const blocked = h.supervisor.execute({ handler: HANDLERS, name: 'block', input: { gate } });
    await new Promise<StartedEvent>((resolve) => h.supervisor.once('started', resolve));
    const chat = await h.supervisor.chat({ provider: 'kimi', messages: user('while a handler blocks'), timeoutMs: 30_000 });
    assert.equal(chat.finishReason, 'stop');
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    assert.equal((await blocked).output, 'unblocked');
  });

  test('a handler that kills its thread: the chat beside it is not sent again; the handler is not run again unasked', async () => {
    h.mock.reset();
    const bystander = h.supervisor.chat({ provider: 'glm', prompt: 'bystander [[mock latencyMs=300]]' });
    await h.mock.waitForRequests(1);
    const marker = join(mkdtempSync(join(tmpdir(), 'sessionpool-')), 'crashed');
    const crashed = await rejection(h.supervisor.execute({ handler: HANDLERS, name: 'crashOnce', input: { marker } }));
    assert.equal(crashed.code, 'ERR_WORKER_CRASHED');
    const result = await bystander;
    assert.deepEqual([result.metadata.session.attempts, result.metadata.session.crashRetries], [1, 0]);
    assert.equal(h.mock.totalRequests, 1);
    const opted = await h.supervisor.execute({ handler: HANDLERS, name: 'crashOnce', input: { marker: `${marker}-2` }, retryOnCrash: true });
    assert.equal(opted.output, 'second time lucky');
    assert.deepEqual([opted.metadata.session.attempts, opted.metadata.session.crashRetries], [2, 1]);
  });
});

test('a chat sent again after its thread crashed says so: metadata.session.crashRetries', async () => {
  const clock = new ManualClock();
  let bystanderSent = 0;
  const h = await harness({
    supervisor: { threads: 1, clock, abortGraceMs: 0, timeoutMs: 3_600_000 },
    // The bystander hangs the first time it is sent, and answers the second time.
    mock: { behave: (r) => (JSON.stringify(r.body?.messages).includes('bystander') && bystanderSent++ === 0 ? { hang: true } : undefined) },
  });
  try {
    const starts: StartedEvent[] = [];
    h.supervisor.on('started', (e) => starts.push(e));
    // The worker learns that someone listens over its control port: warm up until it reports starts.
    while (starts.length === 0) await h.supervisor.chat({ provider: 'kimi', messages: user('warm-up') });
    h.mock.reset();
    const controller = new AbortController();
    const stuck = h.supervisor.chat({ provider: 'kimi', messages: user('stuck [[mock hang]]'), signal: controller.signal, requestId: 'stuck' });
    const bystander = h.supervisor.chat({ provider: 'kimi', messages: user('bystander'), requestId: 'bystander' });
    await h.mock.waitForRequests(2);
    // Both said where they run (the same, only thread).
    while (starts.filter((e) => e.requestId === 'stuck' || e.requestId === 'bystander').length < 2) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    assert.equal((await rejection(stuck)).code, 'ERR_SESSION_ABORTED');
    // The grace period (0) ends before the worker can confirm: its thread is terminated.
    clock.advance(0);
    const result = await bystander;
    assert.equal(result.metadata.session.crashRetries, 1);
    assert.equal(result.metadata.session.attempts, 2);
  } finally {
    await h.close();
  }
});

test("signal.reason seen by a handler is an Error with the session's code", async () => {
  const h = await harness();
  try {
    const file = join(mkdtempSync(join(tmpdir(), 'sessionpool-')), 'reason.json');
    const controller = new AbortController();
    const call = h.supervisor.execute({ handler: HANDLERS, name: 'reportReason', input: { file }, signal: controller.signal });
    await new Promise<StartedEvent>((resolve) => h.supervisor.once('started', resolve));
    controller.abort();
    const error = await rejection(call);
    assert.equal(error.code, 'ERR_SESSION_ABORTED');
    await waitForTransition(h, released(String(error['sessionId'])));
    const seen = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(seen, {
      isError: true,
      code: 'ERR_SESSION_ABORTED',
      name: 'SessionAbortedError',
      message: 'The session was aborted by its caller',
      thrownIsError: true,
      thrownCode: 'ERR_SESSION_ABORTED',
      sessionId: error['sessionId'],
    });
  } finally {
    await h.close();
  }
});
