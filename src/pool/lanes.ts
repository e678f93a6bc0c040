// Chat sessions go to their threads over each worker's events port, not as Piscina tasks, and
// their outcomes come back batched with the events (src/worker/call/channel.ts), so a result crosses once and
// after every delta of its session. Piscina still starts, replaces and terminates the threads; a
// thread that goes fails the runs it had, as a dead Piscina task would. A Piscina task cost the
// main thread ~20 µs (its task record, async resource, balancer and one message each way).
import type { EventLoopUtilization } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import type { SessionTask, TaskMessage, TaskOutcome } from '../wire/protocol.ts';
import type { RunReceiver } from '../seam/seam.ts';

/**
 * Where sessions go. Provider calls are I/O: one thread serves dozens at a fraction of a core, and
 * each further thread woken for a share of them costs the machine its own wake-ups, event-loop
 * turns and messages that batch less (and its own JIT warm-up). Measured on 2 threads, 10
 * concurrent calls cost the process ~2.5 ms of CPU per call spread evenly against ~1.6 ms on one
 * thread, 100 concurrent ~1.6 against ~1.1 (docs/performance.md). So a thread takes sessions
 * until its event loop is busy (HOT_UTILIZATION over the last SAMPLE_MS) or it has PACK_LIMIT in
 * flight; then the next thread; when every thread is hot or full, the least busy one.
 */
const HOT_UTILIZATION = 0.5;
const SAMPLE_MS = 100;
/** A burst (thousands submitted in one turn) spreads before any sample could show the load. */
const PACK_LIMIT = 256;

/** A thread's event-loop utilization since `since` (perf_hooks' shape), or undefined when it is gone. */
export type LoadReader = (threadId: number, since?: EventLoopUtilization) => EventLoopUtilization | undefined;

interface Lane {
  readonly threadId: number;
  readonly port: MessagePort;
  /** Runs sent to this thread and not yet settled. */
  running: number;
  /** Its event loop was busy over the last sample: new sessions go elsewhere while another is not. */
  hot: boolean;
  /** Where the next sample's window starts. */
  mark: EventLoopUtilization | undefined;
}

interface Pending {
  readonly task: SessionTask;
  readonly threadId: number;
  readonly receiver: RunReceiver;
}

export class SessionLanes {
  readonly #lanes = new Map<number, Lane>();
  /** The same lanes, for the least-busy scan (no iterator per task). */
  #list: Lane[] = [];
  readonly #pending = new Map<string, Pending>();
  /** Tasks that came before any thread could take them. */
  #waiting: Array<{ task: SessionTask; receiver: RunReceiver }> = [];
  /** Holds the host open while runs wait for a thread (Piscina's new workers are unref'd). */
  #keepAlive: NodeJS.Timeout | undefined;
  readonly #readLoad: LoadReader | undefined;
  /** Samples the threads' load while runs are in flight. */
  #sampler: NodeJS.Timeout | undefined;
  #inFlight = 0;

  /** Without `readLoad`, no thread is ever hot: each fills to PACK_LIMIT before the next. */
  constructor(readLoad?: LoadReader) {
    this.#readLoad = readLoad;
  }

