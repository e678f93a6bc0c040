// A producer (test/faults/producer-child.ts, a process of its own) killed -9 with jobs queued in
// Redis, then a new producer started on the same queue. The dead producer's sessions can no longer
// end (nobody waits for them): a provider call made for one after it died is spent for nobody.
// Its jobs still waiting must not reach the provider, must not stay in the queue, and the new
// producer's sessions complete.
process.env['SESSIONPOOL_JOB_SECRET'] = 'test-job-secret-0123456789abcdef0123456789abcdef';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { assertHolds, now } from '../support/invariants.ts';
import { killEveryChild, startProducerProcess, startRedisServer, startWorkerHost } from '../support/processes.ts';
import { drained, ledgerFor, queueOf, startMock, teardown, workerConfig } from '../support/scenario.ts';
import { redisMissing } from '../support/redis-helpers.ts';
import { until, within } from '../support/waits.ts';

const QUEUE = 'orphans';

describe('faults: producer killed', { skip: redisMissing }, () => {
  after(killEveryChild);

  test('producer kill -9 with 18 jobs queued, a new producer started: no provider call for the dead one’s waiting jobs, none left in the queue, the new one’s sessions complete', async () => {
    const ledger = ledgerFor({ codes: [] });
    const redis = await startRedisServer();
    const mock = await startMock({ latencyMs: 1000 });
    ledger.mock(mock);
    const worker = await startWorkerHost(redis.url, QUEUE, workerConfig(mock, { concurrency: 2 }));
    const queue = queueOf(redis.url, QUEUE);
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    const first = startProducerProcess('producer-1', { redisURL: redis.url, queueName: QUEUE, sessions: 20, prefix: 'p1', timeoutMs: 30_000 });
    let second: ReturnType<typeof startProducerProcess> | undefined;
    try {
      await first.waitFor(/"type":"ready"/, 20_000, 'the first producer connected');
      // The fault point: two calls at the provider, eighteen jobs waiting in Redis.
      await within(mock.waitForRequests(2), 15_000, 'two provider calls arrived');
      await until(async () => ((await queue.getJobCounts('waiting')).waiting ?? 0) >= 18, 10_000, 'eighteen jobs waiting in Redis');
      await first.kill('SIGKILL');
      const diedAt = now();
      ledger.ingestProducer('producer-1', first.stdout);
      ledger.abandon(
        [...ledger.admitted.keys()].filter((id) => id.startsWith('p1-')),
        diedAt,
      );
      // Redis has seen the producer go (its connections closed with the process).
      await until(async () => !String(await client.client('LIST')).includes('sessionpool:producer'), 10_000, 'Redis dropped the dead producer’s connections');
      second = startProducerProcess('producer-2', { redisURL: redis.url, queueName: QUEUE, sessions: 5, prefix: 'p2', timeoutMs: 30_000 });
      await ledger.wait(second.waitFor(/"type":"done"/, 40_000, 'the second producer’s sessions all settled'), 41_000, 'the second producer finished');
      await ledger.wait(second.exited, 10_000, 'the second producer exited by itself after close()');
      await drained(ledger, redis.url, QUEUE, 30_000);
    } finally {
      await teardown(ledger, [
        ['queue.close()', () => queue.close()],
        ['client.quit()', () => client.disconnect()],
        ['the second producer is gone', () => second?.kill('SIGKILL')],
        ['the worker host exits on SIGTERM', () => worker.stop(15_000), 20_000],
        ['mock.close()', () => mock.close()],
        ['redis.stop()', () => redis.stop()],
      ]);
    }
    if (second !== undefined) ledger.ingestProducer('producer-2', second.stdout);
    assertHolds(ledger, 'producer kill -9');
  });
});
