import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/index.ts';
import { harness, rejection, released, waitForTransition, type Harness } from '../support/helpers.ts';

const HANDLERS = new URL('../fixtures/handlers.ts', import.meta.url);

describe('execute: any exported function as a session', () => {
  const clock = new ManualClock();
  let h: Harness;
  before(async () => {
    h = await harness({ supervisor: { clock, abortGraceMs: 1000 } });
  });
  after(() => h.close());

  test('runs a named export and returns its output with session metadata', async () => {
    const result = await h.supervisor.execute<{ doubled: number }>({ handler: HANDLERS, name: 'double', input: { n: 21 }, requestId: 'ex-1' });
    assert.deepEqual(result.output, { doubled: 42 });
    assert.equal(result.metadata.session.requestId, 'ex-1');
    assert.equal(result.metadata.session.attempts, 1);
  });

  test('the default export, given as a path, receives the session ids', async () => {
    const result = await h.supervisor.execute<{ sessionId: string; requestId: string }>({ handler: 'test/fixtures/handlers.ts', input: 'hi' });
    assert.equal(result.output.sessionId, result.metadata.session.sessionId);
    assert.equal(result.output.requestId, result.metadata.session.requestId);
  });

  test("a handler's error keeps its name, message and code", async () => {
    const error = await rejection(
      h.supervisor.execute({ handler: HANDLERS, name: 'fail', input: { name: 'QuotaError', message: 'over quota', code: 'E_QUOTA' } }),
    );
    assert.equal(error.name, 'QuotaError');
    assert.equal(error.message, 'over quota');
    assert.equal(error.code, 'E_QUOTA');
    assert.match(String(error['sessionId']), /^[0-9a-f-]{36}$/);
    const plain = await rejection(h.supervisor.execute({ handler: HANDLERS, name: 'fail', input: { message: 'plain' } }));
    assert.deepEqual([plain.name, plain.message, plain.code], ['Error', 'plain', 'ERR_HANDLER']);
  });

  test('a missing module or export is refused clearly', async () => {
    const missing = await rejection(h.supervisor.execute({ handler: 'test/fixtures/nope.ts', input: null }));
    assert.equal(missing.code, 'ERR_INVALID_REQUEST');
    const noExport = await rejection(h.supervisor.execute({ handler: HANDLERS, name: 'nope', input: null }));
    assert.equal(noExport.code, 'ERR_INVALID_REQUEST');
    assert.match(noExport.message, /no exported function `nope`/);
  });

  test('the deadline aborts the handler through its signal', async () => {
    const call = h.supervisor.execute({ handler: HANDLERS, name: 'waitForAbort', input: null, timeoutMs: 50 });
    await waitForTransition(h, (e) => e.to === 'processing' && e.kind === 'execute');
    clock.advance(50);
    const error = await rejection(call);
    assert.equal(error.code, 'ERR_SESSION_TIMEOUT');
    await waitForTransition(h, released(String(error['sessionId'])));
  });

  test('a handler that ignores its abort loses its thread after the grace period; the session is still released', async () => {
    const call = h.supervisor.execute({ handler: HANDLERS, name: 'ignoreAbort', input: null, timeoutMs: 50 });
    // Known to run on a thread: the kill has a thread to terminate.
    const { sessionId: started } = await new Promise<{ sessionId: string }>((resolve) => h.supervisor.once('started', resolve));
    clock.advance(50);
    const error = await rejection(call);
    assert.equal(error.code, 'ERR_SESSION_TIMEOUT');
    clock.advance(1000);
    const event = await waitForTransition(h, released(started));
    assert.equal(event.outcome, 'timeout');
    // The pool replaced the thread: new work still runs.
    const after = await h.supervisor.execute<{ doubled: number }>({ handler: HANDLERS, name: 'double', input: { n: 1 } });
    assert.equal(after.output.doubled, 2);
  });
});

describe('worker crashes fail only their own sessions', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  test('a thread that exits mid-call: ERR_WORKER_CRASHED, not run again unasked; with retryOnCrash once more elsewhere', async () => {
    const error = await rejection(h.supervisor.execute({ handler: HANDLERS, name: 'exitThread', input: null }));
    assert.equal(error.code, 'ERR_WORKER_CRASHED');
    assert.equal(error['retryable'], true);
    const event = await waitForTransition(h, released(String(error['sessionId'])));
    assert.equal(event.attempt, 1, 'a handler is not run again unless asked');
    assert.equal(h.supervisor.stats().crashed, 1);
    const again = await rejection(h.supervisor.execute({ handler: HANDLERS, name: 'exitThread', input: null, retryOnCrash: true }));
    assert.equal(again.code, 'ERR_WORKER_CRASHED');
    assert.equal((await waitForTransition(h, released(String(again['sessionId'])))).attempt, 2, 'one retry on another worker');
    assert.equal(h.supervisor.stats().crashed, 3);
  });

  test('with retryOnCrash, a crash that does not repeat is absorbed by the retry', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'sessionpool-')), 'crashed');
    const result = await h.supervisor.execute({ handler: HANDLERS, name: 'crashOnce', input: { marker }, retryOnCrash: true });
    assert.equal(result.output, 'second time lucky');
    assert.equal(result.metadata.session.attempts, 2);
    assert.equal(result.metadata.session.crashRetries, 1);
  });

  test('an uncaught exception outside the task takes its thread down, not the supervisor', async () => {
    const error = await rejection(h.supervisor.execute({ handler: HANDLERS, name: 'throwLater', input: null }));
    assert.equal(error.code, 'ERR_WORKER_CRASHED');
    assert.match(error.message, /uncaught in a timer/);
    const chat = await h.supervisor.chat({ provider: 'kimi', messages: [{ role: 'user', content: 'still alive?' }] });
    assert.equal(chat.finishReason, 'stop');
  });
});
