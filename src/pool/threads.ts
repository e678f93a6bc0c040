// One Piscina pool of worker threads, configured for the kind of session it runs.
import type { EventLoopUtilization } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import type { SessionTask, TaskOutcome } from '../wire/protocol.ts';
import { isChannelHello, type ChannelHello } from '../wire/protocol.ts';
import type { ThreadHeap } from '../types/stats.ts';
import { TaskRefusedError } from '../errors/errors.ts';

export interface ThreadsOptions {
  /** The worker entry module. */
  filename: string;
  threads: number;
  /** Sessions one thread runs at once. */
  perThread: number;
  /** Tasks that may wait for a thread (the supervisor never gives more than its slots). */
  maxQueue: number;
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number; stackSizeMb?: number };
  /** The threads' `process.env` (default: the host's, read when each thread starts). */
  env?: NodeJS.ProcessEnv;
  onHello(hello: ChannelHello): void;
  onGone(threadId: number): void;
}

export interface Threads {
  run(task: SessionTask): Promise<TaskOutcome>;
  /** Terminates the thread when it belongs to this pool. */
  kill(threadId: number): boolean;
  readonly count: number;
  /** The thread's event-loop utilization since `since` (all of its life without), read from this thread; undefined when it is not this pool's. */
  eventLoopUtilization(threadId: number, since?: EventLoopUtilization): EventLoopUtilization | undefined;
  /** Each thread's V8 heap in use (bytes). */
  heaps(): Promise<ThreadHeap[]>;
  close(): Promise<void>;
}

export function startThreads(options: ThreadsOptions): Threads {
  const pool = new Piscina({
    filename: options.filename,
    minThreads: options.threads,
    maxThreads: options.threads,
    // I/O workers: never freeze the event loop between tasks.
    atomics: 'disabled',
    concurrentTasksPerWorker: options.perThread,
    idleTimeout: 60_000,
    maxQueue: options.maxQueue,
    recordTiming: false,
    ...(options.resourceLimits !== undefined ? { resourceLimits: options.resourceLimits } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
  });
  const greeted = new Set<number>();
  pool.on('message', (message: unknown) => {
    if (!isChannelHello(message)) return;
    // The thread's 'exit' says when it goes: by then Piscina's worker id already reads -1.
    const { threadId } = message;
    greeted.add(threadId);
    pool.threads
      .find((w) => w.threadId === threadId)
      ?.once('exit', () => {
        greeted.delete(threadId);
        options.onGone(threadId);
      });
    options.onHello(message);
  });
  pool.on('workerDestroy', (worker: { id: number }) => {
    if (!greeted.has(worker.id)) options.onGone(worker.id);
  });
  // Errors outside tasks surface as crashed sessions through run(); never as an unhandled 'error'.
  pool.on('error', () => {});
  return {
    // No `signal` here: Piscina runs an abortable task alone on its thread.
    run: (task) =>
      (pool.run(task) as Promise<TaskOutcome>).catch((error: unknown) => {
        throw isQueueLimit(error) ? new TaskRefusedError((error as Error).message) : error;
      }),
    kill(threadId) {
      const worker = pool.threads.find((w) => w.threadId === threadId);
      if (worker === undefined) return false;
      void worker.terminate();
      return true;
    },
    get count() {
      return pool.threads.length;
    },
    eventLoopUtilization(threadId, since) {
      const worker = pool.threads.find((w) => w.threadId === threadId);
      return worker?.performance.eventLoopUtilization(since);
    },
    // A thread that is exiting (a crash, an out-of-memory kill) has no heap to read: it is left out.
    heaps: async () => {
      // Idle threads do not hold the host open (Piscina unrefs them): the answer must, or a host
      // with nothing else to do exits while it waits (`await ready(); await workerHeaps()`).
      const keepAlive = setInterval(() => {}, 60_000);
      try {
        const read = await Promise.all(
          pool.threads.map((w) =>
            w.getHeapStatistics().then(
              (h) => ({ threadId: w.threadId, heapUsed: h.used_heap_size }),
              () => undefined,
            ),
          ),
        );
        return read.filter((heap) => heap !== undefined);
      } finally {
        clearInterval(keepAlive);
      }
    },
    close: () => pool.destroy(),
  };
}

function isQueueLimit(error: unknown): boolean {
  return error instanceof Error && /task queue is at limit|no task queue available/i.test(error.message);
}
