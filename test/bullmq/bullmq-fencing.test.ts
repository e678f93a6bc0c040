// Nothing runs twice across hosts: a job whose session has ended is never sent to a provider (the
// producer's verdict in Redis, checked at pick-up), two jobs of one session on one host do not mix
// (runs are keyed by session and run), and a job whose producer is gone is refused without a call.
// Real redis-server, `sessionpool worker` child processes killed with -9 and restarted.
process.env['SESSIONPOOL_JOB_SECRET'] = 'test-job-secret-0123456789abcdef0123456789abcdef';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { bullmq, createSupervisor, createWorker, startMockProvider } from '../../src/index.ts';
import type { MockProvider } from '../../src/apps/mock/server.ts';
import { redisMissing, startRedis, startWorkerProcess, type TestRedis, type WorkerProcess } from '../support/redis-helpers.ts';

const KEY = 'sk-fencing-test-key-0123456789';
const ORPHAN_PRODUCER = fileURLToPath(new URL('../fixtures/orphan-producer.ts', import.meta.url));

/** Resolves once `check` holds, polled every 20 ms; rejects with `what` after `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Jobs of the queue still in Redis (waiting, running, delayed). */
async function jobsLeft(url: string, queueName: string): Promise<number> {
  const queue = new Queue(queueName, { connection: { url } });
  try {
    const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  } finally {
    await queue.close();
  }
}

const providers = (mock: MockProvider, extra: Record<string, unknown> = {}) => ({ kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEY, ...extra } });

describe('BullMQ fencing: nothing runs for a session that ended', { skip: redisMissing }, () => {
  let redis: TestRedis;
  const workers: WorkerProcess[] = [];
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await redis?.stop();
  });

  test('Redis restarts while the host keeps its key limits there: every session in flight is answered, none waits for its deadline', async () => {
    const mock = await startMockProvider({ apiKey: KEY, latencyMs: 300 });
    const worker = await startWorkerProcess(redis.url, 'restart-limits', {
      providers: providers(mock, { limits: { concurrency: 3 } }),
      threads: 1,
      concurrency: 20,
    });
    workers.push(worker);
    const supervisor = createSupervisor({ transport: bullmq({ connection: redis.url, queueName: 'restart-limits' }), logger: false, timeoutMs: 15_000 });
    try {
      await supervisor.ready();
      const started = performance.now();
      const sessions = Array.from({ length: 10 }, (_, i) =>
        supervisor.chat({ provider: 'kimi', prompt: `limited restart ${i}` }).then(
          () => ({ ms: performance.now() - started }),
          (error: { code: string }) => ({ ms: performance.now() - started, code: error.code }),
        ),
      );
      await mock.waitForRequests(3);
      await redis.restart();
      const outcomes = await Promise.all(sessions);
      console.log(`# restart with limits in Redis: ${JSON.stringify(outcomes.map((o) => ('code' in o ? o.code : Math.round(o.ms))))}`);
      const waitedOut = outcomes.filter((o) => o.ms > 8000);
      assert.deepEqual(waitedOut, [], 'no session waited for its 15 s deadline against a 300 ms provider');
      assert.deepEqual(
        outcomes.flatMap((o) => ('code' in o ? [o.code] : [])),
        [],
        'every session was answered (those Redis lost were queued again, or ran again once)',
      );
    } finally {
      await supervisor.close({ timeoutMs: 1000 });
      await worker.kill('SIGTERM');
      await mock.close();
    }
  });

  test('a worker host killed with -9 mid-stream and restarted never sends the session again once the producer failed it', async () => {
    const mock = await startMockProvider({ apiKey: KEY, defaults: { chunks: 40, chunkDelayMs: 100 } });
    // Short locks so that the dead host's job is found within a second or two.
    const config = { providers: providers(mock), threads: 1, concurrency: 4, lockDurationMs: 1000, stalledIntervalMs: 300 };
    const first = await startWorkerProcess(redis.url, 'killed-stream', config);
    workers.push(first);
    const supervisor = createSupervisor({ transport: bullmq({ connection: redis.url, queueName: 'killed-stream' }), logger: false, timeoutMs: 30_000 });
    try {
      await supervisor.ready();
      const delta = Promise.withResolvers<void>();
      const session = supervisor.chat({ provider: 'kimi', prompt: 'streamed, then its host dies', onDelta: () => delta.resolve() }).then(
        () => 'completed',
        (error: { code: string }) => error.code,
      );
      await delta.promise;
      await first.kill('SIGKILL');
      // As systemd would: the same host comes back at once, with the same configuration.
      workers.push(await startWorkerProcess(redis.url, 'killed-stream', config));
      assert.equal(await session, 'ERR_WORKER_CRASHED', 'part of the answer had streamed: the session fails, it is not run again');
      await until(async () => (await jobsLeft(redis.url, 'killed-stream')) === 0, 15_000, 'the stalled job to leave Redis');
      assert.equal(mock.requests.length, 1, `the provider saw the streamed call once, not again for nobody (${mock.requests.length})`);
    } finally {
      await supervisor.close({ timeoutMs: 1000 });
      await mock.close();
    }
  });

  test("a producer killed with -9 leaves its queued jobs: hosts refuse them without a call once its liveness lapses, and a new producer's session does not wait behind them", async () => {
    const mock = await startMockProvider({ apiKey: KEY, latencyMs: 1000 });
    const host = await startWorkerProcess(redis.url, 'orphans', { providers: providers(mock), threads: 1, concurrency: 2 });
    workers.push(host);
    const child = spawn(process.execPath, [ORPHAN_PRODUCER, redis.url, 'orphans', '30', '1000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      child.stdout.setEncoding('utf8');
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          out += chunk;
          if (out.includes('queued')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`the producer exited (${code}) before it queued its sessions`)));
      });
      await mock.waitForRequests(2);
      child.kill('SIGKILL');
      await once(child, 'exit');
      const supervisor = createSupervisor({ transport: bullmq({ connection: redis.url, queueName: 'orphans' }), logger: false, timeoutMs: 60_000 });
      try {
        await supervisor.ready();
        const started = performance.now();
        const result = await supervisor.chat({ provider: 'kimi', prompt: 'the new producer' });
        const waited = performance.now() - started;
        await until(async () => (await jobsLeft(redis.url, 'orphans')) === 0, 15_000, 'the orphaned jobs to leave Redis');
        const orphans = mock.requests.filter((r) => JSON.stringify(r.body).includes('orphan')).length;
        console.log(`# orphans: ${orphans} of 30 reached the provider; the new producer's session took ${Math.round(waited)} ms`);
        assert.match(result.content, /the new producer/);
        assert.ok(orphans <= 10, `only jobs taken before the producer's liveness lapsed (1 s) reached the provider: ${orphans} of 30`);
        assert.ok(waited < 6000, `the new session did not wait behind 28 orphans (1 s each, 2 at a time): ${Math.round(waited)} ms`);
      } finally {
        await supervisor.close({ timeoutMs: 1000 });
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await mock.close();
    }
  });

  test("a session's verdict, written while its abort message was lost, stops its next round (a retry) on the host", async () => {
    const mock = await startMockProvider({ apiKey: KEY, defaults: { status: 503 } });
    const worker = createWorker({ connection: redis.url, queueName: 'rounds', threads: 1, logger: false, providers: providers(mock) });
    const supervisor = createSupervisor({
      transport: bullmq({ connection: redis.url, queueName: 'rounds' }),
      logger: false,
      timeoutMs: 30_000,
      retry: { maxRetries: 8, baseDelayMs: 300, maxDelayMs: 300 },
    });
    const client = new Redis(redis.url);
    try {
      await Promise.all([worker.ready(), supervisor.ready()]);
      const ids = new Map<string, string>();
      supervisor.on('transition', (e) => ids.set(e.requestId, e.sessionId));
      const session = supervisor.chat({ provider: 'kimi', prompt: 'retried for nobody', requestId: 'rounds-1' }).catch((error: { code: string }) => error.code);
      await mock.waitForRequests(1);
      // What the producer writes when the session ends; its abort on the channel is not sent here (lost).
      await client.set(`bull:rounds:sessionpool:ended:${ids.get('rounds-1')}`, '1', 'PX', 60_000);
      const code = await session;
      const calls = mock.requests.length;
      assert.equal(code, 'ERR_SESSION_ABORTED', 'the host stopped the session');
      assert.ok(calls <= 2, `no round after the one reported next went to the provider: ${calls} calls (up to 9 without a per-round read)`);
    } finally {
      client.disconnect();
      await supervisor.close({ timeoutMs: 1000 });
      await worker.close({ timeoutMs: 1000 });
      await mock.close();
    }
  });
});

