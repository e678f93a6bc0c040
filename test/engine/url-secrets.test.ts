// A password written into a URL, encoded or not (`/`, `@`, `:`, `#`, `?`, `%`, unicode), never comes
// back in clear: not in a refusal, a label, what Redis answers, nor in anything a command prints.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { bullmq, createSupervisor, createWorker } from '../../src/index.ts';
import { startEchoRedis, type EchoRedis } from '../support/fake-redis.ts';

// The BullMQ transport needs a job secret shared by producers and worker hosts (read from the environment here).
process.env['SESSIONPOOL_JOB_SECRET'] ??= 'test-job-secret-0123456789abcdef0123456789abcdef';

const MAIN = new URL('../../src/apps/cli/main.ts', import.meta.url).pathname;
const env = { ...process.env, SESSIONPOOL_LOG_LEVEL: 'warn' };

/** Each password has text on both sides of its special characters: a leak of either side shows. */
const PASSWORDS = [
  'alpha/omega42',
  'alpha@omega42',
  'alpha:omega42',
  'alpha#omega42',
  'alpha?omega42',
  'alpha%omega42',
  'alphaé€omega42',
  'alpha/@:#?%omega42',
];
const FORMS = PASSWORDS.flatMap((password) => [password, encodeURIComponent(password)]);
/** For a command (a process each): every character unencoded, then all of them encoded. */
const CLI_FORMS = [...PASSWORDS, encodeURIComponent('alpha/@:#?%omega42'), encodeURIComponent('alphaé€omega42')];

function assertClean(text: string, form: string): void {
  assert.doesNotMatch(text, /alpha|omega/i, `the password ${JSON.stringify(form)} leaked: ${text}`);
}

/** Runs the CLI to its end; the timeout only turns a hang into a failure. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('Redis connections (bullmq, worker --redis)', () => {
  let echo: EchoRedis;
  before(async () => {
    echo = await startEchoRedis();
  });
  after(() => echo.close());

  test('bullmq({ connection }): the label and what Redis answers (it quotes the AUTH command) hold no password', async () => {
    for (const form of FORMS) {
      const transport = bullmq({ connection: `redis://user:${form}@127.0.0.1:${echo.port}/0`, queueName: 'pw' });
      assert.equal(transport.stats().redis, `redis://user:[redacted]@127.0.0.1:${echo.port}/0`, `the URL with ${form} is read as written`);
      const supervisor = createSupervisor({ transport, logger: false, threads: 1 });
      try {
        await assert.rejects(supervisor.ready(), (error: Error) => {
          assert.match(error.message, /WRONGPASS/, 'what Redis said is told');
          assertClean(error.message, form);
          return true;
        });
      } finally {
        await supervisor.close({ timeoutMs: 100 });
      }
    }
  });

  test('createWorker({ connection }).ready(): what Redis answers holds no password', async () => {
    for (const form of ['alpha/@:#?%omega42', encodeURIComponent('alpha/@:#?%omega42')]) {
      const host = createWorker({ connection: `redis://user:${form}@127.0.0.1:${echo.port}/0`, threads: 1, logger: false });
      try {
        const outcome = await Promise.race([
          host.ready().then(
            () => new Error('ready() resolved against a Redis that refuses every command'),
            (error: Error) => error,
          ),
          new Promise<Error>((resolve) => setTimeout(() => resolve(new Error('ready() did not settle within 10 s')), 10_000).unref()),
        ]);
        assert.match(outcome.message, /WRONGPASS/, outcome.message);
        assertClean(outcome.message, form);
      } finally {
        await host.close({ timeoutMs: 100 });
      }
    }
  });

  test('bullmq({ connection }) refusals quote the URL without its credentials', () => {
    for (const form of FORMS) {
      for (const url of [`redis://user:${form}@127.0.0.1:6379/not-a-db`, `http://user:${form}@127.0.0.1:6379`, `redis://user:${form}@127.0.0.1:99999`]) {
        assert.throws(
          () => bullmq({ connection: url }),
          (error: Error & { code?: string }) => {
            assert.equal(error.code, 'ERR_INVALID_REQUEST');
            assertClean(error.message, form);
            return true;
          },
        );
      }
    }
  });

  test('worker --redis: a refusal is one line (exit 2); what Redis answers is logged without the password', async () => {
    const refused = await cli('worker', '--redis', 'redis://user:alpha/@:#?%omega42@127.0.0.1:6379/not-a-db');
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
    assertClean(refused.stderr + refused.stdout, 'refused');
    for (const form of ['alpha/@:#?%omega42', encodeURIComponent('alpha/@:#?%omega42')]) {
      const child = spawn(process.execPath, [MAIN, 'worker', '--threads', '1', '--redis', `redis://user:${form}@127.0.0.1:${echo.port}/0`], { env });
      let stderr = '';
      child.stdout.resume();
      const answered = new Promise<void>((resolve) =>
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (stderr.includes('WRONGPASS')) resolve();
        }),
      );
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await Promise.race([answered, once(child, 'exit')]);
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
      clearTimeout(timer);
      assert.match(stderr, /WRONGPASS/, `the worker logged what Redis answered within 30 s: ${stderr}`);
      assertClean(stderr, form);
    }
  });
});

test('createSupervisor({ providers: { x: { baseURL } } }) refuses a URL with credentials without quoting them', () => {
  for (const form of [...FORMS, '8080/alpha-omega42']) {
    assert.throws(
      () => createSupervisor({ logger: false, providers: { x: { baseURL: `https://user:${form}@127.0.0.1/v1` } } }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_INVALID_REQUEST');
        assert.match(error.message, /providers\.x\.baseURL/);
        assertClean(error.message, form);
        return true;
      },
    );
  }
});

describe('--base-url of load and chat', () => {
  for (const command of ['load', 'chat']) {
    test(`${command} --base-url with credentials: exit 2, one line naming the flag, nothing announced, no password`, async () => {
      const args = command === 'load' ? ['--requests', '1', '--concurrency', '1'] : ['--model', 'm', 'hello'];
      for (const form of CLI_FORMS) {
        const { code, stdout, stderr } = await cli(command, '--base-url', `http://user:${form}@127.0.0.1:1/v1`, '--api-key', 'sk-test-000000', ...args);
        assert.equal(code, 2, stderr);
        assert.equal(stdout, '');
        assert.equal(stderr.trim().split('\n').length, 1, stderr);
        assert.match(stderr, /--base-url/);
        assertClean(stderr, form);
      }
    });
  }
});
