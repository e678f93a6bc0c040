// Jobs nobody's producer signed, written straight into the queue with BullMQ's own API (anyone with
// Redis access can): forged chat jobs, malformed ones (sessionId an object, fields missing, a 10 MB
// prompt, `execute` with a data: URL handler that writes a marker file), and replays of a real job
// (its data read from Redis while it ran, added again after it completed). The promise: no handler
// code runs, no provider call is made for any of them, the host does not crash and still exits on
// SIGTERM, the hostile jobs end failed or removed (none stays active), and real sessions still run.
process.env['SESSIONPOOL_JOB_SECRET'] = 'test-job-secret-0123456789abcdef0123456789abcdef';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { bullmq, createSupervisor, type TransitionEvent } from '../../src/index.ts';
import { assertHolds, SESSION_HEADER } from '../support/invariants.ts';
import { killEveryChild, startRedisServer, startWorkerHost } from '../support/processes.ts';
import { ledgerFor, queueOf, startMock, teardown, workerConfig } from '../support/scenario.ts';
import { redisMissing } from '../support/redis-helpers.ts';
import { until, within } from '../support/waits.ts';

const QUEUE = 'hostile';

/** A chat job as a producer would queue it (the shape of job.ts), for a session nobody admitted. */
function chatJob(id: string, content: string): Record<string, unknown> {
  return {
    task: {
      kind: 'chat',
      sessionId: id,
      requestId: id,
      run: 1,
      provider: 'kimi',
      call: {
        model: 'moonshot-v1-8k',
        messages: [{ role: 'user', content }],
        continuation: false,
        stream: false,
        idleTimeoutMs: 60_000,
        maxResponseBytes: 33_554_432,
        headers: { [SESSION_HEADER]: id },
      },
      retry: { maxRetries: 0, baseDelayMs: 100, maxDelayMs: 1000 },
    },
    deadline: Date.now() + 30_000,
  };
}

/** What a worker host answers a job it will not run: bad shape, bad signature or replay, past its deadline, ended. */
const REFUSALS = new Set(['ERR_INVALID_REQUEST', 'ERR_TRANSPORT', 'ERR_SESSION_TIMEOUT', 'ERR_SESSION_ABORTED']);

