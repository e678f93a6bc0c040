import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';

const MAIN = new URL('../../src/apps/cli/main.ts', import.meta.url).pathname;

test('demo --inspect runs waves until SIGINT, serves the live view, Stately and /metrics, then exits 0', async () => {
  const proc = spawn(process.execPath, [MAIN, 'demo', '--inspect'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // The timeout only turns a hang into a failure; nothing is asserted about how long it takes.
  const killer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let stdout = '';
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve) => {
    proc.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (/^wave 1: /m.test(stdout)) resolve();
    });
    void exited.then(() => resolve());
  });
  assert.match(stdout, /^wave 1: 11 completed, 1 timed out, 0 other/m);
  const live = /live view \(offline\)\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1];
  const stately = /Stately inspector\s+(http:\/\/localhost:\d+)/.exec(stdout)?.[1];
  assert.ok(live && stately, stdout);
  assert.match(await fetch(live).then((r) => r.text()), /sessionpool · live view/);
  assert.match(await fetch(`${live}metrics`).then((r) => r.text()), /^sessionpool_sessions_total\{outcome="completed"\} [1-9]\d/m);
  assert.match(await fetch(stately).then((r) => r.text()), /<iframe id="inspector"/);

  proc.kill('SIGINT');
  const [code, signal] = await exited;
  clearTimeout(killer);
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, `${stdout}\n${stderr}`);
  assert.match(stdout, /^stopping after \d+ waves$/m);
  assert.match(stdout, /^closed: \d+ sessions finished during close, \d+ aborted; \d+ sessions in all/m);
  assert.equal(stderr, '');
});
