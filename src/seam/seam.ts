// The seam: every interface between the engine and where sessions run, in one module. The engine
// (src/engine) sends runs to a Dispatcher and hears how each ended through a RunReceiver; routing
// (src/routing) wraps a dispatcher and holds sessions at a DispatchGate; the pool (src/pool)
// implements a Dispatcher on worker threads, a Transport (src/transport) on other hosts. The
// supervisor (src/supervisor) is the one place that names them together. Nothing here imports
// anything above the wire protocol.
//
//   engine ── run(task, receiver) ──► Dispatcher (routing's wrapper ► pool | transport)
//          ◄── settled / crashed ───  RunReceiver
//   engine ── wait(spec, go, fail) ─► DispatchGate (routing's budget, a queue's pick-up)
//   engine ── abort / forget / kill ► AbortTransport (part of every Dispatcher)
import type { Logger } from 'pino';
import type { WireError } from '../types/errors.ts';
import type { SessionMetadata } from '../types/chat.ts';
import type { AbortReason, SessionKind } from '../types/session.ts';
import type { ThreadHeap } from '../types/stats.ts';
import type { EventBatch, SessionTask, StreamPartEvent, TaskOutcome } from '../wire/protocol.ts';

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

/** What the router needs of the pool. */
export interface AbortTransport {
  /** Asks one thread (every thread when undefined) to abort; resolves with the thread that ran it. */
  abort(threadId: number | undefined, sessionId: string, reason: AbortReason): Promise<number | undefined>;
  /** Whether `threadId` is alive and can be told. */
  reaches(threadId: number): boolean;
  /** Tells one thread (every thread when undefined) to drop an abort it keeps for the session. */
  forget(sessionId: string, threadId?: number): void;
  /** Terminates a thread (failing every run on it); false when there is no such thread. */
  kill(threadId: number): boolean;
}

/**
 * Routing's hook (src/routing): a session that holds a slot leaves `created` only when `go` is
 * called (at once, or when its provider key has budget), or fails there with `fail` (an open circuit).
 */
export interface DispatchGate {
  wait(spec: SessionSpec, deadlineAt: number, go: () => void, fail: (error: WireError) => void): void;
  /** The session was released: whatever it waits for or holds is let go. */
  released(sessionId: string): void;
}

/** What the supervisor is asked to run: one session, validated and resolved. */
export interface SessionSpec {
  kind: SessionKind;
  sessionId: string;
  requestId: string;
  provider?: string;
  model?: string;
  /** The task to send; its `budgetMs` and `run` are set on the copy that leaves for a worker. */
  task: SessionTask;
  timeoutMs: number;
  signal?: AbortSignal;
  onDelta?: (text: string) => void;
  /** Run the session again after its thread crashed (chats: when nothing was streamed; handlers: only when asked). */
  retryOnCrash: boolean;
  /** Stream parts besides text (reasoning, tool-call deltas, usage, the response head), in order with the text. */
  onEvent?: (event: StreamPartEvent) => void;
  /** Strings that must never leave in an error message (the provider's API key). */
  secrets: readonly string[];
  /** The caller's own data: on the result and on every event of the session, never sent to a provider. */
  metadata?: Record<string, unknown>;
  /** Builds what the caller receives from the worker's value, the session's summary and the request's `metadata`. */
  toValue(value: unknown, session: SessionMetadata, metadata: Record<string, unknown> | undefined): unknown;
}

/**
 * A dispatcher that hands everything to `inner` except what `own` overrides: the wrappers (routing's
 * fallbacks, the redaction gate) change one or two methods and pass the rest on unchanged.
 */
export function passThrough(inner: Dispatcher, own: Partial<Pick<Dispatcher, 'run' | 'abort'>>): Dispatcher {
  return {
    run: own.run ?? ((task, receiver) => inner.run(task, receiver)),
    abort: own.abort ?? ((threadId, sessionId, reason) => inner.abort(threadId, sessionId, reason)),
    kill: (threadId) => inner.kill(threadId),
    reaches: (threadId) => inner.reaches(threadId),
    forget: (sessionId, threadId) => inner.forget(sessionId, threadId),
    reportStarts: (on) => inner.reportStarts(on),
    get threads() {
      return inner.threads;
    },
    ...(inner.heaps ? { heaps: () => inner.heaps!() } : {}),
    ...(inner.closing ? { closing: (timeoutMs: number) => inner.closing!(timeoutMs) } : {}),
    close: (timeoutMs) => inner.close(timeoutMs),
  };
}

// Transports: where a Transport runs sessions. The in-process Piscina pool is the default; a queue
// across hosts (src/transport/bullmq) is another. A transport builds the Dispatcher the engine sends
// runs to, and may hold sessions in `created` until one of its workers takes them (its `gate`,
// chained after routing's). The lifecycle stays the engine's.
export interface TransportOptions extends DispatcherOptions {
  /** The task a session would be sent with now (its current route target, its budget): what a queue stores while the session waits. */
  taskFor(spec: SessionSpec, deadlineAt: number): SessionTask;
  logger: Logger | undefined;
}

export interface TransportDispatcher extends Dispatcher {
  /** Sessions wait in `created` until a worker of the transport takes them (queued transports). */
  readonly gate?: DispatchGate;
  /** Resolves once sessions can be taken (a queue: connected and listening); `ready()` waits for it. */
  readonly ready?: Promise<void>;
}

/**
 * Where a supervisor's sessions run, given as `createSupervisor({ transport })`: `bullmq(…)` queues
 * them in Redis for worker hosts; without one they run on the supervisor's own worker threads.
 */
export interface Transport {
  /** Shown in logs and stats. */
  readonly name: string;
  /** Worker hosts hold the provider keys: the supervisor sends none and needs none. */
  readonly remoteKeys: boolean;
  /** Called once by the supervisor it is given to (not by your code): builds the dispatcher its sessions are sent to. */
  open(options: TransportOptions): TransportDispatcher;
}

export function isTransport(value: unknown): value is Transport {
  const t = value as Partial<Transport> | null;
  return typeof t === 'object' && t !== null && typeof t.open === 'function' && typeof t.name === 'string' && typeof t.remoteKeys === 'boolean';
}

/** Two gates in a row: the second is asked once the first lets the session go. */
export function chainGates(first: DispatchGate, second: DispatchGate): DispatchGate {
  return {
    wait: (spec, deadlineAt, go, fail) => first.wait(spec, deadlineAt, () => second.wait(spec, deadlineAt, go, fail), fail),
    released(sessionId) {
      first.released(sessionId);
      second.released(sessionId);
    },
  };
}
