// The worker pools behind the small Dispatcher interface that the supervisor uses (a second
// transport, such as a queue across hosts, would implement it too). Provider calls run on one
// pool, many per thread, sent over the threads' own ports in batches (lanes.ts); `execute`
// handlers on a second pool of their own, as Piscina tasks, started on the first handler, one
// handler per thread: a handler that blocks, crashes or is killed never touches a provider call,
// nor another handler.
import { WorkerChannels } from './channels.ts';
import { compileCacheEnv } from './compile-cache.ts';
import { SessionLanes } from './lanes.ts';
import { packageModuleURL } from '../util/module-url.ts';
import { startThreads, type Threads, type ThreadsOptions } from './threads.ts';
import type { DispatcherOptions, Dispatcher } from '../seam/seam.ts';
import { settleFrom } from '../seam/seam.ts';

const CHAT_WORKER = packageModuleURL('../../workers/session-worker.ts', import.meta.url);
const HANDLER_WORKER = packageModuleURL('../../workers/handler-worker.ts', import.meta.url);

export function createPool(options: DispatcherOptions): Dispatcher {
  const handlerThreads = new Set<number>();
  // The provider-call threads' load decides which of them takes a session (lanes.ts).
  const lanes = new SessionLanes((threadId, since) => chats.eventLoopUtilization(threadId, since));
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
  // Provider-call threads read their compiled modules from Node's compile cache (compile-cache.ts);
  // handler threads run the caller's code in the caller's environment, untouched.
  const chats = startThreads({
    ...common,
    filename: CHAT_WORKER,
    perThread: Math.max(1, Math.ceil(options.maxTasks / options.threads)),
    env: compileCacheEnv(),
  });
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
