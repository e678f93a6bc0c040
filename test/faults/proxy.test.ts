// The network between the processes and Redis fails (a TCP fault proxy in between): the worker
// host's connections are cut mid-call and refused until its job locks lapsed; the producer's are
// slowed down, black-holed, or half-open (commands reach Redis, no reply comes back) past some
// deadlines, then cut and restored.
process.env['SESSIONPOOL_JOB_SECRET'] = 'test-job-secret-0123456789abcdef0123456789abcdef';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { bullmq, createSupervisor } from '../../src/index.ts';
import { startFaultProxy, type ProxyMode } from '../support/fault-proxy.ts';
import { assertHolds } from '../support/invariants.ts';
import { killEveryChild, startRedisServer, startWorkerHost } from '../support/processes.ts';
import { drained, ledgerFor, queueOf, REDIS_PASSWORD, startMock, TRANSPORT_FAULT_CODES, teardown, workerConfig } from '../support/scenario.ts';
import { redisMissing } from '../support/redis-helpers.ts';
import { until, within } from '../support/waits.ts';

describe('faults: the network to Redis', { skip: redisMissing }, () => {
  after(killEveryChild);

  test('worker host ↔ Redis cut mid-call and refused until its job locks lapsed, then restored: every session ends once by its deadline, no call after its end', async () => {
    const ledger = ledgerFor({ codes: TRANSPORT_FAULT_CODES });
    const redis = await startRedisServer({ password: REDIS_PASSWORD });
    const proxy = await startFaultProxy(redis.port);
    const mock = await startMock({ latencyMs: 2000 });
    ledger.mock(mock);
    const worker = await startWorkerHost(proxy.url(REDIS_PASSWORD), 'cut', workerConfig(mock));
    const transport = bullmq({ connection: redis.url, queueName: 'cut', lostAfterMs: 2000 });
    const supervisor = createSupervisor({ transport, logger: ledger.logger(), timeoutMs: 12_000, retry: { maxRetries: 0 } });
    ledger.watch(supervisor);
    const queue = queueOf(redis.url, 'cut');
    try {
      await within(supervisor.ready(), 15_000, 'the producer connected');
      const sessions = Array.from({ length: 10 }, (_, i) =>
        ledger.chat(supervisor, { provider: 'kimi', prompt: `cut ${i}`, requestId: `cut-${i}`, timeoutMs: 12_000 }),
      );
      await within(mock.waitForRequests(10), 15_000, 'ten provider calls arrived');
      const active = await queue.getActive();
      proxy.refuse(true);
      proxy.cut();
      // Refused until Redis has dropped every lock the host held (lockDurationMs 2000): its jobs are stalled now.
      const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      client.on('error', () => {});
      await until(
        async () => (await Promise.all(active.map((job) => client.exists(`bull:cut:${job.id}:lock`)))).every((n) => n === 0),
        10_000,
        'the cut host’s job locks lapsed',
      ).finally(() => client.disconnect());
      proxy.refuse(false);
      await ledger.wait(Promise.all(sessions), 12_000 + 5000, 'every session settled');
      await ledger.quiesce(5000);
      await drained(ledger, redis.url, 'cut', 10_000);
    } finally {
      await teardown(ledger, [
        ['queue.close()', () => queue.close()],
        ['supervisor.close({ timeoutMs: 2000 })', () => supervisor.close({ timeoutMs: 2000 }), 10_000],
        ['the worker host exits on SIGTERM', () => worker.stop(15_000), 20_000],
        ['mock.close()', () => mock.close()],
        ['proxy.close()', () => proxy.close()],
        ['redis.stop()', () => redis.stop()],
      ]);
    }
    ledger.text('transport.stats()', JSON.stringify(transport.stats()));
    assertHolds(ledger, 'worker host cut from Redis');
  });

  const producerFault = (name: string, mode: ProxyMode) => async () => {
    const ledger = ledgerFor({ codes: TRANSPORT_FAULT_CODES });
    const redis = await startRedisServer({ password: REDIS_PASSWORD });
    const proxy = await startFaultProxy(redis.port);
    const mock = await startMock({ latencyMs: 300 });
    ledger.mock(mock);
    const queueName = `producer-${mode.kind}`;
    const worker = await startWorkerHost(redis.url, queueName, workerConfig(mock));
    const transport = bullmq({ connection: proxy.url(REDIS_PASSWORD), queueName, lostAfterMs: 2000 });
    const supervisor = createSupervisor({ transport, logger: ledger.logger(), timeoutMs: 3000, retry: { maxRetries: 0 } });
    ledger.watch(supervisor);
    try {
      await within(supervisor.ready(), 15_000, 'the producer connected');
      const sessions = Array.from({ length: 20 }, (_, i) =>
        ledger.chat(supervisor, { provider: 'kimi', prompt: `${name} ${i}`, requestId: `${name}-${i}`, timeoutMs: 3000 }),
      );
      await within(mock.waitForRequests(5), 15_000, 'five provider calls arrived');
      proxy.mode(mode);
      // The fault lasts until every session admitted so far has ended (by its deadline at the latest).
      await ledger.wait(Promise.all(sessions), 3000 + 5000, `every session settled while the producer's link was ${mode.kind}`);
      // Then the stuck connections reset (as a TCP timeout would) and the network is back.
      proxy.mode({ kind: 'pass' });
      if (mode.kind !== 'delay') proxy.cut();
      const later = Array.from({ length: 5 }, (_, i) =>
        ledger.chat(supervisor, { provider: 'kimi', prompt: `${name} after ${i}`, requestId: `${name}-after-${i}`, timeoutMs: 10_000 }),
      );
      await ledger.wait(Promise.all(later), 10_000 + 5000, 'the sessions admitted after the fault settled');
      await ledger.quiesce(5000);
      if (![...ledger.admitted.values()].some((e) => e.requestId.includes('-after-') && e.outcome?.ok === true))
        ledger.problem('no session admitted after the network came back completed');
      await drained(ledger, redis.url, queueName, 10_000);
    } finally {
      proxy.mode({ kind: 'pass' });
      await teardown(ledger, [
        ['supervisor.close({ timeoutMs: 2000 })', () => supervisor.close({ timeoutMs: 2000 }), 10_000],
        ['the worker host exits on SIGTERM', () => worker.stop(15_000), 20_000],
        ['mock.close()', () => mock.close()],
        ['proxy.close()', () => proxy.close()],
        ['redis.stop()', () => redis.stop()],
      ]);
    }
    ledger.text('transport.stats()', JSON.stringify(transport.stats()));
    assertHolds(ledger, `producer ↔ Redis ${name}`);
  };

  test('producer ↔ Redis delayed (60 ms a chunk): sessions complete or end typed by their deadlines', producerFault('delay', { kind: 'delay', delayMs: 60 }));
  test(
    'producer ↔ Redis black hole past the deadlines, then reset: sessions end by their deadlines, later ones complete',
    producerFault('blackhole', { kind: 'drop' }),
  );
  test(
    'producer ↔ Redis half-open (commands arrive, replies do not) past the deadlines, then reset: sessions end by their deadlines, no call after their end',
    producerFault('halfopen', { kind: 'half-open', forward: 'up' }),
  );
});