describe('BullMQ fencing while Redis is unreachable', { skip: redisMissing }, () => {
  let redis: TestRedis;
  before(async () => {
    // Persistent: Redis comes back with its jobs, as one that was unreachable (not one that lost everything).
    redis = await startRedis({ persist: true });
  });
  after(async () => {
    await redis?.stop();
  });

  test('a session aborted while Redis is unreachable ends at once; its verdict is written when Redis is back, and a host that takes its job then sends nothing', async () => {
    const mock = await startMockProvider({ apiKey: KEY });
    const supervisor = createSupervisor({ transport: bullmq({ connection: redis.url, queueName: 'unreachable' }), logger: false, timeoutMs: 60_000 });
    const client = new Redis(redis.url, { lazyConnect: true });
    let worker: ReturnType<typeof createWorker> | undefined;
    try {
      await supervisor.ready();
      const ids = new Map<string, string>();
      supervisor.on('transition', (e) => ids.set(e.requestId, e.sessionId));
      const controller = new AbortController();
      const session = supervisor
        .chat({ provider: 'kimi', prompt: 'ended while Redis was away', requestId: 'away-1', signal: controller.signal })
        .catch((error: { code: string }) => error.code);
      await until(async () => (await jobsLeft(redis.url, 'unreachable')) === 1, 5000, 'the job to be queued');
      await redis.down();
      const aborted = performance.now();
      controller.abort();
      assert.equal(await session, 'ERR_SESSION_ABORTED');
      assert.ok(performance.now() - aborted < 1000, 'the session ended at once, without waiting for Redis');
      await redis.up();
      const key = `bull:unreachable:sessionpool:ended:${ids.get('away-1')}`;
      await until(async () => (await client.exists(key)) === 1, 15_000, 'the verdict to reach Redis once it is back');
      worker = createWorker({ connection: redis.url, queueName: 'unreachable', threads: 1, logger: false, providers: providers(mock) });
      await worker.ready();
      await until(async () => (await jobsLeft(redis.url, 'unreachable')) === 0, 15_000, 'the job to leave Redis');
      assert.equal(mock.requests.length, 0, 'nothing was sent for the ended session');
    } finally {
      client.disconnect();
      await supervisor.close({ timeoutMs: 1000 });
      await worker?.close({ timeoutMs: 1000 });
      await mock.close();
    }
  });
});
