// Chat sessions go to their threads over each worker's events port, not as Piscina tasks, and
// their outcomes come back batched with the events (src/worker/call/channel.ts), so a result crosses once and
// after every delta of its session. Piscina still starts, replaces and terminates the threads; a
// thread that goes fails the runs it had, as a dead Piscina task would. A Piscina task cost the
// main thread ~20 µs (its task record, async resource, balancer and one message each way).
import type { MessagePort } from 'node:worker_threads';
import type { SessionTask, TaskMessage, TaskOutcome } from '../wire/protocol.ts';
import type { RunReceiver } from '../seam/seam.ts';

interface Lane {
  readonly threadId: number;
  readonly port: MessagePort;
  /** Runs sent to this thread and not yet settled. */
  running: number;
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

  /** A thread's events port is up: it takes sessions from now on. */
  attach(threadId: number, port: MessagePort): void {
    const lane: Lane = { threadId, port, running: 0 };
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
      pending.receiver.settled(pending.task, outcome);
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
  #assign(task: SessionTask, receiver: RunReceiver): void {
    let lane = this.#list[0] as Lane;
    for (const candidate of this.#list) if (candidate.running < lane.running) lane = candidate;
    const { threadId } = lane;
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
      // Told on the next microtask, as a thread's exit would be: never inside the caller's dispatch.
      queueMicrotask(() => receiver.crashed(task, error instanceof Error ? error : new Error(String(error))));
    }
  }
}
