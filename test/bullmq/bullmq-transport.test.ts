// The BullMQ transport in one process: a producer supervisor and a worker host (createWorker) on a
// real redis-server, against the embedded mock. The multi-process runs are in bullmq-hosts.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import {
  bullmq,
  createSupervisor,
  createWorker,
  InvalidRequestError,
  ManualClock,
  startMockProvider,
  type Supervisor,
  type TransitionEvent,
  type WorkerHost,
} from '../../src/index.ts';
import type { MockProvider } from '../../src/apps/mock/server.ts';
import { redisLimiterStore } from '../../src/transport/bullmq/index.ts';
import { rejection } from '../support/helpers.ts';
import { redisMissing, startRedis, type TestRedis } from '../support/redis-helpers.ts';

// Producers and worker hosts (child processes inherit it) sign and check jobs with this secret.
process.env['SESSIONPOOL_JOB_SECRET'] ??= 'test-job-secret-shared-by-producer-and-hosts';
const KEY = 'sk-worker-only-key-0123456789';
let queues = 0;

interface Pair {
  supervisor: Supervisor;
  worker: WorkerHost;
  transport: ReturnType<typeof bullmq>;
  transitions: TransitionEvent[];
  close(): Promise<void>;
}

async function pair(redis: TestRedis, mock: MockProvider, options: { clock?: ManualClock } = {}): Promise<Pair> {
  const queueName = `t${process.pid}-${++queues}`;
  const worker = createWorker({
    connection: redis.url,
    queueName,
    threads: 1,
    concurrency: 16,
    logger: false,
    providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEY } },
  });
  const transport = bullmq({ connection: redis.url, queueName });
  const supervisor = createSupervisor({ transport, logger: false, retry: { maxRetries: 0 }, ...(options.clock ? { clock: options.clock } : {}) });
  const transitions: TransitionEvent[] = [];
  supervisor.on('transition', (e) => transitions.push(e));
  await Promise.all([worker.ready(), supervisor.ready()]);
  return {
    supervisor,
    worker,
    transport,
    transitions,
    async close() {
      await supervisor.close({ timeoutMs: 1000 });
      await worker.close({ timeoutMs: 1000 });
    },
  };
}

