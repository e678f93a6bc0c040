// close({ timeoutMs }) while Redis is gone (killed -9) or frozen (SIGSTOP), with sessions in flight:
// the supervisor's close and a worker host's close (both in test/faults/close-child.ts, so that a
// close that never returns hangs that process, not the test runner) return within their timeout
// (+ CLOSE_SLACK_MS), every session ends by then, the close-child exits by itself once both
// returned, and a `sessionpool worker` child exits on SIGTERM within its own close timeout (10 s).
process.env['SESSIONPOOL_JOB_SECRET'] = 'test-job-secret-0123456789abcdef0123456789abcdef';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { assertHolds, now } from '../support/invariants.ts';
import { killEveryChild, startRedisServer, startWorkerHost, Tracked } from '../support/processes.ts';
import { ledgerFor, REDIS_PASSWORD, startMock, teardown, workerConfig } from '../support/scenario.ts';
import { redisMissing } from '../support/redis-helpers.ts';
import { timed, within } from '../support/waits.ts';

const CLOSE_TIMEOUT_MS = 2000;
const CLOSE_SLACK_MS = 1000;
/** `sessionpool worker` closes with createWorker's default timeout (10 s) on SIGTERM. */
const CLI_CLOSE_MS = 10_000;
const CLOSE_CHILD = fileURLToPath(new URL('./close-child.ts', import.meta.url));

describe('faults: close() while Redis is down', { skip: redisMissing }, () => {
  after(killEveryChild);

  const scenario = (fault: 'killed' | 'frozen') => async () => {
    const ledger = ledgerFor({ codes: ['ERR_SUPERVISOR_CLOSED', 'ERR_SESSION_ABORTED', 'ERR_TRANSPORT', 'ERR_WORKER_CRASHED', 'ERR_SESSION_TIMEOUT'] });
    const redis = await startRedisServer({ password: REDIS_PASSWORD });
    const mock = await startMock({ latencyMs: 30_000 });
    ledger.mock(mock);
    const queueName = `close-${fault}`;
    const config = workerConfig(mock, { concurrency: 4 });
    const cli = await startWorkerHost(redis.url, queueName, config);
    const closer = new Tracked(`close-child:${fault}`, process.execPath, [CLOSE_CHILD], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        FAULTS_CLOSE: JSON.stringify({
          redisURL: redis.url,
          queueName,
          sessions: 12,
          timeoutMs: 20_000,
          closeTimeoutMs: CLOSE_TIMEOUT_MS,
          host: { ...config, logger: false },
        }),
      },
    });
    closer.mayExitOnItsOwn = true;
    let closeAt = Number.POSITIVE_INFINITY;
    try {
      await closer.waitFor(/"type":"ready"/, 20_000, 'the close-child’s producer and worker host connected');
      // The fault point: both hosts have calls open at the provider (8 slots), the rest wait in Redis.
      await within(mock.waitForRequests(8), 15_000, 'eight provider calls arrived');
      if (fault === 'killed') await redis.kill();
      else redis.pause();
      closeAt = now();
      closer.child.stdin?.write('close\n');
      const [, cliExit] = await Promise.all([
        ledger.wait(closer.waitFor(/"type":"all-closed"/, CLOSE_TIMEOUT_MS + CLOSE_SLACK_MS + 2000, 'both close() calls returned'), 10_000, 'close() returned'),
        timed(cli.stop(CLI_CLOSE_MS + CLOSE_SLACK_MS)),
      ]);
      if (cliExit.error !== undefined) ledger.problem(`the sessionpool worker child, sent SIGTERM with Redis ${fault}: ${cliExit.error}`);
      ledger.notes.push(`worker CLI exit on SIGTERM after ${Math.round(cliExit.ms)} ms`);
      await ledger.wait(closer.exited, 5000, 'the close-child exited by itself once both close() calls returned (no handle left)');
    } finally {
      redis.resume();
      await teardown(ledger, [
        ['the close-child is gone', () => closer.kill('SIGKILL')],
        ['the worker host child is gone', () => cli.kill()],
        ['mock.close()', () => mock.close()],
        ['redis.stop()', () => redis.stop()],
      ]);
    }
    ledger.ingestProducer('close-child', closer.stdout);
    for (const line of closer.stdout.split('\n').filter((l) => l.includes('"type":"closed"'))) {
      const { which, ms, error } = JSON.parse(line) as { which: string; ms: number; error?: string };
      ledger.notes.push(`${which}.close() returned after ${Math.round(ms)} ms${error ? ` (rejected: ${error})` : ''}`);
      if (ms > CLOSE_TIMEOUT_MS + CLOSE_SLACK_MS)
        ledger.problem(`${which}.close({ timeoutMs: ${CLOSE_TIMEOUT_MS} }) took ${Math.round(ms)} ms with Redis ${fault}`);
    }
    for (const which of ['supervisor', 'host'])
      if (!closer.stdout.includes(`"which":"${which}"`))
        ledger.problem(`${which}.close({ timeoutMs: ${CLOSE_TIMEOUT_MS} }) never returned with Redis ${fault}`);
    // Sessions end by the end of the supervisor's close, at the latest.
    for (const [id, entry] of ledger.admitted)
      if (entry.settledAt === undefined || entry.settledAt > closeAt + CLOSE_TIMEOUT_MS + CLOSE_SLACK_MS)
        ledger.problem(
          `${id}: not settled by the end of supervisor.close() (${entry.settledAt === undefined ? 'never' : `${Math.round(entry.settledAt - closeAt)} ms after close() was called`})`,
        );
    assertHolds(ledger, `close() with Redis ${fault}`);
  };

  test(
    'Redis killed: supervisor.close and workerHost.close return within their timeout, the worker CLI exits on SIGTERM, sessions end typed',
    scenario('killed'),
  );
  test(
    'Redis frozen (SIGSTOP): supervisor.close and workerHost.close return within their timeout, the worker CLI exits on SIGTERM, sessions end typed',
    scenario('frozen'),
  );
});
