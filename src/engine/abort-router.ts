// The supervisor's end of the abort protocol. A stopped session's worker is told to abort it: the
// thread that runs the current run when known and alive, else every worker (and every worker that
// starts later); workers that were told in vain are told to forget once the run is over. A worker
// that does not confirm within the grace period loses its thread; a run that never said where it
// runs cannot be killed and is given up (released) after a second grace period — its slot stays
// taken until the run really ends, so `maxConcurrent` still bounds the calls in flight.
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../util/clock.ts';
import type { AbortReason } from '../types/session.ts';
import type { AbortTransport } from '../seam/seam.ts';

/** The abort bookkeeping of one session (part of the engine's record). */
export interface Abortable {
  readonly spec: { readonly sessionId: string };
  /** The current run (1, then 2 after a crash retry): reports of older runs are ignored. */
  run: number;
  /** The task of the current run, as handed to the pool (marked when stopped before it was posted). */
  task?: { abort?: AbortReason };
  threadId?: number;
  /** An abort asked for and not yet confirmed by the run ending. */
  abortReason?: AbortReason;
  /** Every worker was told: they must be told to forget when the run ends. */
  toldEveryWorker?: boolean;
  /** The one thread told (it keeps the abort if the run had just ended there). */
  toldThread?: number;
  /** The grace period ran out before the thread was known: kill as soon as it is. */
  killWhenKnown?: boolean;
  kill?: TimerHandle;
}

export interface AbortRouterDeps {
  clock: Clock;
  transport: AbortTransport;
  graceMs: number;
  logger: Logger | undefined;
  /** The run never confirmed nor said where it runs: release the session (its slot stays taken). */
  giveUp(record: Abortable): void;
}

export class AbortRouter {
  readonly #deps: AbortRouterDeps;

  constructor(deps: AbortRouterDeps) {
    this.#deps = deps;
  }

  /** The session was stopped while its run was in flight. */
  stop(record: Abortable, reason: AbortReason): void {
    record.abortReason = reason;
    if (record.task !== undefined) record.task.abort = reason;
    this.#tell(record, record.threadId);
    record.kill = this.#deps.clock.setTimer(() => this.#escalate(record), this.#deps.graceMs);
  }

  /** A worker reported where a run of the session runs. */
  started(record: Abortable, threadId: number, run: number): void {
    if (run !== record.run) return;
    record.threadId = threadId;
    if (record.killWhenKnown === true) this.#killNow(record);
  }

  /** A worker just opened its channels: aborts that found no thread are told to it too. */
  workerReady(records: Iterable<Abortable>, threadId: number): void {
    for (const record of records) {
      if (record.abortReason === undefined || record.threadId !== undefined) continue;
      record.toldEveryWorker = true;
      this.#ask(record, threadId);
    }
  }

  /** A run is over (settled, crashed or refused): forget what was kept for it, start afresh. */
  runEnded(record: Abortable): void {
    record.kill?.cancel();
    record.kill = undefined;
    record.killWhenKnown = undefined;
    record.threadId = undefined;
    if (record.toldEveryWorker === true) this.#deps.transport.forget(record.spec.sessionId);
    else if (record.toldThread !== undefined) this.#deps.transport.forget(record.spec.sessionId, record.toldThread);
    record.toldEveryWorker = undefined;
    record.toldThread = undefined;
    record.task = undefined;
  }

  #tell(record: Abortable, threadId: number | undefined): void {
    const known = threadId !== undefined && this.#deps.transport.reaches(threadId);
    if (known) record.toldThread = threadId;
    else record.toldEveryWorker = true;
    this.#ask(record, known ? threadId : undefined);
  }

  #ask(record: Abortable, threadId: number | undefined): void {
    const { run } = record;
    void this.#deps.transport.abort(threadId, record.spec.sessionId, record.abortReason!).then((found) => {
      if (found !== undefined) this.started(record, found, run);
    });
  }

  #escalate(record: Abortable): void {
    if (record.threadId !== undefined && this.#killNow(record)) return;
    record.killWhenKnown = true;
    record.kill = this.#deps.clock.setTimer(() => {
      this.#deps.logger?.error(
        { sessionId: record.spec.sessionId },
        'aborted session never settled nor reported its thread; released, its slot kept until the call ends',
      );
      this.#deps.giveUp(record);
    }, this.#deps.graceMs);
  }

  #killNow(record: Abortable): boolean {
    if (record.threadId === undefined || !this.#deps.transport.kill(record.threadId)) return false;
    record.killWhenKnown = undefined;
    this.#deps.logger?.warn(
      { sessionId: record.spec.sessionId, threadId: record.threadId },
      'aborted session did not settle in time; its thread was terminated',
    );
    return true;
  }
}
