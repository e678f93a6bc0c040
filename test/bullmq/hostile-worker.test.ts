// A worker host against what anyone with Redis access can write besides jobs. The abort channel:
// a message is one of the protocol's (a session id and 'timeout' | 'aborted' | 'closed') or it is
// ignored; a reason such as "constructor" looked up the messages' table and ended the session with
// "function Object() { [native code] }" as its error message.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { startMockProvider } from '../../src/index.ts';
import type { MockProvider } from '../../src/apps/mock/server.ts';
import { chatTask, Forger, sign, worker } from './bullmq-forge.ts';
import { redisMissing, startRedis, type TestRedis } from '../support/redis-helpers.ts';

process.env['SESSIONPOOL_JOB_SECRET'] = 'test-job-secret-0123456789abcdef0123456789abcdef';
const KEY = 'sk-hostile-worker-key-0123456789';

/** Resolves once the provider got more than `count` requests (bounded). */
async function requestsAbove(mock: MockProvider, count: number): Promise<void> {
  const until = Date.now() + 10_000;
  while (mock.totalRequests <= count) {
    assert.ok(Date.now() < until, 'the provider call arrived');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('hostile writes to a worker host', { skip: redisMissing }, () => {
  let redis: TestRedis;
  let mock: MockProvider;
  before(async () => {
    redis = await startRedis();
    mock = await startMockProvider({ apiKey: KEY });
  });
  after(async () => {
    await mock?.close();
    await redis?.stop();
  });

  test('abort messages outside the protocol are ignored; the next valid one ends the session with its documented error', async () => {
    const queueName = 'hostile-aborts';
    const host = await worker(redis, mock, queueName, KEY);
    const forger = new Forger(redis, queueName);
    const raw = new Redis({ host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: 1 });
    try {
      await forger.ready();
      const malformed = [...['constructor', '__proto__', 'toString', 42, null, ''].map((reason) => ({ reason })), { reason: 'aborted', sessionId: 7 }];
      for (const [i, bad] of malformed.entries()) {
        const id = `abort-${i}`;
        const before = mock.totalRequests;
        const job = await forger.queue.add('chat', sign({ task: chatTask(id, '[[mock latencyMs=20000]] hi'), deadline: Date.now() + 30_000 }, id, queueName), {
          jobId: id,
        });
        await requestsAbove(mock, before);
        const channel = `bull:${queueName}:sessionpool:aborts`;
        await raw.publish(channel, JSON.stringify({ sessionId: id, ...bad }));
        // Same connection, same order: the host hears the malformed message first.
        await raw.publish(channel, JSON.stringify({ sessionId: id, reason: 'aborted' }));
        const result = (await job.waitUntilFinished(forger.events, 20_000)) as { outcome?: { ok: boolean; error?: { code: string; message: string } } };
        assert.equal(result.outcome?.error?.code, 'ERR_SESSION_ABORTED', `${JSON.stringify(bad)}: ${JSON.stringify(result)}`);
        assert.equal(result.outcome?.error?.message, 'The session was aborted by its caller', `${JSON.stringify(bad)}: ${JSON.stringify(result)}`);
      }
    } finally {
      raw.disconnect();
      await forger.close();
      await host.close({ timeoutMs: 1000 });
    }
  });
  // BullMQ's count of a job's starts (`ats` in its hash) decided whether a start needs the producer's
  // word; anyone with Redis access can reset it. With it reset and the running job's id pushed back
  // on `wait`, the copy passed as a first start: the key was spent twice on one signed job.
  test('a running job put back in `wait` with its start count reset makes no second provider call', async () => {
    const queueName = 'hostile-restart';
    const host = await worker(redis, mock, queueName, KEY);
    const forger = new Forger(redis, queueName);
    const raw = new Redis({ host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: 1 });
    try {
      await forger.ready();
      const id = 'restart.1';
      const before = mock.totalRequests;
      const data = sign({ task: chatTask('restart', '[[mock latencyMs=1500]] hi'), deadline: Date.now() + 6000 }, id, queueName);
      const job = await forger.queue.add('chat', data, { jobId: id });
      await requestsAbove(mock, before);
      await raw.hset(`bull:${queueName}:${id}`, 'ats', '0');
      await raw.lpush(`bull:${queueName}:wait`, id);
      await raw.zadd(`bull:${queueName}:marker`, 0, '0');
      // The copy ends by the job's deadline at the latest (the first run's result can no longer be written: the copy holds the lock).
      const result = (await job.waitUntilFinished(forger.events, 20_000)) as { outcome?: { ok: boolean; error?: { code: string } } };
      assert.equal(mock.totalRequests - before, 1, `one provider call for one job, got ${mock.totalRequests - before}; ${JSON.stringify(result)}`);
    } finally {
      raw.disconnect();
      await forger.close();
      await host.close({ timeoutMs: 1000 });
    }
  });
  test('a running job put back in `wait` with a forged re-run permission (the key written by hand) makes no second provider call', async () => {
    const queueName = 'hostile-rerun';
    const host = await worker(redis, mock, queueName, KEY);
    const forger = new Forger(redis, queueName);
    const raw = new Redis({ host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: 1 });
    try {
      await forger.ready();
      const id = 'rerun.1';
      const before = mock.totalRequests;
      const data = sign({ task: chatTask('rerun', '[[mock latencyMs=1500]] hi'), deadline: Date.now() + 6000 }, id, queueName);
      const job = await forger.queue.add('chat', data, { jobId: id });
      await requestsAbove(mock, before);
      await raw.hset(`bull:${queueName}:${id}`, 'ats', '0');
      // The producer's permission to run a job again, as anyone with Redis access can write it: unsigned.
      await raw.set(`bull:${queueName}:sessionpool:rerun:${id}`, '1', 'PX', 60_000);
      await raw.lpush(`bull:${queueName}:wait`, id);
      await raw.zadd(`bull:${queueName}:marker`, 0, '0');
      // The copy ends by the job's deadline at the latest (the first run's result can no longer be written: the copy holds the lock).
      const result = (await job.waitUntilFinished(forger.events, 20_000)) as { outcome?: { ok: boolean; error?: { code: string } } };
      assert.equal(mock.totalRequests - before, 1, `one provider call for one job, got ${mock.totalRequests - before}; ${JSON.stringify(result)}`);
    } finally {
      raw.disconnect();
      await forger.close();
      await host.close({ timeoutMs: 1000 });
    }
  });
});
