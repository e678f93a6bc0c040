// A worker host killed -9 while it runs calls (non-streamed, waiting for the provider's answer) and
// streams (deltas already delivered to the caller), then restarted with the same configuration.
// Calls that streamed nothing run again once and complete; streamed ones fail ERR_WORKER_CRASHED;
// and no provider call is made for a session after it ended (the restarted host must not run them).
process.env['SESSIONPOOL_JOB_SECRET'] = 'test-job-secret-0123456789abcdef0123456789abcdef';
import { after, describe, test } from 'node:test';
import { bullmq, createSupervisor } from '../../src/index.ts';
import { assertHolds, SESSION_HEADER } from '../support/invariants.ts';
import { killEveryChild, startRedisServer, startWorkerHost } from '../support/processes.ts';
import { drained, ledgerFor, startMock, teardown, workerConfig } from '../support/scenario.ts';
import { redisMissing } from '../support/redis-helpers.ts';
import { until, within } from '../support/waits.ts';

const CALL_TIMEOUT_MS = 15_000;
const STREAM_TIMEOUT_MS = 4000;

describe('faults: worker host killed', { skip: redisMissing }, () => {
  after(killEveryChild);

  const scenario = (restart: 'at once' | 'after the streams ended' | 'after the callers aborted the streams') => async () => {
    const ledger = ledgerFor({ codes: ['ERR_WORKER_CRASHED', 'ERR_SESSION_TIMEOUT', 'ERR_SESSION_ABORTED'] });
    const redis = await startRedisServer();
    // A session's first call never answers (non-streamed) or stalls after 3 events (streamed): the
    // host is killed with all of them open. Any later call for the session answers at once.
    const seen = new Set<string>();
    const mock = await startMock({
      behave: (record) => {
        const session = record.headers[SESSION_HEADER] ?? '';
        if (seen.has(session)) return undefined;
        seen.add(session);
        return record.body?.stream === true ? { hangAfterChunks: 3, chunks: 10 } : { hang: true };
      },
    });
    ledger.mock(mock);
    const queueName = restart === 'at once' ? 'kill-now' : restart === 'after the streams ended' ? 'kill-later' : 'kill-aborted';
    // Only the streams left to their deadline get a short one: the others must end by the stall (or the abort).
    const streamTimeout = restart === 'after the streams ended' ? STREAM_TIMEOUT_MS : CALL_TIMEOUT_MS;
    const aborts = Array.from({ length: 10 }, () => new AbortController());
    const worker = await startWorkerHost(redis.url, queueName, workerConfig(mock));
    const transport = bullmq({ connection: redis.url, queueName, lostAfterMs: 2000 });
    const supervisor = createSupervisor({ transport, logger: ledger.logger(), timeoutMs: CALL_TIMEOUT_MS, retry: { maxRetries: 0 } });
    ledger.watch(supervisor);
    const streamed = new Set<string>();
    try {
      await within(supervisor.ready(), 15_000, 'the producer connected');
      const calls = Array.from({ length: 10 }, (_, i) =>
        ledger.chat(supervisor, { provider: 'kimi', prompt: `call ${i}`, requestId: `call-${i}`, timeoutMs: CALL_TIMEOUT_MS }),
      );
      const streams = Array.from({ length: 10 }, (_, i) =>
        ledger.chat(supervisor, {
          provider: 'kimi',
          prompt: `stream ${i}`,
          requestId: `stream-${i}`,
          timeoutMs: streamTimeout,
          signal: (aborts[i] as AbortController).signal,
          onDelta: () => void streamed.add(`stream-${i}`),
        }),
      );
      // The fault point: all 20 calls open at the provider, every stream has delivered a delta.
      await within(mock.waitForRequests(20), 15_000, 'twenty provider calls arrived');
      await until(
        () => streamed.size === 10,
        10_000,
        () => `every stream delivered a delta (${streamed.size} of 10)`,
      );
      await worker.kill();
      // No host is left to notice the stall: the streams end by their deadline before the host comes back.
      if (restart === 'after the callers aborted the streams') for (const abort of aborts) abort.abort();
      if (restart !== 'at once') await ledger.wait(Promise.all(streams), STREAM_TIMEOUT_MS + 5000, 'the streamed sessions settled');
      await worker.restart();
      await ledger.wait(Promise.all([...calls, ...streams]), CALL_TIMEOUT_MS + 5000, 'every session settled');
      await ledger.quiesce(5000);
      // The restarted host finds the dead host's jobs (stalled) and must end them without a call.
      await drained(ledger, redis.url, queueName, 10_000);
      for (const [id, entry] of ledger.admitted) {
        if (id.startsWith('call-') && entry.outcome?.ok !== true)
          ledger.problem(`${id}: nothing had streamed, so it should have run again and completed; it ended ${JSON.stringify(entry.outcome)}`);
        if (id.startsWith('stream-') && entry.outcome?.ok !== false) ledger.problem(`${id}: it had streamed when its host died, yet it completed`);
        // Streams are never sent again once a delta was delivered: one provider request each, whenever a second one came.
        const calls = ledger.requests().filter((r) => r.session === id).length;
        if (id.startsWith('stream-') && calls !== 1)
          ledger.problem(`${id}: its stream had delivered deltas, yet the provider saw ${calls} requests for it (a streamed call sent again)`);
      }
    } finally {
      await teardown(ledger, [
        ['supervisor.close({ timeoutMs: 2000 })', () => supervisor.close({ timeoutMs: 2000 }), 10_000],
        ['the restarted worker host exits on SIGTERM', () => worker.stop(15_000), 20_000],
        ['mock.close()', () => mock.close()],
        ['redis.stop()', () => redis.stop()],
      ]);
    }
    ledger.text('transport.stats()', JSON.stringify(transport.stats()));
    assertHolds(ledger, `worker host kill -9, restarted ${restart}`);
  };

  test(
    'worker host kill -9 mid-call and mid-stream, restarted at once: unstreamed calls run again once and complete, streamed ones fail typed, no call after a session ended',
    scenario('at once'),
  );

  test(
    'worker host kill -9 mid-call and mid-stream, restarted after the streamed sessions ended: it makes no call for them, and the unstreamed calls complete',
    scenario('after the streams ended'),
  );

  test(
    'worker host kill -9 mid-stream, its streams aborted by their callers while it is down, then restarted: it makes no call for the aborted sessions',
    scenario('after the callers aborted the streams'),
  );
});
