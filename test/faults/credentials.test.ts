// Wrong Redis credentials: a `sessionpool worker` given a wrong password stops with one line (no
// stack, no password, neither the wrong one nor the right one) instead of retrying forever, and a
// producer's ready() rejects, typed and scrubbed, within a bound; its close() returns.
process.env['SESSIONPOOL_JOB_SECRET'] = 'test-job-secret-0123456789abcdef0123456789abcdef';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { bullmq, createSupervisor } from '../../src/index.ts';
import { assertHolds } from '../support/invariants.ts';
import { CLI, killEveryChild, startRedisServer, Tracked } from '../support/processes.ts';
import { ledgerFor, REDIS_PASSWORD, startMock, teardown, workerConfig } from '../support/scenario.ts';
import { redisMissing } from '../support/redis-helpers.ts';
import { timed, within } from '../support/waits.ts';

const WRONG = 'wrong/redis+pw-0b7c4d';

describe('faults: wrong Redis credentials', { skip: redisMissing }, () => {
  after(killEveryChild);

  test('a worker host and a producer given a wrong Redis password stop within a bound, say so in one line, and show no password', async () => {
    const ledger = ledgerFor({ secrets: [REDIS_PASSWORD, encodeURIComponent(REDIS_PASSWORD), WRONG, encodeURIComponent(WRONG)] });
    const redis = await startRedisServer({ password: REDIS_PASSWORD });
    const mock = await startMock();
    const wrongURL = `redis://:${encodeURIComponent(WRONG)}@127.0.0.1:${redis.port}`;
    const file = join(mkdtempSync(join(tmpdir(), 'sessionpool-faults-creds-')), 'config.json');
    writeFileSync(file, JSON.stringify({ logger: false, ...workerConfig(mock) }));
    const worker = new Tracked('worker:wrong-password', process.execPath, [CLI, 'worker', '--queue', 'creds', '--config', file], {
      env: { ...process.env, REDIS_URL: wrongURL },
    });
    worker.expectEnd();
    // A wrong password is fatal at start: the worker exits by itself, non-zero, with one line (checked below).
    worker.mustFail = true;
    try {
      const producer = createSupervisor({ transport: bullmq({ connection: wrongURL, queueName: 'creds' }), logger: ledger.logger() });
      const ready = await timed(within(producer.ready(), 20_000, 'the producer’s ready() settled'));
      if (ready.error === undefined) ledger.problem('the producer’s ready() resolved with a wrong password');
      else ledger.text('the producer’s ready() error', `${String((ready.error as Error).message)}\n${String((ready.error as Error).stack)}`);
      ledger.notes.push(`producer ready() settled after ${Math.round(ready.ms)} ms: ${String((ready.error as Error | undefined)?.message)}`);
      const closed = await timed(within(producer.close({ timeoutMs: 2000 }), 10_000, 'the producer’s close()'));
      if (closed.error !== undefined) ledger.problem(`producer close() after a refused password: ${closed.error}`);
      const exit = await timed(within(worker.exited, 15_000, 'the worker host with a wrong password exited by itself'));
      if (exit.error !== undefined) ledger.problem(`the worker host with a wrong password ${String(exit.error)}`);
      else {
        ledger.notes.push(`worker exited after ${Math.round(exit.ms)} ms: code ${worker.exit?.code}; stderr: ${worker.stderr.trim().slice(0, 300)}`);
        if (worker.exit?.code === 0) ledger.problem('the worker host with a wrong password exited 0');
        if (worker.stderr.trim().split('\n').length > 1 || /\n\s+at /.test(worker.stderr))
          ledger.problem(`the worker host printed more than one line (a stack?): ${worker.stderr.slice(0, 500)}`);
      }
    } finally {
      await teardown(ledger, [
        ['the worker host is gone', () => worker.kill('SIGKILL')],
        ['mock.close()', () => mock.close()],
        ['redis.stop()', () => redis.stop()],
      ]);
    }
    assertHolds(ledger, 'wrong Redis password');
  });
});
