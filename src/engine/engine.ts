// The session engine: admit, dispatch, settle, release. Every admitted session is driven through
// the session machine by explicit events (its compiled table, or an actor when inspected) and released exactly once, whatever the worker does. How a
// stopped session's worker is told lives in src/engine/abort-router.ts; what user code does (listeners, observers,
// onDelta) never reaches this control flow: `emit` and `report` absorb it.
import { createActor } from 'xstate';
import { abortError, isWorkerTimeout } from '../errors/abort-reasons.ts';
import type { AbortReason, TransitionEvent } from '../types/session.ts';
import { AbortRouter } from './abort-router.ts';
import { QueueFullError, WorkerCrashedError, fromWireError, TaskRefusedError } from '../errors/errors.ts';
import type { WireError } from '../types/errors.ts';
import { scrub } from '../util/log.ts';
import type { InspectOption } from '../types/options.ts';
import type { EventBatch, SessionTask, TaskOutcome } from '../wire/protocol.ts';
import type { RunReceiver, SessionSpec } from '../seam/seam.ts';
import { initialLifecycle, step } from './session/lifecycle.ts';
import { sessionMachine, type SessionEvent, type SessionInput } from './session/machine.ts';
import { Admission } from './admission.ts';
import { deliverRest } from './delivery.ts';
import { guardInspect } from './listener-errors.ts';
import { scrubHeaders, withCause } from './parts.ts';
import { logRelease, transitionEvent } from './reporting.ts';
import { applyWorkerEvent, reportStart, type WorkerEventContext } from './worker-events.ts';
import { stateOf, type SessionRecord } from './session-record.ts';
import type { EngineDeps } from './engine-deps.ts';

