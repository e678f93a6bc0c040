// `sessionpool worker` as a child process (the CLI itself), with a --config file of its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerHostOptions } from '../../src/index.ts';

const MAIN = fileURLToPath(new URL('../../src/apps/cli/main.ts', import.meta.url));

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** The `hostname:pid` it names itself with in results. */
  readonly host: string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startWorkerProcess(
  redisURL: string,
  queueName: string,
  config: Omit<WorkerHostOptions, 'connection'>,
  args: string[] = [],
): Promise<WorkerProcess> {
  const file = join(mkdtempSync(join(tmpdir(), 'sessionpool-worker-')), 'config.json');
  // It may hold keys and the job secret: readable by this user only.
  writeFileSync(file, JSON.stringify({ logger: false, ...config }), { mode: 0o600 });
  const child = spawn(process.execPath, [MAIN, 'worker', '--redis', redisURL, '--queue', queueName, '--config', file, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout?.setEncoding('utf8');
  const host = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      const match = /sessionpool worker (\S+): taking sessions/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready: ${out}`)));
  });
  return {
    child,
    host,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await once(child, 'exit');
    },
  };
}
