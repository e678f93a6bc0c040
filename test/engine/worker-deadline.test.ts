// The worker keeps every session's deadline on its own, aborts reach the run that needs them, a
// given-up session keeps its slot until its call ends, and redirects are bounded.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ManualClock } from '../../src/index.ts';
import { harness, rejection, released, user, waitForTransition } from '../support/helpers.ts';

const HANDLERS = new URL('../fixtures/handlers.ts', import.meta.url);
const counter = () => new Int32Array(new SharedArrayBuffer(4));
const turn = () => new Promise((resolve) => setImmediate(resolve));

test("the worker ends a call at the session's deadline by itself, even when the supervisor's abort never comes", async () => {
  // The supervisor's clock never moves: only the worker's own deadline can end these calls.
  const h = await harness({ supervisor: { clock: new ManualClock() } });
  try {
    const chat = await rejection(h.supervisor.chat({ provider: 'kimi', messages: user('[[mock hang]]'), timeoutMs: 300 }));
    assert.equal(chat.code, 'ERR_SESSION_TIMEOUT');
    const [closed] = await h.mock.waitForClosed(1);
    assert.equal(closed?.closedEarly, true, 'the HTTP call was aborted');
    const handler = await rejection(h.supervisor.execute({ handler: HANDLERS, name: 'waitForAbort', input: null, timeoutMs: 300 }));
    assert.equal(handler.code, 'ERR_SESSION_TIMEOUT');
    await waitForTransition(h, released(String(handler['sessionId'])));
    const stats = h.supervisor.stats();
    assert.deepEqual([stats.timedOut, stats.failed, stats.pool.running], [2, 0, 0]);
  } finally {
    await h.close();
  }
});

test('aborts that wait for their task are never lost, however many there are', async () => {
  const clock = new ManualClock();
  const h = await harness({ supervisor: { threads: 1, clock, maxConcurrent: 6000, timeoutMs: 3_600_000 } });
  try {
    const gate = counter();
    const runs = counter();
    // One handler thread, held: every other handler task waits in the pool's queue.
    const blocker = h.supervisor.execute({ handler: HANDLERS, name: 'block', input: { gate } });
    await new Promise((resolve) => h.supervisor.once('started', resolve));
    const controllers = Array.from({ length: 4200 }, () => new AbortController());
    const waiting = controllers.map((c) =>
      h.supervisor.execute({ handler: HANDLERS, name: 'countThenWait', input: { counter: runs }, signal: c.signal }).catch((e: { code: string }) => e.code),
    );
    for (const c of controllers) c.abort();
    for (let i = 0; i < 20; i++) await turn();
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await blocker;
    const codes = await Promise.all(waiting);
    assert.ok(codes.every((c) => c === 'ERR_SESSION_ABORTED'));
    await h.supervisor.close({ timeoutMs: 60_000 });
    assert.equal(Atomics.load(runs, 0), 0, 'no aborted handler was started');
    assert.equal(h.supervisor.stats().states.released, 4201);
  } finally {
    await h.mock.close();
  }
});

test('a session given up on keeps its slot until its call ends; the pool never refuses a task', async () => {
  const clock = new ManualClock();
  const h = await harness({ supervisor: { threads: 1, clock, maxConcurrent: 1, abortGraceMs: 0, timeoutMs: 3_600_000 } });
  try {
    const controller = new AbortController();
    const stuck = h.supervisor.execute({ handler: HANDLERS, name: 'ignoreAbort', input: null, signal: controller.signal });
    const next = [1, 2].map((n) => h.supervisor.execute<{ doubled: number }>({ handler: HANDLERS, name: 'double', input: { n } }));
    // Aborted before its worker said where it runs: it cannot be killed yet, and is given up on.
    controller.abort();
    clock.advance(0);
    assert.equal((await rejection(stuck)).code, 'ERR_SESSION_ABORTED');
    const stats = h.supervisor.stats();
    assert.deepEqual([stats.states.released, stats.queued, stats.pool.running], [1, 2, 1], 'released, but its slot is still taken');
    // Once its thread is known it is terminated; then the queue moves on.
    const results = await Promise.all(next);
    assert.deepEqual(
      results.map((r) => r.output.doubled),
      [2, 4],
    );
    const after = h.supervisor.stats();
    assert.deepEqual([after.crashed, after.rejected.queueFull, after.pool.running], [0, 0, 0]);
  } finally {
    await h.close();
  }
});

/** A provider that answers every call with a 307 to `location(path)`; counts the requests. */
async function redirecting(location: (path: string) => string): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    req.resume();
    if (req.url?.startsWith('/final')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'x',
          object: 'chat.completion',
          model: 'm',
          choices: [{ index: 0, message: { role: 'assistant', content: 'arrived' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
      return;
    }
    res.writeHead(307, { location: location(req.url ?? '/') });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

test('a redirect loop: a few requests, then ERR_PROVIDER that says redirect, not retried', async () => {
  const loop = await redirecting((path) => path);
  const other = await redirecting(() => '/final');
  const away = await redirecting(() => `${other.url}/final/chat/completions`);
  const moved = await redirecting((path) => `/final${path}`);
  const h = await harness({
    supervisor: {
      providers: {
        loop: { baseURL: `${loop.url}/v1`, apiKey: 'sk-loop-secret' },
        away: { baseURL: `${away.url}/v1`, apiKey: 'sk-away-secret' },
        moved: { baseURL: `${moved.url}/v1`, apiKey: 'sk-moved-secret' },
      },
    },
  });
  try {
    const error = await rejection(h.supervisor.chat({ provider: 'loop', messages: user('hi') }));
    assert.equal(error.code, 'ERR_PROVIDER');
    assert.deepEqual([error['status'], error['providerCode'], error['retryable']], [307, 'redirect', false]);
    assert.match(error.message, /redirect not followed: more than 3 redirects/);
    assert.equal(loop.requests.length, 4, 'the first request and 3 redirects');
    assert.equal(h.supervisor.stats().retried, 0);
    const elsewhere = await rejection(h.supervisor.chat({ provider: 'away', messages: user('hi') }));
    assert.match(elsewhere.message, /another origin/);
    assert.equal(other.requests.length, 0, 'the API key was not sent to another origin');
    const result = await h.supervisor.chat({ provider: 'moved', messages: user('hi') });
    assert.equal(result.content, 'arrived', 'a same-origin 307 is followed');
    assert.deepEqual(
      moved.requests.map((r) => r.split(' ').slice(0, 2).join(' ')),
      ['POST /v1/chat/completions', 'POST /final/v1/chat/completions'],
    );
  } finally {
    await h.close();
    for (const s of [loop, other, away, moved]) s.server.close();
  }
});
