// The worker pools behind the small Dispatcher interface that the supervisor uses (a second
// transport, such as a queue across hosts, would implement it too). Provider calls run on one
// pool, many per thread, sent over the threads' own ports in batches (lanes.ts); `execute`
// handlers on a second pool of their own, as Piscina tasks, started on the first handler, one
// handler per thread: a handler that blocks, crashes or is killed never touches a provider call,
// nor another handler.
import type { AbortTransport } from '../engine/abort-router.ts';
import type { EventBatch, SessionTask, TaskOutcome } from '../wire/protocol.ts';
import { WorkerChannels } from './channels.ts';
import { SessionLanes } from './lanes.ts';
import { packageModuleURL } from '../util/module-url.ts';
import { startThreads, type ThreadHeap, type Threads, type ThreadsOptions } from './threads.ts';

export { TaskRefusedError, type ThreadHeap } from './threads.ts';

export interface DispatcherOptions {
  threads: number;
  /** Upper bound of tasks given to the pools at once (the supervisor's maxConcurrent). */
  maxTasks: number;
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number; stackSizeMb?: number };
  onBatch(batch: EventBatch): void;
  /** A worker's channels are up: it can be told to abort sessions (`handlers`: a thread of the handler pool). */
  onWorkerReady?(threadId: number, handlers: boolean): void;
  /** A worker went away (crashed, was killed, or idled out). */
  onWorkerGone?(threadId: number): void;
}

/**
 * Where a run ends, exactly once, told with the task it was given: `settled` with the worker's
 * outcome, or `crashed` when the thread running it died or was killed (TaskRefusedError: it never
 * started). One receiver serves every run, so that a session costs no closures or promises on the
 * way; the task's sessionId and run say which run ended.
 */
export interface RunReceiver {
  settled(task: SessionTask, outcome: TaskOutcome): void;
  crashed(task: SessionTask, error: unknown): void;
}

export interface Dispatcher extends AbortTransport {
  /** Runs a session; `receiver` is told how the run ended. */
  run(task: SessionTask, receiver: RunReceiver): void;
  /** Whether workers report each session's start (costs a message per session: only when watched). */
  reportStarts(on: boolean): void;
  /** Threads of the provider-call pool. */
  readonly threads: number;
  /** The V8 heap in use on each thread (bytes); transports without threads may leave it out. */
  heaps?(): Promise<ThreadHeap[]>;
  /**
   * The supervisor's close began: what still runs in `timeoutMs` is aborted, and the whole close must
   * be over by then (a transport that waits on the network plans its let-go steps within it).
   */
  closing?(timeoutMs: number): void;
  /** Stops; `timeoutMs` is what is left of the supervisor's close (undefined: no limit but its own). */
  close(timeoutMs?: number): Promise<void>;
}

/** A run that ends in a promise (a Piscina task, a queued job), told to its receiver. */
export function settleFrom(ended: Promise<TaskOutcome>, task: SessionTask, receiver: RunReceiver): void {
  ended.then(
    (outcome) => receiver.settled(task, outcome),
    (error: unknown) => receiver.crashed(task, error),
  );
}

/** One run as a promise (for callers outside the engine): rejects when its thread died or was killed. */
export function runOnce(dispatcher: Dispatcher, task: SessionTask): Promise<TaskOutcome> {
  return new Promise((resolve, reject) => dispatcher.run(task, { settled: (_task, outcome) => resolve(outcome), crashed: (_task, error) => reject(error) }));
}

const CHAT_WORKER = packageModuleURL('../../workers/session-worker.ts', import.meta.url);
const HANDLER_WORKER = packageModuleURL('../../workers/handler-worker.ts', import.meta.url);

export function createPool(options: DispatcherOptions): Dispatcher {
  const handlerThreads = new Set<number>();
  const lanes = new SessionLanes();
  const channels = new WorkerChannels({
    onBatch: options.onBatch,
    onOutcomes: (outcomes) => lanes.settle(outcomes),
    onAttach: (threadId, events) => {
      const handlers = handlerThreads.has(threadId);
      if (!handlers) lanes.attach(threadId, events);
      options.onWorkerReady?.(threadId, handlers);
    },
  });
  const common: Omit<ThreadsOptions, 'filename' | 'perThread'> = {
    threads: options.threads,
    maxQueue: options.maxTasks,
    ...(options.resourceLimits !== undefined ? { resourceLimits: options.resourceLimits } : {}),
    onHello: (hello) => channels.attach(hello),
    onGone: (threadId) => {
      lanes.detach(threadId);
      channels.detach(threadId);
      options.onWorkerGone?.(threadId);
    },
  };
  const chats = startThreads({ ...common, filename: CHAT_WORKER, perThread: Math.max(1, Math.ceil(options.maxTasks / options.threads)) });
  let handlers: Threads | undefined;
  const pools = (): Threads[] => (handlers === undefined ? [chats] : [chats, handlers]);
  return {
    run(task, receiver) {
      if (task.kind === 'chat') return lanes.run(task, receiver);
      handlers ??= startThreads({
        ...common,
        filename: HANDLER_WORKER,
        perThread: 1,
        onHello: (hello) => {
          handlerThreads.add(hello.threadId);
          channels.attach(hello);
        },
        onGone: (threadId) => {
          handlerThreads.delete(threadId);
          common.onGone(threadId);
        },
      });
      settleFrom(handlers.run(task), task, receiver);
    },
    kill: (threadId) => pools().some((pool) => pool.kill(threadId)),
    abort: (threadId, sessionId, reason) => channels.abort(threadId, sessionId, reason),
    reaches: (threadId) => channels.reaches(threadId),
    forget: (sessionId, threadId) => channels.forget(sessionId, threadId),
    reportStarts: (on) => channels.reportStarts(on),
    get threads() {
      return chats.count;
    },
    heaps: async () => (await Promise.all(pools().map((pool) => pool.heaps()))).flat(),
    async close() {
      channels.closeAll();
      await Promise.all(pools().map((pool) => pool.close()));
    },
  };
}
