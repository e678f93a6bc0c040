// The producer's end of the BullMQ transport: the engine's Dispatcher, and the gate that keeps a
// session in `created` while its job waits in Redis. A session's job is added when the gate is
// reached; the worker host's first progress message ("picked") lets the session go to
// `processing` and the engine's run attaches to that job; the job's return value settles the run.
// A job that stalls (its worker host died) fails the run as a crash: the engine runs it again once
// (when nothing was streamed), and that run attaches to the same job, which BullMQ has put back
// in the queue. Jobs are keyed `sessionId.n`: a fallback target or a run after a crash is a new job.
//
//   gate.wait ──add──► Redis wait list ──► worker host ──progress {picked}──► go() → processing → run() attaches
//                                              │ progress {events} ──► onBatch (deltas, retries)
//                                              └ return value ──► completed ──► run resolves (or rejects: crashed)
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { abortError } from '../../errors/abort-reasons.ts';
import { InvalidRequestError, TransportError } from '../../errors/errors.ts';
import type { WireError } from '../../types/errors.ts';
import type { SessionEvent, SessionTask, TaskOutcome } from '../../wire/protocol.ts';
import { settleFrom, type RunReceiver } from '../../seam/seam.ts';
import type { DispatchGate, TransportDispatcher, TransportOptions } from '../../seam/seam.ts';
import { jsonDataIssue } from '../../util/validation.ts';
import { within } from './bounded.ts';
import { scrubRedis } from './connection.ts';
import { channelOf, queuedTask, type AbortMessage, type JobData, type JobProgress } from './job.ts';
import type { ResolvedQueueOptions } from './options.ts';
import type { JobSigner } from './job-signature.ts';
import { connectProducer, type ProducerLink } from './producer-link.ts';
import { HostNumbers, ProducerCounts, RecentSet } from './producer-parts.ts';
import { ResultGuard, type ProgressCursor } from './result-guard.ts';
import { ResultSigner, sessionOfJob } from './result-signature.ts';

// How long close() waits for Redis (verdicts, the liveness key, BullMQ's own close) before letting go
// by force, and how long hosts have to answer a close abort: at most, and never past the end of the
// supervisor's close (closing()), so that close({ timeoutMs }) returns within timeoutMs.
const CLOSE_REDIS_MS = 500;

type Delivery = { outcome: TaskOutcome } | { crash: string };

interface Entry {
  readonly sessionId: string;
  seq: number;
  /** The job in Redis now, if any. */
  jobId?: string;
  data?: JobData;
  threadId?: number;
  /** Waiting in the gate for a worker host to pick the job up. */
  go?: () => void;
  fail?: (error: WireError) => void;
  run?: { resolve(outcome: TaskOutcome): void; reject(error: Error): void; timer: NodeJS.Timeout; no: number };
  /** What came back while no run was attached (a stall's re-run may answer before the engine runs again). */
  buffered?: Delivery;
  released: boolean;
  /** BullMQ put the current job back after its host stopped: a host may run it again only when told (rerun verdict). */
  stalled?: boolean;
  /** The "ended" verdict was given. */
  fenced?: boolean;
  /** The last progress message taken for the current job (result-guard.ts). */
  cursor?: ProgressCursor;
}

export interface ProducerSettings extends ResolvedQueueOptions {
  lostAfterMs: number;
  eventsMaxLen: number;
  signer: JobSigner;
  producerTtlMs: number;
}

export class QueueProducer implements TransportDispatcher {
  readonly ready: Promise<void>;
  readonly gate: DispatchGate;
  readonly counts = new ProducerCounts();
  readonly #settings: ProducerSettings;
  readonly #options: TransportOptions;
  readonly #logger: Logger | undefined;
  readonly #link: Promise<ProducerLink>;
  readonly #entries = new Map<string, Entry>();
  readonly #byJob = new Map<string, Entry>();
  readonly #hosts = new HostNumbers();
  readonly #finished = new RecentSet(100_000);
  /** Jobs of ended sessions that could not be removed while Redis was away. */
  readonly #unremoved = new Set<string>();
  readonly #channel: string;
  /** Named in every job: hosts refuse the jobs of a producer whose liveness key is gone. */
  readonly #id = randomUUID();
  /** When the supervisor's close must be over (performance.now()), once it began with a timeout. */
  #closeBy: number | undefined;
  /** What comes back from Redis reaches the engine only when a worker host signed it (result-guard.ts). */
  readonly #guard: ResultGuard;

