// close({ timeoutMs }) of a BullMQ producer (supervisor) and of a worker host is bounded by its
// timeout whatever Redis does (gone, or hung with SIGSTOP), and still ends every session typed.
process.env['SESSIONPOOL_JOB_SECRET'] = 'test-job-secret-0123456789abcdef0123456789abcdef';
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { bullmq, createSupervisor, createWorker, startMockProvider, type WorkerHost } from '../../src/index.ts';
import type { MockProvider } from '../../src/apps/mock/server.ts';
import { redisMissing, startRedis, type TestRedis } from '../support/redis-helpers.ts';

const KEY = 'sk-close-test-key-0123456789';
let queues = 0;

/** How long `promise` takes to settle, or `limitMs` + 1 when it does not settle by then (never hangs the test). */
async function timed(promise: Promise<unknown>, limitMs: number): Promise<number> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), limitMs);
  });
  const settled = await Promise.race([promise.then(noop, noop), late]);
  clearTimeout(timer);
  return settled === 'late' ? limitMs + 1 : performance.now() - started;
}

function noop(): void {}

function workerFor(redis: TestRedis, mock: MockProvider, queueName: string): WorkerHost {
  return createWorker({
    connection: redis.url,
    queueName,
    threads: 1,
    concurrency: 4,
    logger: false,
    abortGraceMs: 500,
    providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEY } },
  });
}

describe('closing on the BullMQ transport', { skip: redisMissing }, () => {
  let redis: TestRedis;
  let mock: MockProvider;
  const cleanup: Array<() => Promise<void>> = [];
  before(async () => {
    redis = await startRedis();
    mock = await startMockProvider({ apiKey: KEY, latencyMs: 6000 });
  });
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(noop);
  });
  after(async () => {
    await mock?.close();
    await redis?.stop();
  });

  test('a supervisor closes within its timeout while Redis is gone, and every session ends typed', async () => {
    const queueName = `close-${++queues}`;
    const worker = workerFor(redis, mock, queueName);
    const supervisor = createSupervisor({ transport: bullmq({ connection: redis.url, queueName }), logger: false, timeoutMs: 30_000 });
    cleanup.push(() => worker.close({ timeoutMs: 500 }));
    await Promise.all([worker.ready(), supervisor.ready()]);
    const seen = mock.requests.length;
    const sessions = [0, 1].map((i) => supervisor.chat({ provider: 'kimi', prompt: `closing ${i}` }).catch((error: { code: string }) => error.code));
    await mock.waitForRequests(seen + 2);
    await redis.down();
    cleanup.push(() => redis.up());
    const ms = await timed(supervisor.close({ timeoutMs: 1000 }), 8000);
    assert.ok(ms <= 2500, `close({ timeoutMs: 1000 }) resolved after ${Math.round(ms)} ms (bound 2500)`);
    const codes = await Promise.all(sessions);
    // A running session aborted by close() ends as in the in-process pool (test/engine/close.test.ts).
    assert.deepEqual(codes, ['ERR_SESSION_ABORTED', 'ERR_SESSION_ABORTED'], 'both sessions ended typed');
  });

  test('a worker host closes within its timeout while Redis hangs (SIGSTOP) with a call running', async () => {
    const queueName = `close-${++queues}`;
    const worker = workerFor(redis, mock, queueName);
    const supervisor = createSupervisor({ transport: bullmq({ connection: redis.url, queueName }), logger: false, timeoutMs: 30_000 });
    cleanup.push(() => supervisor.close({ timeoutMs: 500 }).then(noop));
    await Promise.all([worker.ready(), supervisor.ready()]);
    const seen = mock.requests.length;
    void supervisor.chat({ provider: 'kimi', prompt: 'running while closing' }).catch(noop);
    const [request] = (await mock.waitForRequests(seen + 1)).slice(seen);
    redis.pause();
    cleanup.push(async () => redis.resume());
    const ms = await timed(worker.close({ timeoutMs: 1000 }), 8000);
    assert.ok(ms <= 2500, `close({ timeoutMs: 1000 }) resolved after ${Math.round(ms)} ms (bound 2500)`);
    assert.ok(request !== undefined);
  });

  test("a worker host's close does not wait for a running call past its timeout (Redis up): the call is aborted", async () => {
    const queueName = `close-${++queues}`;
    const worker = workerFor(redis, mock, queueName);
    const supervisor = createSupervisor({ transport: bullmq({ connection: redis.url, queueName }), logger: false, timeoutMs: 30_000 });
    cleanup.push(() => supervisor.close({ timeoutMs: 500 }).then(noop));
    await Promise.all([worker.ready(), supervisor.ready()]);
    const seen = mock.requests.length;
    void supervisor.chat({ provider: 'kimi', prompt: 'outlives the close' }).catch(noop);
    const [request] = (await mock.waitForRequests(seen + 1)).slice(seen);
    const ms = await timed(worker.close({ timeoutMs: 1000 }), 8000);
    assert.ok(ms <= 2500, `close({ timeoutMs: 1000 }) resolved after ${Math.round(ms)} ms against a 6 s call (bound 2500)`);
    const closed = mock.requests.filter((r) => r.closedEarly).length;
    assert.ok((await timed(mock.waitForClosed(closed + (request?.closedEarly === true ? 0 : 1)), 3000)) <= 3000, 'the provider saw the call end');
    assert.equal(request?.closedEarly, true, 'the call was aborted, not left running');
  });
});
