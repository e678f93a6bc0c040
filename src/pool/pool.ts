// The Piscina pool, configured for I/O-bound sessions, behind the small Dispatcher interface that
// the supervisor uses (a second transport, such as a queue across hosts, would implement it too).
import { Piscina } from 'piscina';
import type { AbortReason, EventBatch, SessionTask, TaskOutcome } from '../protocol.ts';
import { isChannelHello } from '../protocol.ts';
import { WorkerChannels } from './channels.ts';
import { packageModuleURL } from '../module-url.ts';

export interface DispatcherOptions {
  threads: number;
  /** Upper bound of tasks given to the pool at once (the supervisor's maxConcurrent). */
  maxTasks: number;
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number; stackSizeMb?: number };
  onBatch(batch: EventBatch): void;
  /** A worker's channels are up: it can be told to abort sessions. */
  onWorkerReady?(threadId: number): void;
  /** A worker went away (crashed, was killed, or idled out). */
  onWorkerGone?(threadId: number): void;
}

export interface Dispatcher {
  /** Runs a session; rejects only when the thread running it died or was killed. */
  run(task: SessionTask): Promise<TaskOutcome>;
  /** Terminates a thread and fails every session on it (the last resort for a call that ignores its abort). */
  kill(threadId: number): boolean;
  /** Asks the thread that runs the session (every thread when unknown) to abort it; resolves with that thread. */
  abort(threadId: number | undefined, sessionId: string, reason: AbortReason): Promise<number | undefined>;
  /** Whether workers report each session's start (costs a message per session: only when watched). */
  reportStarts(on: boolean): void;
  readonly threads: number;
  close(): Promise<void>;
}

const WORKER_URL = packageModuleURL('../../workers/session-worker.ts', import.meta.url);

export function createPool(options: DispatcherOptions): Dispatcher {
  const channels = new WorkerChannels(options.onBatch, (threadId) => options.onWorkerReady?.(threadId));
  const pool = new Piscina({
    filename: WORKER_URL,
    minThreads: options.threads,
    maxThreads: options.threads,
    // I/O workers: never freeze the event loop between tasks, run dozens of calls per thread.
    atomics: 'disabled',
    concurrentTasksPerWorker: Math.max(1, Math.ceil(options.maxTasks / options.threads)),
    idleTimeout: 60_000,
    maxQueue: options.maxTasks,
    recordTiming: false,
    ...(options.resourceLimits !== undefined ? { resourceLimits: options.resourceLimits } : {}),
  });
  pool.on('message', (message: unknown) => {
    if (isChannelHello(message)) channels.attach(message);
  });
  pool.on('workerDestroy', (worker: { id: number }) => {
    channels.detach(worker.id);
    options.onWorkerGone?.(worker.id);
  });
  // Errors outside tasks surface as crashed sessions through run(); never as an unhandled 'error'.
  pool.on('error', () => {});
  return {
    // No `signal` here: Piscina runs an abortable task alone on its thread.
    run: (task) => pool.run(task) as Promise<TaskOutcome>,
    kill(threadId) {
      const worker = pool.threads.find((w) => w.threadId === threadId);
      if (worker === undefined) return false;
      void worker.terminate();
      return true;
    },
    abort: (threadId, sessionId, reason) => channels.abort(threadId, sessionId, reason),
    reportStarts: (on) => channels.reportStarts(on),
    get threads() {
      return pool.threads.length;
    },
    async close() {
      channels.closeAll();
      await pool.destroy();
    },
  };
}