export class SessionEngine {
  readonly #deps: EngineDeps;
  readonly #admission: Admission<SessionRecord>;
  readonly #aborts: AbortRouter;
  readonly #inspect: InspectOption | undefined;
  readonly #sessions = new Map<string, SessionRecord>();
  // Sessions given up on (released) whose run has not ended: they still hold their slot, and a
  // late report of where they run lets their thread be killed.
  readonly #unsettled = new Map<string, SessionRecord>();
  readonly #requestIds = new Set<string>();
  #idle: Array<() => void> = [];
  readonly #events: WorkerEventContext;
  /** Every run's end comes here; the task's sessionId and run find the session it belongs to. */
  readonly #runs: RunReceiver = {
    settled: (task, outcome) => {
      const record = this.#runOf(task);
      if (record !== undefined) this.#settle(record, outcome);
    },
    crashed: (task, error) => {
      const record = this.#runOf(task);
      if (record !== undefined) this.#crashed(record, error);
    },
  };

  constructor(maxConcurrent: number, maxQueue: number, deps: EngineDeps) {
    this.#deps = deps;
    this.#admission = new Admission(maxConcurrent, maxQueue);
    this.#inspect = deps.inspect && guardInspect(deps.inspect, (error, sessionId) => deps.report(error, 'inspect', sessionId));
    this.#aborts = new AbortRouter({
      clock: deps.clock,
      transport: deps.dispatcher,
      graceMs: deps.abortGraceMs,
      logger: deps.logger,
      giveUp: (record) => this.#release(record as SessionRecord),
    });
    this.#events = { deps, aborts: this.#aborts, send: (record, event) => this.#send(record, event) };
  }

  get active(): number {
    return this.#sessions.size;
  }

  get queued(): number {
    return this.#admission.queued;
  }

  get running(): number {
    return this.#admission.running;
  }

  hasRequestId(requestId: string): boolean {
    return this.#requestIds.has(requestId);
  }

  /** Admits a session (or refuses it with ERR_QUEUE_FULL) and returns its outcome. */
  submit(spec: SessionSpec): Promise<unknown> {
    const { resolve, reject, promise } = Promise.withResolvers<unknown>();
    const now = this.#deps.clock.now();
    const input: SessionInput = { sessionId: spec.sessionId, requestId: spec.requestId, kind: spec.kind, provider: spec.provider, model: spec.model, at: now };
    // An actor only for the inspector's sake: it sees every session's events and snapshots.
    const actor = this.#inspect === undefined ? undefined : createActor(sessionMachine, { input, inspect: this.#inspect });
    const { state, context } = initialLifecycle(input);
    const record: SessionRecord = {
      spec,
      state,
      context,
      actor,
      resolve,
      reject,
      admittedAt: now,
      deadlineAt: now + spec.timeoutMs,
      holdsSlot: false,
      running: false,
      released: false,
      streamed: false,
      delivered: 0,
      crashRetries: 0,
      run: 0,
      reportedRun: 0,
    };
    const admit = this.#admission.admit(spec.sessionId, record);
    if (admit === 'reject') {
      this.#deps.metrics.rejected.queueFull++;
      throw new QueueFullError(`The queue is full (${this.#admission.maxQueue} sessions waiting, ${this.#admission.running} running)`, spec);
    }
    record.holdsSlot = admit === 'run';
    this.#sessions.set(spec.sessionId, record);
    this.#requestIds.add(spec.requestId);
    this.#deps.metrics.admitted++;
    actor?.start();
    this.#deps.metrics.transition(undefined, 'created');
    // Deadline and signal first: a `created` listener may already abort the session.
    record.deadline = this.#deps.clock.setTimer(() => this.#stop(record, 'timeout'), spec.timeoutMs);
    if (spec.signal) {
      const onAbort = () => this.#stop(record, 'aborted');
      spec.signal.addEventListener('abort', onAbort, { once: true });
      record.detachSignal = () => spec.signal?.removeEventListener('abort', onAbort);
    }
    this.#announce(record, null, 'created', now);
    if (admit === 'run' && stateOf(record) === 'created') this.#dispatch(record);
    return promise;
  }

  /** Aborts every session not yet settled (shutdown). */
  abortAll(reason: AbortReason): number {
    let count = 0;
    for (const record of [...this.#sessions.values()]) {
      const state = stateOf(record);
      if (state === 'created' || state === 'processing') {
        this.#stop(record, reason);
        count++;
      }
    }
    return count;
  }

  /** Resolves once no session is left (every one released). */
  whenIdle(): Promise<void> {
    if (this.#sessions.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** A worker just opened its channels: aborts that found no worker to tell are told to it too. */
  workerReady(threadId: number): void {
    this.#aborts.workerReady([...this.#sessions.values(), ...this.#unsettled.values()], threadId);
  }

  /** Events from the workers, in batches. */
  receive(batch: EventBatch): void {
    const at = this.#deps.clock.now();
    for (const event of batch.events) {
      const record = this.#sessions.get(event.sessionId);
      if (record === undefined) {
        const unsettled = this.#unsettled.get(event.sessionId);
        if (unsettled && event.type === 'started') this.#aborts.started(unsettled, batch.threadId, event.run);
        continue;
      }
      applyWorkerEvent(this.#events, record, event, batch.threadId, at);
    }
  }

  #dispatch(record: SessionRecord): void {
    record.holdsSlot = true;
    const gate = this.#deps.gate;
    if (gate === undefined) return this.#start(record);
    gate.wait(
      record.spec,
      record.deadlineAt,
      () => this.#start(record),
      (error) => this.#refuse(record, error),
    );
  }

  #start(record: SessionRecord): void {
    if (stateOf(record) !== 'created') return;
    this.#send(record, { type: 'DISPATCH', at: this.#deps.clock.now() });
    // A `processing` listener may have stopped it already: no call was made, nothing to wait for.
    if (stateOf(record) !== 'processing') return this.#release(record);
    this.#run(record);
  }

  /** The gate refused the session before it was sent (every target's circuit open). */
  #refuse(record: SessionRecord, cause: WireError): void {
    if (stateOf(record) !== 'created') return;
    const error = this.#wireError(record, cause);
    this.#send(record, { type: 'FAIL', at: this.#deps.clock.now(), error });
    record.reject(fromWireError(error, record.spec));
    this.#release(record);
  }

  #run(record: SessionRecord): void {
    const budgetMs = Math.max(1, record.deadlineAt - this.#deps.clock.now());
    record.run++;
    record.running = true;
    const task = { ...record.spec.task, budgetMs, run: record.run } as SessionTask;
    record.task = task;
    this.#deps.dispatcher.run(task, this.#runs);
  }

  /** The session whose current run this is: a session given up on is still found until its run ends. */
  #runOf(task: SessionTask): SessionRecord | undefined {
    const record = this.#sessions.get(task.sessionId) ?? this.#unsettled.get(task.sessionId);
    return record?.running && record.run === task.run ? record : undefined;
  }

  /** The worker confirmed the call is over: settle the caller (unless already told) and release. */
  #settle(record: SessionRecord, outcome: TaskOutcome): void {
    this.#runEnded(record);
    // Where it ran, for the transitions that follow.
    record.threadId = outcome.threadId;
    if (stateOf(record) === 'processing') {
      const at = this.#deps.clock.now();
      reportStart(this.#deps, record, outcome.threadId, at);
      // Runs lost to a crashed thread count as attempts too.
      const attempts = outcome.attempts + record.crashRetries;
      if (outcome.ok) {
        deliverRest(record, outcome.value, this.#deps.logger);
        this.#send(record, { type: 'COMPLETE', at, attempts });
        record.resolve(record.spec.toValue(outcome.value, this.#summary(record, at, attempts, outcome.host), record.spec.metadata));
      } else if (isWorkerTimeout(outcome.error)) {
        // The worker kept the deadline on its own, before the supervisor's timer: the same timeout.
        this.#end(record, 'timeout');
      } else {
        const error = this.#wireError(record, outcome.error);
        this.#send(record, { type: 'FAIL', at, error, attempts });
        record.reject(fromWireError(error, record.spec));
      }
    }
    this.#release(record);
  }

  /** The run did not settle: its thread died or was killed, or the pool refused the task. */
  #crashed(record: SessionRecord, cause: unknown): void {
    this.#runEnded(record);
    if (stateOf(record) === 'processing') {
      if (cause instanceof TaskRefusedError) {
        this.#fail(record, new QueueFullError(`The worker pool refused the session: ${cause.message}`, record.spec).toJSON());
      } else if (this.#mayRunAgain(record)) {
        return this.#runAgain(record, cause);
      } else {
        this.#deps.metrics.crashed++;
        const error = new WorkerCrashedError(`The worker running this session crashed: ${describe(cause)}`, record.spec);
        this.#fail(record, error.toJSON());
      }
    }
    this.#release(record);
  }

  #mayRunAgain(record: SessionRecord): boolean {
    return record.spec.retryOnCrash && !record.streamed && record.crashRetries === 0 && record.abortReason === undefined && !record.released;
  }

  #runAgain(record: SessionRecord, cause: unknown): void {
    this.#deps.metrics.crashed++;
    record.crashRetries++;
    const attempt = record.context.attempts + 1;
    const error: WireError = { code: 'ERR_WORKER_CRASHED', name: 'WorkerCrashedError', message: describe(cause), retryable: true };
    this.#send(record, { type: 'RETRY', at: this.#deps.clock.now(), attempt, error });
    this.#deps.logger?.warn({ sessionId: record.spec.sessionId, err: error.message }, 'worker crashed; session run again on another worker');
    this.#run(record);
  }

  #fail(record: SessionRecord, error: WireError): void {
    const attempts = record.context.attempts;
    this.#send(record, { type: 'FAIL', at: this.#deps.clock.now(), error, attempts });
    record.reject(fromWireError(error, record.spec));
  }

  /** Deadline or abort: the caller is told at once; the slot stays taken until the run ends. */
  #stop(record: SessionRecord, reason: AbortReason): void {
    const state = stateOf(record);
    if (state !== 'created' && state !== 'processing') return;
    this.#end(record, reason);
    if (!record.running) {
      this.#admission.withdraw(record.spec.sessionId);
      return this.#release(record);
    }
    this.#aborts.stop(record, reason);
  }

  /** The caller-facing end of a stopped session: TIMEOUT or ABORT, and the one error that says so. */
  #end(record: SessionRecord, reason: AbortReason): void {
    const error = abortError(reason, record.spec, record.spec.timeoutMs);
    this.#send(record, { type: reason === 'timeout' ? 'TIMEOUT' : 'ABORT', at: this.#deps.clock.now(), error: error.toJSON() });
    record.reject(withCause(error, reason === 'aborted' ? record.spec.signal?.reason : undefined));
  }

  #runEnded(record: SessionRecord): void {
    record.running = false;
    this.#aborts.runEnded(record);
    // A session given up on (released before its run ended) kept its slot until now.
    if (record.released && this.#unsettled.delete(record.spec.sessionId)) this.#freeSlot(record);
  }

  #release(record: SessionRecord): void {
    // A session given up on may be followed by the worker's late answer: release once.
    if (record.released) return;
    record.released = true;
    const { spec } = record;
    record.deadline?.cancel();
    if (!record.running) record.kill?.cancel();
    record.detachSignal?.();
    this.#deps.gate?.released(spec.sessionId);
    const at = this.#deps.clock.now();
    const context = record.context;
    if (context.outcome !== undefined) this.#deps.metrics.outcome(context.outcome, spec.provider, at - record.admittedAt);
    logRelease(this.#deps.logger, record, at);
    this.#send(record, { type: 'RELEASE', at });
    record.actor?.stop();
    this.#sessions.delete(spec.sessionId);
    this.#requestIds.delete(spec.requestId);
    if (record.running) this.#unsettled.set(spec.sessionId, record);
    else this.#freeSlot(record);
    if (this.#sessions.size === 0 && this.#idle.length > 0) {
      const waiters = this.#idle;
      this.#idle = [];
      for (const resolve of waiters) resolve();
    }
  }

  #freeSlot(record: SessionRecord): void {
    if (!record.holdsSlot) return;
    record.holdsSlot = false;
    const next = this.#admission.release();
    if (next !== undefined) this.#dispatch(next);
  }

  #send(record: SessionRecord, event: SessionEvent): void {
    const from = stateOf(record);
    const { actor } = record;
    if (actor === undefined) step(record, event);
    else {
      actor.send(event);
      const snapshot = actor.getSnapshot();
      record.state = snapshot.value;
      record.context = snapshot.context;
    }
    const to = stateOf(record);
    if (from === to) return;
    this.#deps.metrics.transition(from, to);
    this.#announce(record, from, to, event.at);
  }

  #announce(record: SessionRecord, from: TransitionEvent['from'], to: TransitionEvent['to'], at: number): void {
    if (this.#deps.listening('transition')) this.#deps.emit('transition', transitionEvent(record, from, to, at));
  }

  #wireError(record: SessionRecord, error: WireError): WireError {
    const scrubbed: WireError = {
      ...error,
      message: scrub(error.message, record.spec.secrets),
      sessionId: record.spec.sessionId,
      requestId: record.spec.requestId,
    };
    if (error.headers !== undefined) scrubbed.headers = scrubHeaders(error.headers, record.spec.secrets);
    return scrubbed;
  }

  #summary(record: SessionRecord, at: number, attempts: number, host?: string) {
    const { sessionId, requestId } = record.spec;
    const summary = { sessionId, requestId, durationSeconds: (at - record.admittedAt) / 1000, attempts, crashRetries: record.crashRetries };
    return host === undefined ? summary : { ...summary, host };
  }
}

function describe(cause: unknown): string {
  try {
    return cause instanceof Error ? cause.message : String(cause);
  } catch {
    return 'the thread ended';
  }
}