describe('BullMQ transport, one process', { skip: redisMissing }, () => {
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

  test('a session goes created → processing → completed → released; the key never reaches Redis; metadata names the worker host', async () => {
    const base = new Redis(redis.url);
    const monitor = await base.monitor();
    const commands: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => commands.push(args.join(' ')));
    const p = await pair(redis, mock);
    try {
      const result = await p.supervisor.chat({ provider: 'kimi', prompt: 'hello over Redis', requestId: 'r-1' });
      assert.match(result.content, /hello over Redis/);
      assert.equal(result.metadata.session.requestId, 'r-1');
      assert.equal(result.metadata.session.host, p.worker.host);
      assert.equal(mock.requests.at(-1)?.headers['authorization'], `Bearer ${KEY}`, 'the worker host sent its own key');
      const states = p.transitions.filter((e) => e.requestId === 'r-1').map((e) => e.to);
      assert.deepEqual(states, ['created', 'processing', 'completed', 'released']);
      assert.ok(commands.length > 5, 'the monitor saw the session');
      assert.ok(!commands.some((c) => c.includes(KEY)), 'the API key is in no Redis command');
      assert.ok(
        commands.some((c) => c.includes('hello over Redis')),
        'the request did go through Redis',
      );
      assert.deepEqual(
        { ...p.transport.stats(), redis: undefined, queueName: undefined },
        {
          redis: undefined,
          queueName: undefined,
          hosts: 1,
          queued: 1,
          picked: 1,
          completed: 1,
          stalled: 0,
          lost: 0,
          duplicates: 0,
          pickupsMissed: 0,
          forged: 0,
        },
      );
    } finally {
      monitor.disconnect();
      base.disconnect();
      await p.close();
    }
  });

  test('typed errors cross hosts: a 401 is an AuthenticationError with its status; bad input fails before any job', async () => {
    const p = await pair(redis, mock);
    try {
      const error = await rejection(p.supervisor.chat({ provider: 'kimi', prompt: '[[mock status=401]]' }));
      assert.equal(error.code, 'ERR_PROVIDER');
      assert.equal(error.name, 'AuthenticationError');
      assert.equal(error.status, 401);
      assert.ok(!String(error.message).includes(KEY));
      await assert.rejects(p.supervisor.chat({ provider: 'nope', prompt: 'x' }), InvalidRequestError);
      await assert.rejects(p.supervisor.chat({ provider: 'kimi', messages: [] }), /`messages`/);
      // This worker host allows no handler modules: it refuses the execute session's job.
      const refused = await rejection(p.supervisor.execute({ handler: new URL('../fixtures/handlers.ts', import.meta.url), input: 1 }));
      assert.equal(refused.code, 'ERR_INVALID_REQUEST');
      assert.match(refused.message, /chat tasks only/);
      assert.equal(p.transport.stats().queued, 2, 'the 401 session and the execute session were queued; the bad requests were not');
    } finally {
      await p.close();
    }
  });

  test('streamed deltas come back in batches, in order, ahead of the result', async () => {
    const p = await pair(redis, mock);
    try {
      const parts: string[] = [];
      let result: string | undefined;
      for await (const event of p.supervisor.stream({ provider: 'kimi', prompt: '[[mock chunks=40 chunkDelayMs=2]] stream it' })) {
        if (event.type === 'delta') parts.push(event.text);
        if (event.type === 'result') result = event.result.content;
      }
      assert.ok(parts.length > 1, `several delta events (${parts.length})`);
      assert.equal(parts.join(''), result);
    } finally {
      await p.close();
    }
  });

  test("the deadline and the caller's signal abort the worker host's HTTP call", async () => {
    const clock = new ManualClock();
    const p = await pair(redis, mock, { clock });
    try {
      mock.reset();
      const timed = p.supervisor.chat({ provider: 'kimi', prompt: '[[mock hang]]', timeoutMs: 20_000 });
      await mock.waitForRequests(1);
      clock.advance(20_000);
      assert.equal((await rejection(timed)).code, 'ERR_SESSION_TIMEOUT');
      const [closed] = await mock.waitForClosed(1);
      assert.equal(closed?.closedEarly, true, 'the provider saw the socket close');
      mock.reset();
      const controller = new AbortController();
      const aborted = p.supervisor.chat({ provider: 'kimi', prompt: '[[mock hang]]', signal: controller.signal });
      await mock.waitForRequests(1);
      controller.abort();
      assert.equal((await rejection(aborted)).code, 'ERR_SESSION_ABORTED');
      const [closedToo] = await mock.waitForClosed(1);
      assert.equal(closedToo?.closedEarly, true);
      await p.supervisor.close({ timeoutMs: 5000 });
      assert.equal(p.worker.stats().running, 0, 'the worker host let both calls go');
    } finally {
      await p.close();
    }
  });

  test('a session still queued when it is aborted is taken out of Redis and never runs', async () => {
    const queueName = `t${process.pid}-${++queues}`;
    const transport = bullmq({ connection: redis.url, queueName });
    const supervisor = createSupervisor({ transport, logger: false });
    try {
      await supervisor.ready();
      const controller = new AbortController();
      const states: string[] = [];
      supervisor.on('transition', (e) => states.push(e.to));
      const call = supervisor.chat({ provider: 'kimi', prompt: 'nobody takes me', signal: controller.signal });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(supervisor.stats().states.created, 1, 'waiting in Redis is `created`');
      controller.abort();
      assert.equal((await rejection(call)).code, 'ERR_SESSION_ABORTED');
      assert.deepEqual(states, ['created', 'failed', 'released']);
      const client = new Redis(redis.url);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await client.llen(`bull:${queueName}:wait`), 0, 'the job was removed');
      client.disconnect();
    } finally {
      await supervisor.close({ timeoutMs: 100 });
    }
  });

  test('options are checked before anything connects; a Redis password is kept out of labels and errors', async () => {
    assert.throws(() => bullmq({ connection: 'http://127.0.0.1:6379' }), /expected a redis:\/\/ or rediss:\/\/ URL/);
    assert.throws(() => bullmq({ connection: 'redis://127.0.0.1:6379', queueName: 'a:b' }), /queueName/);
    assert.throws(() => createWorker({ connection: 'redis://127.0.0.1:6379', concurrency: 0 }), /concurrency/);
    const secret = 'redis-password-5f3a9c';
    const guarded = await startRedis({ password: secret });
    try {
      const transport = bullmq({ connection: guarded.url, queueName: 'pw' });
      assert.equal(transport.stats().redis, `redis://:[redacted]@127.0.0.1:${guarded.port}/0`);
      const supervisor = createSupervisor({ transport, logger: false });
      await supervisor.ready();
      await supervisor.close();
      const wrong = createSupervisor({
        transport: bullmq({ connection: `redis://:wrong-${secret}@127.0.0.1:${guarded.port}`, queueName: 'pw' }),
        logger: false,
      });
      const error = await rejection(wrong.ready());
      assert.ok(!error.message.includes(secret), error.message);
      assert.match(error.message, /\[redacted\]/);
      await wrong.close({ timeoutMs: 0 });
    } finally {
      await guarded.stop();
    }
  });

  test('the Redis limiter store applies every change once, across two stores', async () => {
    const a = redisLimiterStore(redis.url);
    const b = redisLimiterStore(redis.url);
    const key = `count-${process.pid}`;
    const bump = (store: typeof a) => store.update(key, (state) => [{ inFlight: (state?.inFlight ?? 0) + 1, factor: 1, blockedUntil: 0 }, undefined]);
    await Promise.all(Array.from({ length: 100 }, (_, i) => bump(i % 2 === 0 ? a : b)));
    const last = await a.update(key, (state) => [state ?? { inFlight: 0, factor: 1, blockedUntil: 0 }, state?.inFlight]);
    assert.equal(last, 100);
    await Promise.all([a.close(), b.close()]);
  });
});
