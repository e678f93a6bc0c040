import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { harness, rejection, user } from '../support/helpers.ts';

test('close() refuses new work, lets running sessions finish and reports what it did', async () => {
  const h = await harness();
  const running = h.supervisor.chat({ provider: 'kimi', messages: user('[[mock latencyMs=200]]') });
  await h.mock.waitForRequests(1);
  const closing = h.supervisor.close({ timeoutMs: 60_000 });
  const refused = await rejection(h.supervisor.chat({ provider: 'kimi', messages: user('too late') }));
  assert.equal(refused.code, 'ERR_SUPERVISOR_CLOSED');
  const lateExecute = await rejection(h.supervisor.execute({ handler: new URL('../fixtures/handlers.ts', import.meta.url), input: 1 }));
  assert.equal(lateExecute.code, 'ERR_SUPERVISOR_CLOSED');
  assert.equal((await running).finishReason, 'stop');
  const report = await closing;
  assert.deepEqual({ ...report, durationMs: 0 }, { activeAtStart: 1, queuedAtStart: 0, finishedDuringClose: 1, aborted: 0, durationMs: 0 });
  assert.equal(await h.supervisor.close(), report, 'close() is idempotent');
  assert.equal(h.supervisor.stats().rejected.closed, 2);
  await h.mock.close();
});

test('close() aborts what is still running at its timeout, and the provider sees the sockets close', async () => {
  const h = await harness();
  const hung = [0, 1, 2].map((i) => rejection(h.supervisor.chat({ provider: 'glm', prompt: `[[mock hang]] ${i}` })));
  await h.mock.waitForRequests(3);
  const report = await h.supervisor.close({ timeoutMs: 1 });
  assert.equal(report.aborted, 3);
  assert.equal(report.finishedDuringClose, 0);
  for (const error of await Promise.all(hung)) assert.equal(error.code, 'ERR_SESSION_ABORTED');
  await h.mock.waitForClosed(3);
  assert.equal(h.supervisor.stats().states.released, 3);
  await h.mock.close();
});

test('Symbol.asyncDispose closes the supervisor', async () => {
  const h = await harness();
  {
    await using supervisor = h.supervisor;
    await supervisor.chat({ provider: 'kimi', messages: user('x') });
  }
  assert.equal((await rejection(h.supervisor.chat({ provider: 'kimi', messages: user('x') }))).code, 'ERR_SUPERVISOR_CLOSED');
  await h.mock.close();
});

test('a process that creates, uses and closes a supervisor exits by itself', async () => {
  const script = new URL('../fixtures/use-and-close.ts', import.meta.url).pathname;
  // The timeout only turns a hang into a failure; nothing is asserted about how long it takes.
  const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 60_000 });
  const summary = JSON.parse(stdout.trim()) as Record<string, unknown>;
  assert.deepEqual(
    { ...summary, report: undefined },
    { chat: 'stop', streamed: true, executed: { doubled: 4 }, timedOut: 'ERR_SESSION_TIMEOUT', report: undefined },
  );
});