describe('faults: hostile jobs in Redis', { skip: redisMissing }, () => {
  after(killEveryChild);

  test('forged, malformed, execute and replayed jobs: no code runs, no provider call for them, the host survives and exits on SIGTERM, none stays active', async () => {
    const ledger = ledgerFor({ codes: [] });
    const redis = await startRedisServer();
    const mock = await startMock({ latencyMs: 800 });
    ledger.mock(mock);
    const marker = join(mkdtempSync(join(tmpdir(), 'sessionpool-faults-marker-')), 'handler-ran');
    // Few slots: a hostile job that holds one shows as real sessions that cannot run.
    const worker = await startWorkerHost(redis.url, QUEUE, workerConfig(mock, { concurrency: 3 }));
    const transport = bullmq({ connection: redis.url, queueName: QUEUE, lostAfterMs: 2000 });
    const supervisor = createSupervisor({ transport, logger: ledger.logger(), timeoutMs: 15_000, retry: { maxRetries: 0 } });
    ledger.watch(supervisor);
    const queue = queueOf(redis.url, QUEUE);
    const hostile: string[] = [];
    const add = async (name: string, data: unknown, jobId: string) => {
      const job = await queue.add(name, data, { jobId });
      hostile.push(job.id ?? jobId);
    };
    try {
      await within(supervisor.ready(), 15_000, 'the producer connected');
      // A real session, whose job data is read from Redis while it runs, to be replayed after it completed.
      let original: { sessionId: string; requestId: string } | undefined;
      supervisor.on('transition', (e: TransitionEvent) => {
        if (e.requestId === 'real-0' && e.to === 'processing') original = { sessionId: e.sessionId, requestId: e.requestId };
      });
      const real = ledger.chat(supervisor, { provider: 'kimi', prompt: 'a real session', requestId: 'real-0', timeoutMs: 15_000 });
      await within(mock.waitForRequests(1), 15_000, 'the real session reached the provider');
      const running = await until(() => original, 5000, 'the real session went to processing');
      const stolen = await until(async () => (await queue.getJob(`${running.sessionId}.1`))?.data as unknown, 5000, 'the real job was read from Redis');
      await ledger.wait(real, 15_000, 'the real session settled');

      const handler = `data:text/javascript,${encodeURIComponent(
        `process.getBuiltinModule('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran'); export default () => 'ran';`,
      )}`;
      const execute = {
        kind: 'execute',
        sessionId: 'hostile-execute',
        requestId: 'hostile-execute',
        run: 1,
        provider: 'kimi',
        handler,
        name: 'default',
        input: null,
      };
      await add('chat', chatJob('hostile-forged-1', 'forged 1'), 'hostile-forged-1');
      await add('chat', chatJob('hostile-forged-2', 'forged 2'), 'hostile-forged-2');
      await add('chat', { task: execute, deadline: Date.now() + 30_000 }, 'hostile-execute');
      await add('execute', { task: execute, deadline: Date.now() + 30_000 }, 'hostile-execute-2');
      const objectId = chatJob('hostile-object', 'object id');
      (objectId['task'] as Record<string, unknown>)['sessionId'] = { toString: 'not a string' };
      await add('chat', objectId, 'hostile-object');
      await add('chat', { task: { kind: 'chat', sessionId: 'hostile-missing' } }, 'hostile-missing');
      await add('chat', {}, 'hostile-empty');
      await add('chat', 'not even an object', 'hostile-string');
      const noDeadline = chatJob('hostile-no-deadline', 'no deadline');
      delete noDeadline['deadline'];
      await add('chat', noDeadline, 'hostile-no-deadline');
      await add('chat', chatJob('hostile-huge', 'x'.repeat(10 * 1024 * 1024)), 'hostile-huge');
      // Replays: the real job's own data, under a new id and under its old one (it was removed on completion).
      await add('chat', stolen, 'hostile-replay');
      await add('chat', stolen, `${running.sessionId}.1`);

      // Every hostile job ends (failed, or removed); one that is still waiting or active after 12 s holds a slot.
      const states = new Map<string, string>();
      const open = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);
      await ledger.wait(
        until(
          async () => {
            for (const id of hostile) states.set(id, await queue.getJobState(id));
            return [...states.values()].every((s) => !open.has(s));
          },
          12_000,
          () => `every hostile job ended (${JSON.stringify(Object.fromEntries(states))})`,
        ),
        13_000,
        'the hostile jobs ended',
      );
      ledger.notes.push(`hostile job states: ${JSON.stringify(Object.fromEntries(states))}`);
      // Refused typed: failed or removed, or completed with a refusal as its value (the host's answer
      // on the job: an error with a documented code), never with an answer.
      for (const [id, state] of states) {
        if (state === 'failed' || state === 'unknown') continue;
        const value = (await queue.getJob(id))?.returnvalue as { outcome?: { ok?: boolean; error?: { code?: string } } } | undefined;
        const code = value?.outcome?.ok === false ? value.outcome.error?.code : undefined;
        if (state !== 'completed' || code === undefined || !REFUSALS.has(code))
          ledger.problem(`hostile job ${id} ended ${state} with ${JSON.stringify(value)?.slice(0, 300)}, not refused typed`);
      }

      // The host still takes real sessions, with every one of its slots.
      const later = Array.from({ length: 6 }, (_, i) =>
        ledger.chat(supervisor, { provider: 'kimi', prompt: `after ${i}`, requestId: `after-${i}`, timeoutMs: 10_000 }),
      );
      await ledger.wait(Promise.all(later), 15_000, 'the real sessions after the hostile jobs settled');
      await ledger.quiesce(5000);
      for (const [id, entry] of ledger.admitted)
        if (entry.outcome?.ok !== true) ledger.problem(`${id}: a real session did not complete: ${JSON.stringify(entry.outcome)}`);
      if (existsSync(marker)) ledger.problem(`the execute job's handler code ran on the worker host (it wrote ${marker})`);
      if (worker.process.exit !== undefined) ledger.problem(`the worker host died: ${JSON.stringify(worker.process.exit)}`);
    } finally {
      await teardown(ledger, [
        ['queue.close()', () => queue.close()],
        ['supervisor.close({ timeoutMs: 2000 })', () => supervisor.close({ timeoutMs: 2000 }), 10_000],
        ['the worker host exits on SIGTERM', () => worker.stop(15_000), 20_000],
        ['mock.close()', () => mock.close()],
        ['redis.stop()', () => redis.stop()],
      ]);
    }
    assertHolds(ledger, 'hostile jobs');
  });
});
