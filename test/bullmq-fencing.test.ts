// Nothing runs twice across hosts: a job whose session has ended is never sent to a provider (the
// producer's verdict in Redis, checked at pick-up), two jobs of one session on one host do not mix
// (runs are keyed by session and run), and a job whose producer is gone is refused without a call.
// Real redis-server, `sessionpool worker` child processes killed with -9 and restarted.
process.env['SESSIONPOOL_JOB_SECRET'] = 'test-job-secret-0123456789abcdef0123456789abcdef';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bullmq, createSupervisor, startMockProvider } from '../src/index.ts';
import type { MockProvider } from '../src/mock/server.ts';
import { redisMissing, startRedis, startWorkerProcess, type TestRedis, type WorkerProcess } from './redis-helpers.ts';

const KEY = 'sk-fencing-test-key-0123456789';
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
      assert.ok(
        outcomes.every((o) => !('code' in o) || ['ERR_WORKER_CRASHED', 'ERR_TRANSPORT'].includes(o.code as string)),
        'typed failures only',
      );
    } finally {
      await supervisor.close({ timeoutMs: 1000 });
      await worker.kill('SIGTERM');
      await mock.close();
    }
  });
});
