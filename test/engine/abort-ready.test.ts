// Two promises of the API contract at their edges: a caller's signal that is aborted before the
// call still gives its reason as the error's `cause` (as a later abort does), and ready() rejects
// with a typed error (a stable `code`), not a plain Error.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { bullmq, createSupervisor } from '../../src/index.ts';
import { harness, rejection, user } from '../support/helpers.ts';

// The BullMQ transport needs a job secret shared by producers and worker hosts (read from the environment here).
process.env['SESSIONPOOL_JOB_SECRET'] ??= 'test-job-secret-0123456789abcdef0123456789abcdef';

test('chat and stream with a signal aborted before the call: ERR_SESSION_ABORTED with the reason as `cause`, as a later abort', async () => {
  const h = await harness({ supervisor: { threads: 1 } });
  try {
    const reason = new Error('the user went away');
    const early = AbortSignal.abort(reason);
    const chat = await rejection(h.supervisor.chat({ provider: 'kimi', messages: user('hi'), signal: early }));
    assert.equal(chat.code, 'ERR_SESSION_ABORTED');
    assert.equal(chat.cause, reason, 'chat: the reason of an early abort');
    const stream = await rejection(
      (async () => {
        for await (const _ of h.supervisor.stream({ provider: 'kimi', messages: user('hi'), signal: early }));
      })(),
    );
    assert.equal(stream.code, 'ERR_SESSION_ABORTED');
    assert.equal(stream.cause, reason, 'stream: the reason of an early abort');
    // The same reason given later, while the call waits for a slow answer.
    const late = new AbortController();
    const pending = h.supervisor.chat({ provider: 'kimi', messages: user('hi [[mock latencyMs=5000]]'), signal: late.signal });
    late.abort(reason);
    const later = await rejection(pending);
    assert.equal(later.code, 'ERR_SESSION_ABORTED');
    assert.equal(later.cause, reason);
    assert.equal(h.mock.totalRequests <= 1, true, 'the early aborts sent nothing');
  } finally {
    await h.close();
  }
});

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

test('ready() rejects with a typed error when the sessions cannot run: ERR_TRANSPORT when Redis is unreachable', async () => {
  const port = await closedPort();
  const supervisor = createSupervisor({ logger: false, transport: bullmq({ connection: `redis://127.0.0.1:${port}`, queueName: 'ready' }) });
  try {
    const error = await rejection(supervisor.ready());
    assert.equal(error.code, 'ERR_TRANSPORT', `${error.name}: ${error.message}`);
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  } finally {
    await supervisor.close({ timeoutMs: 0 });
  }
});
