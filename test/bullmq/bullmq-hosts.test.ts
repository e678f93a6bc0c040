// The BullMQ transport across processes: one producer (this process, with the mock provider) and
// worker hosts started as `sessionpool worker` child processes, on a real redis-server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bullmq, createSupervisor, startMockProvider, type ChatResult, type TransitionEvent } from '../../src/index.ts';
import { throttle } from '../../src/apps/mock/faults.ts';
import type { MockProvider } from '../../src/apps/mock/server.ts';
import { redisMissing, startRedis, type TestRedis, startWorkerProcess, type WorkerProcess } from '../support/redis-helpers.ts';

// Producers and worker hosts (child processes inherit it) sign and check jobs with this secret.
process.env['SESSIONPOOL_JOB_SECRET'] ??= 'test-job-secret-shared-by-producer-and-hosts';
const KEY = 'sk-hosts-test-key-0123456789';
const providers = (mock: MockProvider, extra: Record<string, unknown> = {}) => ({ kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEY, ...extra } });

describe('BullMQ transport across processes', { skip: redisMissing }, () => {
  let redis: TestRedis;
  const workers: WorkerProcess[] = [];
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await redis?.stop();
  });

  test('1,000 sessions, two worker processes, one killed halfway: every session settles exactly once, none lost', async () => {
    const mock = await startMockProvider({ apiKey: KEY, latencyMs: 20 });
    // Short locks so that the dead host's jobs are found within seconds (BullMQ's default is 30 s).
    const config = { providers: providers(mock), threads: 1, concurrency: 40, lockDurationMs: 2000, stalledIntervalMs: 500 };
    const [a, b] = await Promise.all([startWorkerProcess(redis.url, 'kill', config), startWorkerProcess(redis.url, 'kill', config)]);
    workers.push(a, b);
    const transport = bullmq({ connection: redis.url, queueName: 'kill' });
    const supervisor = createSupervisor({ transport, logger: false, maxConcurrent: 200, maxQueue: 1000, timeoutMs: 60_000 });
    const ends = new Map<string, number>();
    const processing = new Set<string>();
    supervisor.on('transition', (e: TransitionEvent) => {
      if (e.to === 'processing') processing.add(e.sessionId);
      if (e.to === 'completed' || e.to === 'failed') ends.set(e.sessionId, (ends.get(e.sessionId) ?? 0) + 1);
    });
    try {
      await supervisor.ready();
      let settled = 0;
      let killed: Promise<void> | undefined;
      const sessions = Array.from({ length: 1000 }, (_, i) =>
        supervisor.chat({ provider: 'kimi', prompt: `session ${i}`, requestId: `s-${i}` }).finally(() => {
          if (++settled === 500) killed = a.kill();
        }),
      );
      const outcomes = await Promise.allSettled(sessions);
      await killed;
      const results = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value as ChatResult] : []));
      const errors = outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as { code: string }).code] : []));
      for (const o of outcomes) if (o.status === 'rejected') console.log(`# failed: ${(o.reason as Error).message}`);
      const stats = transport.stats();
      console.log(
        `# kill test: ${results.length} completed, ${errors.length} failed ${JSON.stringify(errors.slice(0, 5))}, transport ${JSON.stringify(stats)}, mock requests ${mock.requests.length}`,
      );
      assert.equal(outcomes.length, 1000);
      assert.deepEqual(errors, [], 'nothing had streamed: every stalled session ran again and completed');
      assert.equal(ends.size, 1000, 'every session reached an end state');
      assert.ok(
        [...ends.values()].every((n) => n === 1),
        'each exactly once',
      );
      assert.equal(processing.size, 1000, 'every session went through processing');
      assert.equal(stats.pickupsMissed, 0, 'every pick-up report reached the producer');
      assert.equal(stats.forged, 0, 'every result and progress message, re-runs after the kill included, verified');
      assert.equal(stats.duplicates, 0, 'no job answered twice');
      assert.ok(stats.stalled > 0, `the killed host had sessions in flight (${stats.stalled} stalled)`);
      results.forEach((r, i) => assert.match(r.content, new RegExp(`session ${i}\\b`)));
      const rerun = results.filter((r) => r.metadata.session.crashRetries === 1);
      // A job the dead host took but had not reported picked up was still `created` here: it simply ran on the other host.
      assert.ok(
        rerun.length > 0 && rerun.length <= stats.stalled,
        `stalled sessions that were processing ran again once (${rerun.length} of ${stats.stalled})`,
      );
      assert.ok(
        rerun.every((r) => r.metadata.session.host === b.host),
        'on the host that lived',
      );
      assert.ok(mock.requests.length <= 1000 + stats.stalled, `at most one request more per stalled session (${mock.requests.length})`);
    } finally {
      await supervisor.close({ timeoutMs: 1000 });
      await b.kill('SIGTERM');
      await mock.close();
    }
  });

  test('a limit of 20/s on one key, shared by two worker processes through Redis, holds at the mock', async () => {
    const limiter = throttle({ limit: 20 });
    const mock = await startMockProvider({ apiKey: KEY, behave: limiter.behave });
    const config = { providers: providers(mock, { limits: { requestsPerSecond: 20 } }), threads: 1, concurrency: 40 };
    const pair = await Promise.all([startWorkerProcess(redis.url, 'limit', config), startWorkerProcess(redis.url, 'limit', config)]);
    workers.push(...pair);
    const supervisor = createSupervisor({ transport: bullmq({ connection: redis.url, queueName: 'limit' }), logger: false, retry: { maxRetries: 0 } });
    try {
      await supervisor.ready();
      const results = await Promise.all(Array.from({ length: 80 }, (_, i) => supervisor.chat({ provider: 'kimi', prompt: `limited ${i}` })));
      const hosts = new Set(results.map((r) => r.metadata.session.host));
      const times = mock.requests.map((r) => r.receivedAt).sort((x, y) => x - y);
      const busiest = Math.max(...times.map((t, i) => times.filter((u, j) => j >= i && u < t + 1000).length));
      console.log(
        `# shared limit: ${results.length} sessions on ${hosts.size} hosts, ${limiter.rejected} 429s, busiest second ${busiest} requests, span ${Math.round((times.at(-1) ?? 0) - (times[0] ?? 0))} ms`,
      );
      assert.equal(hosts.size, 2, 'both hosts took sessions');
      assert.equal(limiter.rejected, 0, 'the provider answered no 429');
      assert.equal(limiter.accepted, 80);
      assert.ok(busiest <= 21, `at most 20 (+1 at a window edge) requests in any second, got ${busiest}`);
    } finally {
      await supervisor.close({ timeoutMs: 1000 });
      await Promise.all(pair.map((w) => w.kill('SIGTERM')));
      await mock.close();
    }
  });

  test('Redis restarts mid-run (losing every job): producer and worker reconnect; sessions complete or fail typed, none past its deadline', async () => {
    const mock = await startMockProvider({ apiKey: KEY, latencyMs: 400 });
    const worker = await startWorkerProcess(redis.url, 'restart', { providers: providers(mock), threads: 1, concurrency: 40 });
    workers.push(worker);
    const supervisor = createSupervisor({ transport: bullmq({ connection: redis.url, queueName: 'restart' }), logger: false, timeoutMs: 20_000 });
    try {
      await supervisor.ready();
      const started = performance.now();
      const sessions = Array.from({ length: 30 }, (_, i) =>
        supervisor.chat({ provider: 'kimi', prompt: `restart ${i}` }).then(
          () => performance.now(),
          (error: { code: string }) => error.code,
        ),
      );
      await mock.waitForRequests(10);
      await redis.restart();
      const outcomes = await Promise.all(sessions);
      const late = outcomes.filter((o) => typeof o === 'number' && o - started > 20_000 + 1000);
      const codes = outcomes.filter((o): o is string => typeof o === 'string');
      console.log(`# Redis restart: ${outcomes.length - codes.length} completed, failed ${JSON.stringify(codes)}`);
      assert.equal(outcomes.length, 30);
      assert.deepEqual(late, [], 'nothing settled past its deadline');
      assert.ok(
        codes.every((c) => ['ERR_WORKER_CRASHED', 'ERR_TRANSPORT', 'ERR_SESSION_TIMEOUT'].includes(c)),
        `typed failures only: ${codes.join(', ')}`,
      );
      assert.ok(outcomes.length - codes.length > 0, 'sessions completed after the restart');
      const again = await supervisor.chat({ provider: 'kimi', prompt: 'after the restart' });
      assert.match(again.content, /after the restart/);
    } finally {
      await supervisor.close({ timeoutMs: 1000 });
      await worker.kill('SIGTERM');
      await mock.close();
    }
  });
});
