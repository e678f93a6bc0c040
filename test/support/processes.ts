// Child processes of the fault suite, each with its whole output kept (stdout and stderr: the
// invariant checker reads them for secrets and crashes) and every exit accounted for: a process
// the test killed on purpose is expected to die; any other exit before the test stops it is a crash.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerHostOptions } from '../../src/index.ts';
import { within } from './waits.ts';

export const CLI = fileURLToPath(new URL('../../src/apps/cli/main.ts', import.meta.url));

export interface ExitRecord {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The test sent the signal that ended it (kill -9, or SIGTERM at the end). */
  expected: boolean;
}

/** One child process, with its output and how it ended. */
export class Tracked {
  readonly label: string;
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  exit: ExitRecord | undefined;
  /** A process that ends by itself when its work is done (a producer script): exit code 0 is no crash. */
  mayExitOnItsOwn = false;
  /** A process meant to fail (a fatal start error): a non-zero exit is its answer, asserted by the test itself. */
  mustFail = false;
  #expecting = false;
  readonly exited: Promise<ExitRecord>;

  constructor(label: string, command: string, args: string[], options: SpawnOptions = {}) {
    this.label = label;
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal, expected: this.#expecting };
        resolve(this.exit);
      });
    });
    everyChild.add(this);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  get output(): string {
    return `${this.stdout}\n${this.stderr}`;
  }

  /** The end of its stdout and stderr, for a message. */
  tail(chars = 300): string {
    return `stdout …${this.stdout.slice(-chars).trim()} | stderr …${this.stderr.slice(-chars).trim()}`;
  }

  /** Resolves once `pattern` shows in stdout (bounded: rejects with the output so far). */
  async waitFor(pattern: RegExp, ms: number, what: string): Promise<RegExpExecArray> {
    const found = () => pattern.exec(this.stdout);
    return within(
      new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          const match = found();
          if (match !== null) {
            this.child.stdout?.off('data', check);
            resolve(match);
          }
        };
        this.child.stdout?.on('data', check);
        void this.exited.then((exit) => reject(new Error(`${this.label} exited (${exit.code ?? exit.signal}) before ${what}: ${this.tail()}`)));
        check();
      }),
      ms,
      () => `${this.label}: ${what} (${this.tail()})`,
    );
  }

  /** Sends `signal` as an expected end and waits (bounded) for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', ms = 15_000): Promise<ExitRecord> {
    if (this.exit !== undefined) return this.exit;
    this.#expecting = true;
    this.child.kill(signal);
    return within(this.exited, ms, () => `${this.label} (pid ${this.pid}) did not exit within ${ms} ms of ${signal} (${this.tail()})`);
  }

  /** The test expects this process to end by itself (with any code): its exit is no crash. */
  expectEnd(): void {
    this.#expecting = true;
  }

  /** SIGSTOP / SIGCONT: the process freezes (sockets stay open, nothing answers). */
  pause(): void {
    this.child.kill('SIGSTOP');
  }

  resume(): void {
    this.child.kill('SIGCONT');
  }
}

/** Every child started by this test process: the invariant checker looks for any left running. */
export const everyChild = new Set<Tracked>();

/** Kills (-9) whatever is still running: the last resort of an `after` hook. */
export async function killEveryChild(): Promise<void> {
  await Promise.allSettled([...everyChild].map((c) => (c.running ? (c.child.kill('SIGCONT'), c.kill('SIGKILL')) : undefined)));
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

// --- redis-server -------------------------------------------------------------------------------

export interface RedisServer {
  readonly port: number;
  readonly password: string | undefined;
  /** Direct URL (no proxy). */
  readonly url: string;
  readonly process: Tracked;
  /** SIGKILL, then a fresh server on the same port (no persistence: every job is lost). */
  restart(): Promise<void>;
  kill(): Promise<void>;
  start(): Promise<void>;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
  /** Every redis-server process this one has been (restarts included): their outputs. */
  readonly generations: Tracked[];
}

export async function startRedisServer(options: { password?: string } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sessionpool-faults-redis-'));
  const { password } = options;
  const generations: Tracked[] = [];
  const launch = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
    if (password !== undefined) args.push('--requirepass', password);
    const child = new Tracked(`redis-server:${port}#${generations.length + 1}`, 'redis-server', args);
    generations.push(child);
    await child.waitFor(/Ready to accept connections/, 15_000, 'redis-server ready');
  };
  await launch();
  const current = () => generations.at(-1) as Tracked;
  const auth = password !== undefined ? `:${encodeURIComponent(password)}@` : '';
  return {
    port,
    password,
    url: `redis://${auth}127.0.0.1:${port}`,
    get process() {
      return current();
    },
    generations,
    async restart() {
      await current().kill('SIGKILL');
      await launch();
    },
    async kill() {
      await current().kill('SIGKILL');
    },
    start: launch,
    pause: () => current().pause(),
    resume: () => current().resume(),
    async stop() {
      current().resume();
      await current().kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --- `sessionpool worker` hosts -------------------------------------------------------------------

export interface WorkerHostProcess {
  readonly process: Tracked;
  /** `hostname:pid`, as results name it. */
  readonly host: string;
  /** Every process this host has been (restarts included). */
  readonly generations: Tracked[];
  /** SIGKILL. */
  kill(): Promise<void>;
  /** A fresh `sessionpool worker` with the same configuration (after kill()). */
  restart(): Promise<void>;
  /** SIGTERM and wait for a clean exit. */
  stop(ms?: number): Promise<ExitRecord>;
}

/**
 * A real `sessionpool worker` child. The Redis URL goes in REDIS_URL (not argv, where `ps` shows
 * it); the configuration in a `--config` file of its own.
 */
export async function startWorkerHost(
  redisURL: string,
  queueName: string,
  config: Omit<WorkerHostOptions, 'connection'>,
  label = `worker:${queueName}`,
): Promise<WorkerHostProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionpool-faults-worker-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ logger: false, ...config }));
  const generations: Tracked[] = [];
  let host = '';
  const launch = async () => {
    const child = new Tracked(`${label}#${generations.length + 1}`, process.execPath, [CLI, 'worker', '--queue', queueName, '--config', file], {
      env: { ...process.env, REDIS_URL: redisURL },
    });
    generations.push(child);
    const match = await child.waitFor(/sessionpool worker (\S+): taking sessions/, 30_000, 'the worker host ready');
    host = match[1] ?? '';
  };
  await launch();
  const current = () => generations.at(-1) as Tracked;
  return {
    get process() {
      return current();
    },
    get host() {
      return host;
    },
    generations,
    async kill() {
      await current().kill('SIGKILL');
    },
    restart: launch,
    stop: (ms = 15_000) => current().kill('SIGTERM', ms),
  };
}

// --- a producer in a child process ----------------------------------------------------------------

const PRODUCER = fileURLToPath(new URL('../faults/producer-child.ts', import.meta.url));

export interface ProducerChildConfig {
  redisURL: string;
  queueName: string;
  sessions: number;
  /** requestIds are `${prefix}-${i}`. */
  prefix: string;
  timeoutMs: number;
  maxConcurrent?: number;
  lostAfterMs?: number;
}

/** test/faults/producer-child.ts: a supervisor on bullmq() that prints one JSON line per event. */
export function startProducerProcess(label: string, config: ProducerChildConfig): Tracked {
  const child = new Tracked(label, process.execPath, [PRODUCER], { env: { ...process.env, FAULTS_PRODUCER: JSON.stringify(config) } });
  child.mayExitOnItsOwn = true;
  return child;
}
