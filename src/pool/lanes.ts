// Chat sessions go to their threads over each worker's events port, not as Piscina tasks, and
// their outcomes come back batched with the events (src/call/channel.ts), so a result crosses once and
// after every delta of its session. Piscina still starts, replaces and terminates the threads; a
// thread that goes fails the runs it had, as a dead Piscina task would. A Piscina task cost the
// main thread ~20 µs (its task record, async resource, balancer and one message each way).
import type { MessagePort } from 'node:worker_threads';
import type { SessionTask, TaskMessage, TaskOutcome } from '../protocol.ts';

interface Lane {
  readonly port: MessagePort;
  /** Runs sent to this thread and not yet settled. */
  running: number;
}

interface Pending {
  readonly run: number;
  readonly threadId: number;
  readonly resolve: (outcome: TaskOutcome) => void;
  readonly reject: (error: Error) => void;
}

export class SessionLanes {
  readonly #lanes = new Map<number, Lane>();
  readonly #pending = new Map<string, Pending>();
  /** Tasks that came before any thread could take them. */
  #waiting: Array<{ task: SessionTask; settle: Omit<Pending, 'threadId' | 'run'> }> = [];
  /** Holds the host open while runs wait for a thread (Piscina's new workers are unref'd). */
  #keepAlive: NodeJS.Timeout | undefined;

  /** A thread's events port is up: it takes sessions from now on. */
  attach(threadId: number, port: MessagePort): void {
    this.#lanes.set(threadId, { port, running: 0 });
    const waiting = this.#waiting;
    this.#waiting = [];
    clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    for (const { task, settle } of waiting) this.#assign(task, settle.resolve, settle.reject);
  }

  /** The thread is gone: the runs it had fail as crashed. */
  detach(threadId: number): void {
    const lane = this.#lanes.get(threadId);
    if (lane === undefined) return;
    this.#lanes.delete(threadId);
    for (const [sessionId, pending] of this.#pending) {
      if (pending.threadId !== threadId) continue;
      this.#pending.delete(sessionId);
      pending.reject(new Error(`its worker thread (${threadId}) exited`));
    }
  }

  run(task: SessionTask): Promise<TaskOutcome> {
    const { promise, resolve, reject } = Promise.withResolvers<TaskOutcome>();
    if (this.#lanes.size > 0) this.#assign(task, resolve, reject);
    else {
      this.#waiting.push({ task, settle: { resolve, reject } });
      this.#keepAlive ??= setInterval(() => {}, 60_000);
    }
    return promise;
  }

  /** Outcomes a thread reported; one of an older run (or of a thread already given up) is ignored. */
  settle(outcomes: ReadonlyArray<{ sessionId: string; run: number; outcome: TaskOutcome }>): void {
    for (const { sessionId, run, outcome } of outcomes) {
      const pending = this.#pending.get(sessionId);
      if (pending === undefined || pending.run !== run) continue;
      this.#pending.delete(sessionId);
      const lane = this.#lanes.get(pending.threadId);
      if (lane !== undefined && --lane.running === 0) lane.port.unref();
      pending.resolve(outcome);
    }
  }

  /** Runs in flight on `threadId`. */
  runningOn(threadId: number): number {
    return this.#lanes.get(threadId)?.running ?? 0;
  }

  /**
   * The least busy thread takes the task, sent at once: a host that blocks its thread right after
   * submitting (a render, a simulation step) must not hold its sessions back. Batching the sessions
   * of a turn into one message (setImmediate) saved ~5 µs a session, and cost such a host a slice.
   */
  #assign(task: SessionTask, resolve: Pending['resolve'], reject: Pending['reject']): void {
    let best: [number, Lane] | undefined;
    for (const entry of this.#lanes) if (best === undefined || entry[1].running < best[1].running) best = entry;
    const [threadId, lane] = best as [number, Lane];
    // A port with runs in flight keeps the host alive, as a Piscina task would.
    if (lane.running++ === 0) lane.port.ref();
    this.#pending.set(task.sessionId, { run: task.run, threadId, resolve, reject });
    const message: TaskMessage = { type: 'task', task };
    try {
      lane.port.postMessage(message);
    } catch (error) {
      // A task that cannot be sent never ran: it fails like a thread that died before starting it.
      this.#pending.delete(task.sessionId);
      if (--lane.running === 0) lane.port.unref();
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
