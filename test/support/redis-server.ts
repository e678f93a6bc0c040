// A real redis-server on loopback for the BullMQ transport's tests and benchmark (Debian's package; .ci/run
// installs it when missing). No persistence: a restart loses every job, as a crashed Redis would.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const redisMissing: string | false =
  spawnSync('redis-server', ['--version']).status === 0 ? false : 'redis-server is not installed (apt-get install redis-server; .ci/run does it)';

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** SIGKILL, then a fresh server on the same port (nothing kept). */
  restart(): Promise<void>;
  /** SIGKILL, and nothing on the port until up() (clients see connections refused). */
  down(): Promise<void>;
  /** A fresh server on the same port after down(). */
  up(): Promise<void>;
  /** SIGSTOP / SIGCONT: connections stay open, nothing answers (a hung Redis, not a dead one). */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

async function start(port: number, dir: string, password: string | undefined, persist = false): Promise<ChildProcess> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    ...(persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    '--dir',
    dir,
    ...(password ? ['--requirepass', password] : []),
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
  child.stdout?.resume();
  return child;
}

/** `persist`: every write goes to an append-only file, so down() then up() keeps the data (a Redis that was unreachable, not one that lost everything). */
export async function startRedis(options: { password?: string; persist?: boolean } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sessionpool-redis-'));
  let child = await start(port, dir, options.password, options.persist);
  const auth = options.password !== undefined ? `:${encodeURIComponent(options.password)}@` : '';
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  };
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    async restart() {
      await kill();
      child = await start(port, dir, options.password, options.persist);
    },
    async down() {
      await kill();
    },
    async up() {
      child = await start(port, dir, options.password, options.persist);
    },
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
    async stop() {
      if (child.signalCode === null && child.exitCode === null) child.kill('SIGCONT');
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
