// `sessionpool worker` as an operator runs it: secrets from files and the environment, never from
// a flag; a start that fails (a wrong Redis password, no job secret) ends the process with one line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bullmq, createSupervisor, startMockProvider } from '../../src/index.ts';
import { redisMissing, startRedis, startWorkerProcess, type TestRedis } from '../support/redis-helpers.ts';
import { within } from '../support/waits.ts';

// Producers and worker hosts of this file (child processes inherit it) share this secret.
const SECRET = 'worker-cli-test-job-secret-0123456789abcdef';
process.env['SESSIONPOOL_JOB_SECRET'] = SECRET;
const KEY = 'sk-worker-cli-key-0123456789';
const MAIN = fileURLToPath(new URL('../../src/apps/cli/main.ts', import.meta.url));
let queues = 0;

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `sessionpool worker` with these arguments and environment, until it exits on its own (bounded). */
async function workerCommand(args: string[], env: Record<string, string | undefined>, boundMs = 30_000): Promise<Exit> {
  const child = spawn(process.execPath, [MAIN, 'worker', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const bound = setTimeout(() => child.kill('SIGKILL'), boundMs);
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(bound);
  assert.equal(signal, null, `sessionpool worker ${args.join(' ')} did not exit within ${boundMs} ms; stderr: ${stderr}`);
  return { code, stdout, stderr };
}

describe('sessionpool worker: credentials and fatal errors', { skip: redisMissing }, () => {
  const password = 'redis-pass/with:odd@chars-7f1c';
  let guarded: TestRedis;
  let dir: string;
  before(async () => {
    guarded = await startRedis({ password });
    dir = mkdtempSync(join(tmpdir(), 'sessionpool-credentials-'));
  });
  after(async () => {
    await guarded?.stop();
  });

  test('a wrong Redis password: exits non-zero at once with one line, no stack, no password', async () => {
    const wrong = `wrong-${password}`;
    const { code, stderr } = await workerCommand(['--redis', `redis://127.0.0.1:${guarded.port}`], { REDIS_PASSWORD: wrong });
    const lines = stderr.trim().split('\n');
    assert.notEqual(code, 0);
    assert.equal(lines.length, 1, `one line, got:\n${stderr}`);
    assert.match(lines[0] ?? '', /^sessionpool worker: .*Redis/);
    assert.ok(!stderr.includes(wrong) && !stderr.includes(encodeURIComponent(wrong)), stderr);
    assert.ok(!/\n\s+at /.test(stderr), 'no stack');
  });

  test('no job secret: exits 2 with one line naming SESSIONPOOL_JOB_SECRET and --job-secret-file', async () => {
    const { code, stderr } = await workerCommand(['--redis', `redis://127.0.0.1:${guarded.port}`], { SESSIONPOOL_JOB_SECRET: undefined });
    assert.equal(code, 2, stderr);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr, /SESSIONPOOL_JOB_SECRET/);
    assert.match(stderr, /--job-secret-file/);
  });

  test('the Redis password and the job secret come from files (or REDIS_PASSWORD), never the command line; sessions run', async () => {
    const passwordFile = join(dir, 'redis-password');
    const secretFile = join(dir, 'job-secret');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    const mock = await startMockProvider({ apiKey: KEY });
    const queueName = `creds-${++queues}`;
    const config = { providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEY } }, threads: 1 };
    const saved = process.env['SESSIONPOOL_JOB_SECRET'];
    // The worker process gets the secret from its file only.
    delete process.env['SESSIONPOOL_JOB_SECRET'];
    const fromFiles = await startWorkerProcess(`redis://127.0.0.1:${guarded.port}`, queueName, config, [
      '--redis-password-file',
      passwordFile,
      '--job-secret-file',
      secretFile,
    ]).finally(() => {
      process.env['SESSIONPOOL_JOB_SECRET'] = saved;
    });
    const supervisor = createSupervisor({ transport: bullmq({ connection: guarded.url, queueName, jobSecret: SECRET }), logger: false });
    try {
      assert.ok(!fromFiles.child.spawnargs.some((a) => a.includes(password) || a.includes(SECRET)), 'no secret on the command line');
      await supervisor.ready();
      const result = await supervisor.chat({ provider: 'kimi', prompt: 'credentials from files' });
      assert.equal(result.metadata.session.host, fromFiles.host);
      await fromFiles.kill('SIGTERM');
      const fromEnv = spawn(process.execPath, [MAIN, 'worker', '--redis', `redis://127.0.0.1:${guarded.port}`, '--queue', queueName], {
        env: { ...process.env, REDIS_PASSWORD: password },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const [line] = (await once(fromEnv.stdout.setEncoding('utf8'), 'data')) as [string];
      assert.match(line, /taking sessions/, 'REDIS_PASSWORD is read');
      fromEnv.kill('SIGTERM');
      assert.deepEqual(await once(fromEnv, 'exit'), [0, null]);
    } finally {
      await supervisor.close({ timeoutMs: 1000 });
      await fromFiles.kill();
      await mock.close();
    }
  });

  test('SIGTERM closes (running jobs may finish); a second SIGTERM exits at once, 143', async () => {
    const mock = await startMockProvider({ apiKey: KEY, latencyMs: 60_000 });
    const queueName = `signals-${++queues}`;
    const file = join(dir, 'signals.json');
    writeFileSync(file, JSON.stringify({ logger: false, providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEY } }, threads: 1 }), { mode: 0o600 });
    const child = spawn(process.execPath, [MAIN, 'worker', '--redis', `redis://127.0.0.1:${guarded.port}`, '--queue', queueName, '--config', file], {
      env: { ...process.env, REDIS_PASSWORD: password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const bound = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const exited = once(child, 'exit');
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const supervisor = createSupervisor({ transport: bullmq({ connection: guarded.url, queueName, jobSecret: SECRET }), logger: false });
    try {
      await within(once(child.stdout.setEncoding('utf8'), 'data'), 20_000, 'the worker host ready');
      await supervisor.ready();
      supervisor.chat({ provider: 'kimi', prompt: 'a call that outlasts the close' }).catch(() => {});
      await within(mock.waitForRequests(1), 10_000, 'the call at the provider');
      const closing = once(child.stderr, 'data');
      child.kill('SIGTERM');
      await within(closing, 5000, () => `a line on stderr saying the worker closes (stderr: ${stderr})`);
      assert.match(stderr, /SIGTERM: closing .*SIGTERM again exits now/);
      const sentAt = performance.now();
      child.kill('SIGTERM');
      const [code, signal] = (await within(exited, 5000, 'the exit on the second SIGTERM')) as [number | null, string | null];
      assert.deepEqual([code, signal], [143, null], `exit ${code} ${signal}; stderr: ${stderr}`);
      const ms = performance.now() - sentAt;
      assert.ok(ms < 2000, `exited ${Math.round(ms)} ms after the second SIGTERM (the call runs for 60 s, the close waits 10 s)`);
    } finally {
      clearTimeout(bound);
      child.kill('SIGKILL');
      await supervisor.close({ timeoutMs: 500 });
      await mock.close();
    }
  });
});
