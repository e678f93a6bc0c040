// The limiter's Redis store when Redis goes away: a store failure never escapes (no unhandled
// rejection, the host process lives), the limiter goes on with this host's own view and says so in
// stats, and the shared state is caught up (what was done meanwhile replayed) when Redis is back.
process.env['SESSIONPOOL_JOB_SECRET'] = 'test-job-secret-0123456789abcdef0123456789abcdef';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createSupervisor, startMockProvider } from '../src/index.ts';
import { redisLimiterStore } from '../src/transport/bullmq/index.ts';
import { redisMissing, startRedis, type TestRedis } from './redis-helpers.ts';

const KEY = 'sk-store-test-key-0123456789';

/** Resolves once `check` holds, polled every 20 ms; rejects with `what` after `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the limiter store in Redis, while Redis is down', { skip: redisMissing }, () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  test('routing.store = redisLimiterStore and Redis dies mid-call: nothing escapes, sessions complete on the local view, the store catches up when Redis is back', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const mock = await startMockProvider({ apiKey: KEY, latencyMs: 600 });
    const store = redisLimiterStore(redis.url, { prefix: 'store-test:' });
    const supervisor = createSupervisor({
      logger: false,
      threads: 1,
      providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEY, limits: { concurrency: 2 } } },
      routing: { store },
      retry: { maxRetries: 0 },
    });
    try {
      await supervisor.ready();
      const sessions = Array.from({ length: 4 }, (_, i) => supervisor.chat({ provider: 'kimi', prompt: `store ${i}`, timeoutMs: 20_000 }));
      await mock.waitForRequests(2);
      await redis.down();
      const outcomes = await Promise.allSettled(sessions);
      const failed = outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as { code?: string }).code] : []));
      assert.deepEqual(failed, [], 'every session completed while the store was down');
      assert.equal(mock.requests.length, 4);
      const down = supervisor.stats().routing?.store;
      assert.equal(down?.shared, false, `the limiter says it runs on this host's view (${JSON.stringify(down)})`);
      assert.ok((down?.failures ?? 0) > 0);
      await redis.up();
      await until(() => supervisor.stats().routing?.store?.shared === true, 10_000, 'the limiter to use the shared store again');
      assert.equal(supervisor.stats().routing?.store?.pending, 0, 'what was done meanwhile was replayed');
      const again = await supervisor.chat({ provider: 'kimi', prompt: 'after Redis came back' });
      assert.match(again.content, /after Redis came back/);
      const client = new Redis(redis.url);
      try {
        const keys = await client.keys('store-test:*');
        assert.equal(keys.length, 1, `the key's state is in Redis again (${keys.join(', ')})`);
        const state = JSON.parse((await client.get(keys[0] as string)) as string) as { inFlight: number };
        assert.equal(state.inFlight, 0, 'every call that ended meanwhile was accounted for');
      } finally {
        client.disconnect();
      }
      assert.deepEqual(
        unhandled.map((e) => String(e)),
        [],
        'no store failure escaped as an unhandled rejection',
      );
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await supervisor.close({ timeoutMs: 1000 });
      await store.close();
      await mock.close();
    }
  });
});