  /** A thread's events port is up: it takes sessions from now on. */
  attach(threadId: number, port: MessagePort): void {
    const lane: Lane = { threadId, port, running: 0, hot: false, mark: this.#readLoad?.(threadId) };
    this.#lanes.set(threadId, lane);
    this.#list = [...this.#lanes.values()];
    const waiting = this.#waiting;
    this.#waiting = [];
    clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    for (const { task, receiver } of waiting) this.#assign(task, receiver);
  }

  /** The thread is gone: the runs it had fail as crashed. */
  detach(threadId: number): void {
    const lane = this.#lanes.get(threadId);
    if (lane === undefined) return;
    this.#lanes.delete(threadId);
    this.#list = [...this.#lanes.values()];
    // Taken out first: a crashed run may be run again at once, on another thread.
    const lost: Pending[] = [];
    for (const [sessionId, pending] of this.#pending) {
      if (pending.threadId !== threadId) continue;
      this.#pending.delete(sessionId);
      lost.push(pending);
    }
    if (lost.length > 0) this.#ended(lost.length);
    for (const { task, receiver } of lost) receiver.crashed(task, new Error(`its worker thread (${threadId}) exited`));
  }

  run(task: SessionTask, receiver: RunReceiver): void {
    if (this.#lanes.size > 0) this.#assign(task, receiver);
    else {
      this.#waiting.push({ task, receiver });
      this.#keepAlive ??= setInterval(() => {}, 60_000);
    }
  }

  /** Outcomes a thread reported; one of an older run (or of a thread already given up) is ignored. */
  settle(outcomes: ReadonlyArray<{ sessionId: string; run: number; outcome: TaskOutcome }>): void {
    for (const { sessionId, run, outcome } of outcomes) {
      const pending = this.#pending.get(sessionId);
      if (pending === undefined || pending.task.run !== run) continue;
      this.#pending.delete(sessionId);
      const lane = this.#lanes.get(pending.threadId);
      if (lane !== undefined && --lane.running === 0) lane.port.unref();
      this.#ended();
      pending.receiver.settled(pending.task, outcome);
    }
  }

  /** Runs in flight on `threadId`. */
  runningOn(threadId: number): number {
    return this.#lanes.get(threadId)?.running ?? 0;
  }

  /**
   * The first thread with room takes the task (see HOT_UTILIZATION), sent at once: a host that blocks
   * its thread right after submitting (a render, a simulation step) must not hold its sessions back.
   * Batching the sessions of a turn into one message (setImmediate) saved ~5 µs a session, and cost
   * such a host a slice.
   */
  #assign(task: SessionTask, receiver: RunReceiver): void {
    const lane = this.#withRoom() ?? this.#leastBusy();
    const { threadId } = lane;
    if (this.#inFlight++ === 0) this.#startSampling();
    // A port with runs in flight keeps the host alive, as a Piscina task would.
    if (lane.running++ === 0) lane.port.ref();
    this.#pending.set(task.sessionId, { task, threadId, receiver });
    const message: TaskMessage = { type: 'task', task };
    try {
      lane.port.postMessage(message);
    } catch (error) {
      // A task that cannot be sent never ran: it fails like a thread that died before starting it.
      this.#pending.delete(task.sessionId);
      if (--lane.running === 0) lane.port.unref();
      this.#ended();
      // Told on the next microtask, as a thread's exit would be: never inside the caller's dispatch.
      queueMicrotask(() => receiver.crashed(task, error instanceof Error ? error : new Error(String(error))));
    }
  }

  #withRoom(): Lane | undefined {
    for (const lane of this.#list) if (!lane.hot && lane.running < PACK_LIMIT) return lane;
    return undefined;
  }

  #leastBusy(): Lane {
    let lane = this.#list[0] as Lane;
    for (const candidate of this.#list) if (candidate.running < lane.running) lane = candidate;
    return lane;
  }

  /** `count` runs left the lanes (settled, lost with their thread, or never sent). */
  #ended(count = 1): void {
    this.#inFlight -= count;
    if (this.#inFlight > 0) return;
    clearInterval(this.#sampler);
    this.#sampler = undefined;
    for (const lane of this.#list) lane.hot = false;
  }

  #startSampling(): void {
    const read = this.#readLoad;
    if (read === undefined || this.#sampler !== undefined) return;
    for (const lane of this.#list) lane.mark = read(lane.threadId);
    this.#sampler = setInterval(() => this.sample(), SAMPLE_MS).unref();
  }

  /** Marks each thread hot or not from its event loop's load since the last sample (every SAMPLE_MS while runs are in flight). */
  sample(): void {
    const read = this.#readLoad;
    if (read === undefined) return;
    for (const lane of this.#list) {
      const window = read(lane.threadId, lane.mark);
      lane.hot = window !== undefined && window.utilization > HOT_UTILIZATION;
      lane.mark = read(lane.threadId);
    }
  }
}
