// Chat sessions go to their threads over each worker's events port, not as Piscina tasks: the
// sessions admitted in one event-loop turn leave together, one message per thread, and their
// outcomes come back batched with the events (src/call/channel.ts), so a result crosses once and
// after every delta of its session. Piscina still starts, replaces and terminates the threads; a
// thread that goes fails the runs it had, as a dead Piscina task would. A Piscina task cost the
// main thread ~20 µs (its task record, async resource, balancer and one message each way).
import type { MessagePort } from 'node:worker_threads';
import type { SessionTask, TaskBatch, TaskOutcome } from '../protocol.ts';

interface Lane {
  readonly port: MessagePort;
  /** Runs sent to this thread and not yet settled. */
  running: number;
  /** Tasks for this thread, to leave at the end of this turn. */
  outbox: SessionTask[];
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
  #flushing = false;
  readonly #flush = () => this.#send();

  /** A thread's events port is up: it takes sessions from now on. */
  attach(threadId: number, port: MessagePort): void {
    this.#lanes.set(threadId, { port, running: 0, outbox: [] });
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

  /** The least busy thread takes the task; it leaves with the others of this turn. */
  #assign(task: SessionTask, resolve: Pending['resolve'], reject: Pending['reject']): void {
    let best: [number, Lane] | undefined;
    for (const entry of this.#lanes) if (best === undefined || entry[1].running < best[1].running) best = entry;
    const [threadId, lane] = best as [number, Lane];
    // A port with runs in flight keeps the host alive, as a Piscina task would.
    if (lane.running++ === 0) lane.port.ref();
    lane.outbox.push(task);
    this.#pending.set(task.sessionId, { run: task.run, threadId, resolve, reject });
    if (!this.#flushing) {
      this.#flushing = true;
      setImmediate(this.#flush);
    }
  }

  #send(): void {
    this.#flushing = false;
    for (const [threadId, lane] of this.#lanes) {
      if (lane.outbox.length === 0) continue;
      const message: TaskBatch = { type: 'tasks', tasks: lane.outbox };
      lane.outbox = [];
      try {
        lane.port.postMessage(message);
      } catch (error) {
        // A task that cannot be sent never ran: it fails like a thread that died before starting it.
        this.#failSent(message.tasks, threadId, error);
      }
    }
  }

  #failSent(tasks: SessionTask[], threadId: number, error: unknown): void {
    const lane = this.#lanes.get(threadId);
    for (const task of tasks) {
      const pending = this.#pending.get(task.sessionId);
      if (pending === undefined || pending.run !== task.run) continue;
      this.#pending.delete(task.sessionId);
      if (lane !== undefined && --lane.running === 0) lane.port.unref();
      pending.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
