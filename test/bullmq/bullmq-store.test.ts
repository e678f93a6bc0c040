// The limiter's Redis store when Redis goes away: a store failure never escapes (no unhandled
// rejection, the host process lives), the limiter goes on with this host's own view and says so in
// stats, and the shared state is caught up (what was done meanwhile replayed) when Redis is back.
process.env['SESSIONPOOL_JOB_SECRET'] = 'test-job-secret-0123456789abcdef0123456789abcdef';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createSupervisor, ManualClock, startMockProvider } from '../../src/index.ts';
import type { KeyState, LimiterStore } from '../../src/types/options.ts';
import { FallbackLimiterStore } from '../../src/routing/fallback-store.ts';
import { MemoryLimiterStore } from '../../src/routing/store.ts';
import { redisLimiterStore } from '../../src/transport/bullmq/index.ts';
import { redisMissing, startRedis, type TestRedis } from '../support/redis-helpers.ts';

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
        // A call's end is written after its session settles: the store gets there within a moment.
        const inFlight = async () => (JSON.parse((await client.get(keys[0] as string)) as string) as { inFlight: number }).inFlight;
        await until(async () => (await inFlight()) === 0, 5000, 'every call that ended (meanwhile too) to be accounted for in Redis');
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

/** A store that fails, hangs or answers, as told; `applied` counts the steps it really applied. */
class FlakyStore implements LimiterStore {
  mode: 'up' | 'down' | 'hung' = 'up';
  applied = 0;
  readonly #inner: MemoryLimiterStore;
  readonly #hung: Array<() => void> = [];

  constructor(clock: ManualClock) {
    this.#inner = new MemoryLimiterStore(clock);
  }

  update<R>(key: string, change: (state: KeyState | undefined, now: number) => [KeyState, R]): Promise<R> {
    const apply = () => {
      this.applied++;
      return this.#inner.update(key, change);
    };
    if (this.mode === 'down') return Promise.reject(new Error('MaxRetriesPerRequestError: Reached the max retries per request limit'));
    if (this.mode === 'hung') return new Promise<R>((resolve, reject) => this.#hung.push(() => apply().then(resolve, reject)));
    return apply();
  }

  /** A hung store answers at last: every step it held lands. */
  release(): void {
    this.mode = 'up';
    for (const land of this.#hung.splice(0)) land();
  }

  peek(key: string): KeyState | undefined {
    return this.#inner.peek(key);
  }
}

const inFlight =
  (delta: number) =>
  (state: KeyState | undefined): [KeyState, number] => {
    const next = { inFlight: (state?.inFlight ?? 0) + delta, factor: 1, blockedUntil: 0 };
    return [next, next.inFlight];
  };

describe('the limiter store guard (fallback-store.ts), without Redis', () => {
  test('a failing store: steps run on the local view, in order, and are replayed on the store when it answers again', async () => {
    const clock = new ManualClock();
    const shared = new FlakyStore(clock);
    const changes: boolean[] = [];
    const store = new FallbackLimiterStore(shared, { clock, timeoutMs: 50, onChange: (up) => changes.push(up) });
    assert.equal(await store.update('k', inFlight(+1)), 1);
    shared.mode = 'down';
    assert.equal(await store.update('k', inFlight(+1)), 2, 'the local view starts from the last state the store gave');
    assert.equal(await store.update('k', inFlight(-1)), 1);
    assert.deepEqual(store.health(), { shared: false, failures: 1, pending: 2 });
    assert.deepEqual(changes, [false], 'said once');
    shared.mode = 'up';
    clock.advance(1000);
    await until(() => store.health().shared, 1000, 'the catch-up to replay the steps');
    assert.deepEqual(store.health(), { shared: true, failures: 1, pending: 0 });
    assert.equal(shared.peek('k')?.inFlight, 1, 'the store holds what happened meanwhile');
    assert.deepEqual(changes, [false, true]);
  });

  test('a hung store: a step not answered in time goes local; when the store answers at last, that step is not applied twice', async () => {
    const clock = new ManualClock();
    const shared = new FlakyStore(clock);
    const store = new FallbackLimiterStore(shared, { clock, timeoutMs: 30 });
    await store.update('k', inFlight(+1));
    shared.mode = 'hung';
    assert.equal(await store.update('k', inFlight(+1)), 2, 'answered from the local view after 30 ms');
    assert.equal(store.health().shared, false);
    assert.equal(store.health().pending, 0, 'a late step may still land: it is not queued for replay');
    shared.release();
    await until(() => shared.applied === 2, 1000, 'the late step to land');
    clock.advance(1000);
    assert.equal(await store.update('k', inFlight(-1)), 1, 'the store is used again');
    assert.equal(shared.peek('k')?.inFlight, 1, 'the late step counted once');
    assert.equal(store.health().shared, true);
  });
});
