// `sessionpool bench` runs the benchmark as its child: the child gets this process's Node flags but
// not a debugger's nor the test runner's, a signal sent to the command reaches the benchmark, and a
// benchmark ended by a signal ends the command with 128 + its number.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:os';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { benchExecArgv } from '../../src/apps/cli/bench.ts';

const MAIN = fileURLToPath(new URL('../../src/apps/cli/main.ts', import.meta.url));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function childOf(pid: number): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const found = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')[0];
    if (found) return Number(found);
    await delay(50);
  }
  throw new Error(`no child of ${pid}`);
}

describe('sessionpool bench', () => {
  test("the benchmark gets this process's Node flags, not a debugger's nor the test runner's", () => {
    assert.deepEqual(
      benchExecArgv([
        '--conditions=sessionpool-source',
        '--inspect-brk=0',
        '--inspect',
        '--inspect-wait=127.0.0.1:9230',
        '--inspect-port',
        '9231',
        '--inspect-publish-uid=http',
        '--test',
        '--test-only',
        '--experimental-test-coverage',
        '--cpu-prof',
        '--max-old-space-size=4096',
      ]),
      ['--conditions=sessionpool-source', '--cpu-prof', '--max-old-space-size=4096'],
    );
  });

  test('SIGTERM to the command ends the benchmark too, and the command exits 143', { timeout: 60_000 }, async () => {
    const parent = spawn(process.execPath, [MAIN, 'bench', 'latency-1', '--quick'], { stdio: 'ignore' });
    const exited = once(parent, 'exit');
    const child = await childOf(parent.pid!);
    try {
      parent.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 128 + constants.signals.SIGTERM);
      for (let i = 0; i < 100 && alive(child); i++) await delay(50);
      assert.equal(alive(child), false, 'the benchmark outlived the command');
    } finally {
      if (alive(child)) process.kill(child, 'SIGKILL');
    }
  });
});
