// The session engine: admit, dispatch, settle, release. Every admitted session is driven through
// its XState actor by explicit events and released exactly once, whatever the worker does.
import type { Logger } from 'pino';
import { createActor } from 'xstate';
import type { Clock } from '../clock.ts';
import { QueueFullError, WorkerCrashedError, fromWireError, type WireError } from '../errors.ts';
import { scrub } from '../log.ts';
import type { SessionMetrics } from '../metrics.ts';
import type { InspectOption } from '../options.ts';
import type { AbortReason, EventBatch, SessionTask, TaskOutcome } from '../protocol.ts';
import type { Dispatcher } from '../pool/pool.ts';
import { sessionMachine, type SessionEvent } from '../session/machine.ts';
import { Admission } from './admission.ts';
import { logRelease, transitionEvent } from './reporting.ts';
import { stateOf, type RetryEvent, type SessionRecord, type SessionSpec, type StartedEvent, type TransitionEvent } from './session-record.ts';

export interface EngineDeps {
  clock: Clock;
  dispatcher: Dispatcher;
  metrics: SessionMetrics;
  logger: Logger | undefined;
  inspect: InspectOption | undefined;
  abortGraceMs: number;
  /** The supervisor's own events; each is built only when someone listens (`listening`). */
  emit<K extends keyof EngineEvents>(type: K, event: EngineEvents[K][0]): void;
  listening(type: keyof EngineEvents): boolean;
}

const ABORT_MESSAGES: Record<AbortReason, [code: string, name: string, message: string]> = {
  timeout: ['ERR_SESSION_TIMEOUT', 'SessionTimeoutError', 'The session reached its deadline of %d ms'],
  aborted: ['ERR_SESSION_ABORTED', 'SessionAbortedError', 'The session was aborted by its caller'],
  closed: ['ERR_SESSION_ABORTED', 'SessionAbortedError', 'The session was aborted because the supervisor closed'],
};

export interface EngineEvents {
  transition: [TransitionEvent];
  started: [StartedEvent];
  retry: [RetryEvent];
}

export class SessionEngine {
  readonly #deps: EngineDeps;
  readonly #admission: Admission<SessionRecord>;
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #requestIds = new Set<string>();
  #idle: Array<() => void> = [];

  constructor(maxConcurrent: number, maxQueue: number, deps: EngineDeps) {
    this.#deps = deps;
    this.#admission = new Admission(maxConcurrent, maxQueue);
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
    const actor = createActor(sessionMachine, {
      input: { sessionId: spec.sessionId, requestId: spec.requestId, kind: spec.kind, provider: spec.provider, model: spec.model, at: now },
      ...(this.#deps.inspect !== undefined ? { inspect: this.#deps.inspect } : {}),
    });
    const record: SessionRecord = {
      spec, actor, resolve, reject, admittedAt: now, deadlineAt: now + spec.timeoutMs,
      holdsSlot: false, released: false, streamed: false, delivered: 0, crashRetries: 0,
    };
    const admit = this.#admission.admit(spec.sessionId, record);
    if (admit === 'reject') {
      this.#deps.metrics.rejected.queueFull++;
      throw new QueueFullError(`The queue is full (${this.#admission.maxQueue} sessions waiting, ${this.#admission.running} running)`, spec);
    }
    this.#sessions.set(spec.sessionId, record);
    this.#requestIds.add(spec.requestId);
    this.#deps.metrics.admitted++;
    actor.start();
    this.#deps.metrics.transition(undefined, 'created');
    this.#announce(record, null, 'created', now);
    record.deadline = this.#deps.clock.setTimer(() => this.#stop(record, 'timeout'), spec.timeoutMs);
    if (spec.signal) {
      const onAbort = () => this.#stop(record, 'aborted');
      spec.signal.addEventListener('abort', onAbort, { once: true });
      record.detachSignal = () => spec.signal?.removeEventListener('abort', onAbort);
    }
    if (admit === 'run') this.#dispatch(record);
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

  /**
   * A worker just opened its channels: aborts that found no worker to tell (asked for before any
   * worker was up, or before the task reached one) are told to it too.
   */
  workerReady(threadId: number): void {
    for (const record of this.#sessions.values()) {
      if (record.abortReason !== undefined && record.threadId === undefined) this.#tellAbort(record, threadId, record.abortReason);
    }
  }

  /** Events from the workers, in batches. */
  receive(batch: EventBatch): void {
    const at = this.#deps.clock.now();
    for (const event of batch.events) {
      const record = this.#sessions.get(event.sessionId);
      if (record === undefined) continue;
      switch (event.type) {
        case 'started':
          record.threadId = batch.threadId;
          if (this.#deps.listening('started')) {
            const { sessionId, requestId } = record.spec;
            this.#deps.emit('started', { sessionId, requestId, threadId: batch.threadId, at, attempt: record.actor.getSnapshot().context.attempts });
          }
          break;
        case 'retry':
          this.#deps.metrics.retried++;
          this.#send(record, { type: 'RETRY', at, attempt: event.attempt, error: event.error });
          if (this.#deps.listening('retry')) {
            const { sessionId, requestId, provider } = record.spec;
            this.#deps.emit('retry', { sessionId, requestId, provider, attempt: event.attempt, delayMs: event.delayMs, error: retryError(event.error), at });
          }
          break;
        case 'delta':
          record.streamed = true;
          if (stateOf(record) === 'processing') this.#deliver(record, event.text);
          break;
        case 'continuation':
          this.#deps.logger?.debug({ sessionId: event.sessionId, round: event.round }, 'continuation round');
          break;
      }
    }
  }

  #deliver(record: SessionRecord, text: string): void {
    record.delivered += text.length;
    try {
      record.spec.onDelta?.(text);
    } catch (error) {
      this.#deps.logger?.warn({ sessionId: record.spec.sessionId, err: error }, 'onDelta threw; the delta was dropped');
    }
  }

  /**
   * The result and the last delta batch travel on different ports, so the result may come first:
   * hand the caller whatever text it has not seen yet, so that the deltas always add up to the answer.
   */
  #deliverRest(record: SessionRecord, value: unknown): void {
    if (record.spec.onDelta === undefined) return;
    const content = (value as { content?: unknown }).content;
    if (typeof content === 'string' && content.length > record.delivered) this.#deliver(record, content.slice(record.delivered));
  }