  constructor(settings: ProducerSettings, options: TransportOptions) {
    this.#settings = settings;
    this.#options = options;
    this.#logger = options.logger;
    this.#channel = channelOf(settings.prefix, settings.queueName);
    this.#guard = new ResultGuard(new ResultSigner(settings.signer), this.counts, this.#logger);
    this.#link = connectProducer(
      settings,
      this.#id,
      {
        progress: (jobId, data) => this.#progress(jobId, data),
        completed: (jobId, result) => this.#completed(jobId, result),
        failed: (jobId, reason) => this.#failedJob(jobId, reason),
        stalled: (jobId) => this.#stalled(jobId),
        reconnected: () => void this.#reconcile(),
      },
      this.#logger,
    );
    this.ready = this.#link.then(() => {});
    this.ready.catch(() => {});
    this.gate = {
      wait: (spec, deadlineAt, go, fail) => {
        // An execute session's input crosses Redis as JSON: anything else would arrive changed.
        const issue = spec.task.kind === 'execute' ? jsonDataIssue(spec.task.input, 'input') : undefined;
        if (issue !== undefined) return fail(new InvalidRequestError(`Invalid execute request: ${issue} (it goes through Redis)`, [issue]).toJSON());
        const entry = this.#entry(spec.sessionId);
        entry.go = go;
        entry.fail = fail;
        this.#enqueue(entry, options.taskFor(spec, deadlineAt));
      },
      released: (sessionId) => this.#released(sessionId),
    };
  }

  get threads(): number {
    return this.#hosts.size;
  }

  run(task: SessionTask, receiver: RunReceiver): void {
    settleFrom(this.#run(task), task, receiver);
  }

  #run(task: SessionTask): Promise<TaskOutcome> {
    const entry = this.#entry(task.sessionId);
    return new Promise<TaskOutcome>((resolve, reject) => {
      // A job nobody answers (every worker host gone) gives its slot back a while after the deadline.
      const timer = setTimeout(
        () => this.#deliver(entry, { crash: 'no worker host answered by the deadline' }),
        task.budgetMs + this.#settings.lostAfterMs,
      ).unref();
      entry.run = { resolve, reject, timer, no: task.run };
      // The engine runs the session again on the job BullMQ put back: the producer's word that it may.
      if (entry.stalled === true && entry.jobId !== undefined && entry.buffered === undefined) this.#rerun(entry);
      const buffered = entry.buffered;
      entry.buffered = undefined;
      if (buffered !== undefined) this.#deliver(entry, buffered);
      // Else it attaches to the job the gate queued (picked up) or that BullMQ put back after a stall.
      else if (entry.jobId === undefined) this.#enqueue(entry, task);
    });
  }

  abort(_threadId: number | undefined, sessionId: string, reason: AbortMessage['reason']): Promise<number | undefined> {
    const entry = this.#entries.get(sessionId);
    // The verdict first: a host that picks the job from now on sends nothing (the abort below may be lost).
    if (entry !== undefined) this.#ended(entry);
    this.#publish({ sessionId, reason });
    // The supervisor closes: its close is bounded, so a host that cannot answer (Redis away) is not waited for.
    const run = entry?.run;
    if (reason === 'closed' && entry !== undefined && run !== undefined)
      setTimeout(() => {
        if (entry.run === run) this.#deliver(entry, { crash: 'the supervisor closed before its worker host answered' });
      }, this.#closeLeft()).unref();
    const jobId = entry?.jobId;
    // Still in the queue (put back after a stall): taken out, no worker host has it.
    if (entry !== undefined && jobId !== undefined && entry.threadId === undefined) {
      void this.#remove(jobId).then((removed) => {
        if (!removed || entry.jobId !== jobId) return;
        this.#forgetJob(entry);
        this.#deliver(entry, { outcome: { ok: false, error: abortError(reason, { sessionId }).toJSON(), attempts: 0, threadId: -1 } });
      });
    }
    return Promise.resolve(entry?.threadId);
  }

  reaches(threadId: number): boolean {
    return this.#hosts.has(threadId);
  }

  // A thread on another host cannot be killed from here: its host kills it (abortGraceMs there).
  kill(): boolean {
    return false;
  }

  forget(): void {}

  reportStarts(): void {}

  closing(timeoutMs: number): void {
    this.#closeBy = performance.now() + timeoutMs;
  }

  async close(timeoutMs?: number): Promise<void> {
    const until = performance.now() + Math.min(CLOSE_REDIS_MS, timeoutMs ?? CLOSE_REDIS_MS);
    for (const entry of this.#entries.values()) this.#deliver(entry, { crash: 'the supervisor closed' });
    // Still connecting (Redis away since the start): whatever connects later is let go at once.
    if (!(await within(this.#link, until - performance.now())))
      return void this.#link.then(
        (link) => link.close(0),
        () => {},
      );
    const link = await this.#link.catch(() => undefined);
    await link?.close(Math.max(0, until - performance.now()));
  }

  /** How long to wait for Redis or the hosts now: CLOSE_REDIS_MS, less when the supervisor's close ends sooner. */
  #closeLeft(): number {
    const left = this.#closeBy === undefined ? CLOSE_REDIS_MS : this.#closeBy - performance.now();
    return Math.max(0, Math.min(CLOSE_REDIS_MS, left));
  }

  #entry(sessionId: string): Entry {
    let entry = this.#entries.get(sessionId);
    if (entry === undefined) {
      entry = { sessionId, seq: 0, released: false };
      this.#entries.set(sessionId, entry);
    }
    return entry;
  }

  #enqueue(entry: Entry, task: SessionTask): void {
    this.#add(entry, { task: queuedTask(task), deadline: Date.now() + task.budgetMs, producer: this.#id });
  }

  #add(entry: Entry, data: JobData): void {
    const jobId = `${entry.sessionId}.${++entry.seq}`;
    entry.jobId = jobId;
    entry.data = data;
    entry.threadId = undefined;
    entry.stalled = false;
    this.#byJob.set(jobId, entry);
    this.counts.queued++;
    this.#link
      // Signed for this job id: worker hosts refuse anything else (the signature throws on data that is not JSON).
      .then((link) =>
        link.queue.add(data.task.kind, { ...data, sig: this.#settings.signer.sign(jobId, data) }, { jobId, removeOnComplete: true, removeOnFail: true }),
      )
      .catch((error: unknown) => this.#lost(entry, jobId, `could not be queued: ${scrubRedis(this.#settings.connection, error)}`, false));
  }

  #progress(jobId: string, message: unknown): void {
    const entry = this.#byJob.get(jobId);
    if (entry === undefined) return;
    const data = this.#guard.progress(jobId, entry, message);
    if (data !== undefined) this.#apply(entry, data);
  }

  #apply(entry: Entry, data: JobProgress): void {
    if (data.picked !== undefined) {
      this.counts.picked++;
      entry.threadId = this.#hosts.of(data.picked.host);
      const go = entry.go;
      entry.go = entry.fail = undefined;
      go?.();
    }
    const events: SessionEvent[] =
      data.picked !== undefined && entry.run !== undefined ? [{ type: 'started', sessionId: entry.sessionId, run: entry.run.no }] : [];
    if (data.events !== undefined) events.push(...data.events);
    if (events.length > 0) this.#options.onBatch({ threadId: entry.threadId ?? -1, events });
  }

  #completed(jobId: string, value: unknown): void {
    const entry = this.#byJob.get(jobId);
    if (entry === undefined) {
      if (this.#finished.has(jobId) && this.#guard.result(jobId, sessionOfJob(jobId), value) !== undefined) this.counts.duplicates++;
      return;
    }
    const result = this.#guard.result(jobId, entry.sessionId, value);
    if (result === undefined) return;
    this.#finished.add(jobId);
    this.counts.completed++;
    // An answer means a host took the job, even when its pick-up message went missing.
    if (entry.go !== undefined) {
      this.counts.pickupsMissed++;
      this.#apply(entry, { picked: { host: result.host } });
    }
    this.#forgetJob(entry);
    if ('crashed' in result) return this.#deliver(entry, { crash: `the worker thread on ${result.host} died: ${result.crashed}` });
    this.#deliver(entry, { outcome: { ...result.outcome, threadId: this.#hosts.of(result.host), host: result.host } });
  }

  /**
   * BullMQ writes a failed event (ours: a job stalled twice) in the same step that takes the job
   * out of the queue (removeOnFail), so one for a job Redis still holds was written by someone else:
   * dropped like a forged result. A job that is really gone ends by the paths below.
   */
  #failedJob(jobId: string, reason: string): void {
    const entry = this.#byJob.get(jobId);
    if (entry === undefined) return;
    void this.#link
      .then((link) => link.queue.getJobState(jobId))
      .catch(() => 'unknown')
      .then((state) => {
        if (state !== 'unknown' && state !== 'failed') return this.#guard.forgedFailure(jobId);
        if (this.#byJob.get(jobId) !== entry) return;
        this.#finished.add(jobId);
        this.#lost(entry, jobId, `its job failed in the queue: ${reason}`, false);
      });
  }

  /** The worker host stopped renewing the job's lock (it died): BullMQ put the job back in the queue. */
  #stalled(jobId: string): void {
    const entry = this.#byJob.get(jobId);
    if (entry === undefined) return;
    this.counts.stalled++;
    entry.threadId = undefined;
    entry.stalled = true;
    if (entry.run !== undefined) return this.#deliver(entry, { crash: 'the worker host running it stopped (its job stalled and went back to the queue)' });
    // No run was told (the session still waits for its pick-up): the job may simply run again.
    this.#rerun(entry);
  }

  /** A job is gone (never added, failed in the queue, lost with Redis): the gate fails or re-queues, a run crashes. */
  #lost(entry: Entry, jobId: string, why: string, requeue: boolean): void {
    if (entry.jobId !== jobId) return;
    this.#forgetJob(entry);
    this.counts.lost++;
    if (entry.fail !== undefined) {
      if (requeue && entry.data !== undefined) return this.#add(entry, entry.data);
      const fail = entry.fail;
      entry.go = entry.fail = undefined;
      return fail(new TransportError(`The session ${why}`).toJSON());
    }
    this.#deliver(entry, { crash: `the session ${why}` });
  }

  #deliver(entry: Entry, delivery: Delivery): void {
    const run = entry.run;
    if (run === undefined) {
      entry.buffered = delivery;
      return;
    }
    entry.run = undefined;
    clearTimeout(run.timer);
    if (entry.released) this.#drop(entry);
    if ('crash' in delivery) run.reject(new TransportError(delivery.crash));
    else run.resolve(delivery.outcome);
  }

  #forgetJob(entry: Entry): void {
    if (entry.jobId !== undefined) this.#byJob.delete(entry.jobId);
    entry.jobId = undefined;
  }

  /** The engine let the session go: a job still queued is taken out, one a host runs is aborted there. */
  #released(sessionId: string): void {
    const entry = this.#entries.get(sessionId);
    if (entry === undefined) return;
    entry.released = true;
    entry.go = entry.fail = undefined;
    // A run given up on keeps its slot until it ends: its answer still settles it.
    if (entry.run === undefined) this.#drop(entry);
  }

  #drop(entry: Entry): void {
    this.#entries.delete(entry.sessionId);
    const jobId = entry.jobId;
    if (jobId === undefined) return;
    this.#ended(entry);
    this.#forgetJob(entry);
    void this.#remove(jobId).then((removed) => {
      if (!removed) this.#publish({ sessionId: entry.sessionId, reason: 'aborted' });
    });
  }

  /** True when the job was still waiting and is gone now; false when a worker host holds it (or it ended). */
  async #remove(jobId: string): Promise<boolean> {
    try {
      const link = await this.#link;
      return (await link.queue.remove(jobId)) === 1;
    } catch (error) {
      this.#logger?.warn({ jobId, err: scrubRedis(this.#settings.connection, error) }, 'could not remove a job');
      // Tried again when Redis is back (the verdict written meanwhile keeps hosts from running it).
      this.#unremoved.add(jobId);
      return false;
    }
  }

  /** Records in Redis that the session ended, once, when a job of it may still be there (fence-keys.ts). */
  #ended(entry: Entry): void {
    if (entry.fenced === true || entry.jobId === undefined || entry.data === undefined) return;
    entry.fenced = true;
    const deadline = entry.data.deadline;
    void this.#link.then((link) => link.fence.ended(entry.sessionId, deadline)).catch(() => {});
  }

  #rerun(entry: Entry): void {
    const { jobId, data } = entry;
    if (jobId === undefined || data === undefined) return;
    entry.stalled = false;
    void this.#link.then((link) => link.fence.rerun(jobId, data.deadline)).catch(() => {});
  }

  #publish(message: AbortMessage): void {
    void this.#link
      .then((link) => link.publisher.publish(this.#channel, JSON.stringify(message)))
      .catch((error: unknown) =>
        this.#logger?.warn({ sessionId: message.sessionId, err: scrubRedis(this.#settings.connection, error) }, 'could not publish an abort'),
      );
  }

  /** After Redis came back: jobs it no longer knows were lost with it (a restart without persistence). */
  async #reconcile(): Promise<void> {
    const link = await this.#link;
    // Jobs queued again must find this producer alive (a restarted Redis lost its key).
    await link.fence.alive().catch(() => {});
    const unremoved = [...this.#unremoved];
    this.#unremoved.clear();
    for (const jobId of unremoved) void this.#remove(jobId);
    for (const entry of [...this.#byJob.values()]) {
      const jobId = entry.jobId;
      if (jobId === undefined) continue;
      const state = await link.queue.getJobState(jobId).catch(() => 'error');
      if (state === 'unknown') this.#lost(entry, jobId, 'was lost: Redis restarted without it', true);
    }
  }
}
