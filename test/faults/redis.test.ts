// Redis fails under a running producer and worker host: killed -9 and restarted on the same port
// (every job lost), or frozen with SIGSTOP past some deadlines and resumed. Redis runs with
// requirepass here, so the password is one of the secrets no output may show.
process.env['SESSIONPOOL_JOB_SECRET'] = 'test-job-secret-0123456789abcdef0123456789abcdef';
import { after, describe, test } from 'node:test';
import { bullmq, type ChatResult, createSupervisor } from '../../src/index.ts';
import { assertHolds } from '../support/invariants.ts';
import { killEveryChild, startRedisServer, startWorkerHost } from '../support/processes.ts';
import { drained, ledgerFor, REDIS_PASSWORD, startMock, TRANSPORT_FAULT_CODES, teardown, workerConfig } from '../support/scenario.ts';
import { redisMissing } from '../support/redis-helpers.ts';
import { until, within } from '../support/waits.ts';

const TIMEOUT_MS = 10_000;

describe('faults: Redis', { skip: redisMissing }, () => {
  after(killEveryChild);

  const restart = (outage: 'a blip' | 'until the calls in flight finished') => async () => {
    const ledger = ledgerFor({ codes: TRANSPORT_FAULT_CODES });
    const redis = await startRedisServer({ password: REDIS_PASSWORD });
    // A long outage: the calls open at the kill take 2 s more to answer, and Redis stays down until they did.
    const mock = await startMock({ latencyMs: outage === 'a blip' ? 500 : 2000 });
    ledger.mock(mock);
    const worker = await startWorkerHost(redis.url, 'restart', workerConfig(mock));
    // A second host with a key limit: its limiter keeps its state in Redis (redisLimiterStore), which goes away too.
    const limited = await startWorkerHost(
      redis.url,
      'restart',
      workerConfig(mock, { providers: { kimi: { ...workerConfig(mock).providers.kimi, limits: { requestsPerSecond: 20 } } } }),
      'worker:restart:limited',
    );
    const transport = bullmq({ connection: redis.url, queueName: 'restart', lostAfterMs: 2000 });
    const supervisor = createSupervisor({ transport, logger: ledger.logger(), timeoutMs: TIMEOUT_MS, retry: { maxRetries: 0 } });
    ledger.watch(supervisor);
    try {
      await within(supervisor.ready(), 15_000, 'the producer connected');
      const sessions = Array.from({ length: 30 }, (_, i) =>
        ledger.chat(supervisor, { provider: 'kimi', prompt: `restart ${i}`, requestId: `restart-${i}`, timeoutMs: TIMEOUT_MS }),
      );
      // The fault point: ten calls are at the provider (so jobs are active on the host and others wait).
      await within(mock.waitForRequests(10), 15_000, 'ten provider calls arrived');
      if (outage === 'a blip') await redis.restart();
      else {
        // Down while the hosts get their answers and want Redis: to report them, and for their limiter's state.
        await redis.kill();
        await ledger.wait(
          until(() => mock.inFlight === 0, 10_000, 'every call open at the kill was answered'),
          11_000,
          'the calls in flight finished',
        );
        await redis.start();
      }
      await ledger.wait(Promise.all(sessions), TIMEOUT_MS + 2000 + 5000, 'every session settled');
      // The pair still works after the restart.
      const again = ledger.chat(supervisor, { provider: 'kimi', prompt: 'after the restart', requestId: 'restart-after', timeoutMs: TIMEOUT_MS });
      await ledger.wait(again, TIMEOUT_MS + 5000, 'a session after the restart settled');
      await ledger.quiesce(5000);
      // Jobs Redis got again after the restart (re-queued, re-run) must all end: none stays active.
      await drained(ledger, redis.url, 'restart', 10_000);
      const hosts = new Set(
        [...ledger.admitted.values()].map((e) => (e.outcome?.ok === true ? (e.outcome.result as ChatResult).metadata.session.host : undefined)),
      );
      ledger.notes.push(`hosts that completed sessions: ${[...hosts].join(', ')} (the limited one is ${limited.host})`);
    } finally {
      await teardown(ledger, [
        ['supervisor.close({ timeoutMs: 2000 })', () => supervisor.close({ timeoutMs: 2000 }), 10_000],
        ['the worker host exits on SIGTERM', () => worker.stop(15_000), 20_000],
        ['the limited worker host exits on SIGTERM', () => limited.stop(15_000), 20_000],
        ['mock.close()', () => mock.close()],
        ['redis.stop()', () => redis.stop()],
      ]);
    }
    ledger.text('transport.stats()', JSON.stringify(transport.stats()));
    assertHolds(ledger, `redis down (${outage})`);
  };

  test(
    'redis-server killed -9 and restarted at once mid-run: every session ends once, typed, by its deadline; no call after its end; no secret shown',
    restart('a blip'),
  );
  test(
    'redis-server killed -9 and down until the calls in flight were answered, then started: hosts survive (one keeps a key limit in Redis), sessions end typed by their deadlines',
    restart('until the calls in flight finished'),
  );

  test('redis-server frozen (SIGSTOP) past some deadlines, then resumed: sessions end by their deadlines while it is frozen, and later ones complete', async () => {
    const ledger = ledgerFor({ codes: TRANSPORT_FAULT_CODES });
    const redis = await startRedisServer({ password: REDIS_PASSWORD });
    const mock = await startMock({ latencyMs: 300 });
    ledger.mock(mock);
    const worker = await startWorkerHost(
      redis.url,
      'pause',
      workerConfig(mock, { providers: { kimi: { ...workerConfig(mock).providers.kimi, limits: { requestsPerSecond: 500 } } } }),
    );
    const transport = bullmq({ connection: redis.url, queueName: 'pause', lostAfterMs: 2000 });
    const supervisor = createSupervisor({ transport, logger: ledger.logger(), timeoutMs: 3000, retry: { maxRetries: 0 } });
    ledger.watch(supervisor);
    try {
      await within(supervisor.ready(), 15_000, 'the producer connected');
      const sessions = Array.from({ length: 20 }, (_, i) =>
        ledger.chat(supervisor, { provider: 'kimi', prompt: `pause ${i}`, requestId: `pause-${i}`, timeoutMs: 3000 }),
      );
      await within(mock.waitForRequests(5), 15_000, 'five provider calls arrived');
      redis.pause();
      // Frozen until every session admitted so far has passed its deadline (they must end on their own).
      await ledger.wait(Promise.all(sessions), 3000 + 5000, 'every session settled while Redis was frozen');
      redis.resume();
      const later = Array.from({ length: 5 }, (_, i) =>
        ledger.chat(supervisor, { provider: 'kimi', prompt: `resumed ${i}`, requestId: `resumed-${i}`, timeoutMs: 8000 }),
      );
      await ledger.wait(Promise.all(later), 8000 + 5000, 'the sessions after the resume settled');
      await ledger.quiesce(5000);
      const completedLater = [...ledger.admitted.values()].filter((e) => e.requestId.startsWith('resumed-') && e.outcome?.ok === true).length;
      if (completedLater === 0) ledger.problem('no session admitted after Redis resumed completed');
      await drained(ledger, redis.url, 'pause', 10_000);
    } finally {
      redis.resume();
      await teardown(ledger, [
        ['supervisor.close({ timeoutMs: 2000 })', () => supervisor.close({ timeoutMs: 2000 }), 10_000],
        ['the worker host exits on SIGTERM', () => worker.stop(15_000), 20_000],
        ['mock.close()', () => mock.close()],
        ['redis.stop()', () => redis.stop()],
      ]);
    }
    ledger.text('transport.stats()', JSON.stringify(transport.stats()));
    assertHolds(ledger, 'redis paused');
  });
});