  #dispatch(record: SessionRecord): void {
    record.holdsSlot = true;
    this.#send(record, { type: 'DISPATCH', at: this.#deps.clock.now() });
    this.#run(record);
  }

  #run(record: SessionRecord): void {
    const budgetMs = Math.max(1, record.deadlineAt - this.#deps.clock.now());
    const task = { ...record.spec.task, budgetMs } as SessionTask;
    this.#deps.dispatcher.run(task).then(
      (outcome) => this.#settle(record, outcome),
      (error: unknown) => this.#crashed(record, error),
    );
  }

  /** The worker confirmed the call is over: settle the caller (unless already told) and release. */
  #settle(record: SessionRecord, outcome: TaskOutcome): void {
    record.threadId = outcome.threadId;
    if (stateOf(record) === 'processing') {
      const at = this.#deps.clock.now();
      // Runs lost to a crashed thread count as attempts too.
      const attempts = outcome.attempts + record.crashRetries;
      if (outcome.ok) {
        this.#deliverRest(record, outcome.value);
        this.#send(record, { type: 'COMPLETE', at, attempts });
        record.resolve(record.spec.toValue(outcome.value, this.#summary(record, at, attempts)));
      } else {
        const error = this.#wireError(record, outcome.error);
        this.#send(record, { type: 'FAIL', at, error, attempts });
        record.reject(fromWireError(error, record.spec));
      }
    }
    this.#release(record);
  }

  /** The thread running the session died or was killed. Retried once elsewhere if nothing was streamed. */
  #crashed(record: SessionRecord, cause: unknown): void {
    const state = stateOf(record);
    const message = cause instanceof Error ? cause.message : String(cause);
    if (state === 'processing') {
      this.#deps.metrics.crashed++;
      const attempts = record.actor.getSnapshot().context.attempts;
      if (!record.streamed && record.crashRetries === 0 && record.abortReason === undefined) {
        record.crashRetries++;
        record.threadId = undefined;
        const error: WireError = { code: 'ERR_WORKER_CRASHED', name: 'WorkerCrashedError', message, retryable: true };
        this.#send(record, { type: 'RETRY', at: this.#deps.clock.now(), attempt: attempts + 1, error });
        this.#deps.logger?.warn({ sessionId: record.spec.sessionId, err: message }, 'worker crashed; session retried on another worker');
        return this.#run(record);
      }
      const error = new WorkerCrashedError(`The worker running this session crashed: ${message}`, record.spec);
      this.#send(record, { type: 'FAIL', at: this.#deps.clock.now(), error: error.toJSON(), attempts });
      record.reject(error);
    }
    this.#release(record);
  }

  /** Deadline or abort: the caller is told at once; the slot stays taken until the worker confirms. */
  #stop(record: SessionRecord, reason: AbortReason): void {
    const state = stateOf(record);
    if (state !== 'created' && state !== 'processing') return;
    const [code, name, template] = ABORT_MESSAGES[reason];
    const error: WireError = { code, name, message: template.replace('%d', String(record.spec.timeoutMs)) };
    this.#send(record, { type: reason === 'timeout' ? 'TIMEOUT' : 'ABORT', at: this.#deps.clock.now(), error });
    record.reject(fromWireError(error, record.spec));
    if (state === 'created') {
      this.#admission.withdraw(record.spec.sessionId);
      return this.#release(record);
    }
    record.abortReason = reason;
    this.#tellAbort(record, record.threadId, reason);
    record.kill = this.#deps.clock.setTimer(() => this.#kill(record), this.#deps.abortGraceMs);
  }

  /** Asks `threadId` (every worker when undefined) to abort the session, and learns where it runs. */
  #tellAbort(record: SessionRecord, threadId: number | undefined, reason: AbortReason): void {
    void this.#deps.dispatcher.abort(threadId, record.spec.sessionId, reason).then((found) => {
      record.threadId ??= found;
    });
  }

  /**
   * The worker did not confirm the abort within the grace period: its thread is terminated, which
   * fails this session's run (then released) and retries the others on it. A session that never said
   * where it runs cannot be killed; it is released after a second grace period so that it is not lost.
   */
  #kill(record: SessionRecord): void {
    const { sessionId } = record.spec;
    if (record.threadId !== undefined && this.#deps.dispatcher.kill(record.threadId)) {
      this.#deps.logger?.warn({ sessionId, threadId: record.threadId }, 'aborted session did not settle in time; its thread was terminated');
      return;
    }
    record.kill = this.#deps.clock.setTimer(() => {
      this.#deps.logger?.error({ sessionId }, 'aborted session never settled nor reported its thread; released without confirmation');
      this.#release(record);
    }, this.#deps.abortGraceMs);
  }

  #release(record: SessionRecord): void {
    // A forced release (see #kill) may be followed by the worker's late answer: release once.
    if (record.released) return;
    record.released = true;
    const { spec } = record;
    record.deadline?.cancel();
    record.kill?.cancel();
    record.detachSignal?.();
    const at = this.#deps.clock.now();
    const context = record.actor.getSnapshot().context;
    if (context.outcome !== undefined) this.#deps.metrics.outcome(context.outcome, spec.provider, at - record.admittedAt);
    logRelease(this.#deps.logger, record, at);
    this.#send(record, { type: 'RELEASE', at });
    record.actor.stop();
    this.#sessions.delete(spec.sessionId);
    this.#requestIds.delete(spec.requestId);
    if (record.holdsSlot) {
      record.holdsSlot = false;
      const next = this.#admission.release();
      if (next !== undefined) this.#dispatch(next);
    }
    if (this.#sessions.size === 0 && this.#idle.length > 0) {
      const waiters = this.#idle;
      this.#idle = [];
      for (const resolve of waiters) resolve();
    }
  }

  #send(record: SessionRecord, event: SessionEvent): void {
    const from = stateOf(record);
    record.actor.send(event);
    const to = stateOf(record);
    if (from === to) return;
    this.#deps.metrics.transition(from, to);
    this.#announce(record, from, to, event.at);
  }

  #announce(record: SessionRecord, from: TransitionEvent['from'], to: TransitionEvent['to'], at: number): void {
    if (this.#deps.listening('transition')) this.#deps.emit('transition', transitionEvent(record, from, to, at));
  }

  #wireError(record: SessionRecord, error: WireError): WireError {
    return { ...error, message: scrub(error.message, record.spec.secrets), sessionId: record.spec.sessionId, requestId: record.spec.requestId };
  }

  #summary(record: SessionRecord, at: number, attempts: number) {
    const { sessionId, requestId } = record.spec;
    return { sessionId, requestId, durationSeconds: (at - record.admittedAt) / 1000, attempts };
  }
}

/** What a retry event says of the failed attempt (the status and provider code tell a 429 from a 503). */
function retryError(error: WireError): RetryEvent['error'] {
  const out: RetryEvent['error'] = { code: error.code, message: error.message };
  if (error.status !== undefined) out.status = error.status;
  if (error.providerCode !== undefined) out.providerCode = error.providerCode;
  return out;
}
