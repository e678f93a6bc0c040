// A worker host: takes session jobs from the BullMQ queue and runs them on its own Piscina pool,
// with its own provider keys and its share of the key budgets (in Redis). Events go back as job
// progress, results as the job's return value; aborts arrive on a Redis channel. A host that dies
// leaves its jobs locked until BullMQ's stalled-job check (on the other hosts) puts them back once.
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AbortReason } from '../../types/session.ts';
import { systemClock } from '../../util/clock.ts';
import { TransportError } from '../../errors/errors.ts';
import { defaultLogger } from '../../util/log.ts';
import { createPool } from '../../pool/pool.ts';
import type { Dispatcher } from '../../seam/seam.ts';
import { providerSecrets, Redactor } from '../../util/redact.ts';
import { routedDispatcher } from '../../routing/routed-dispatcher.ts';
import { Router } from '../../routing/router.ts';
import { redactingDispatcher, scrubBatch } from '../../pool/redact-gate.ts';
import { within } from './bounded.ts';
import { scrubRedis } from './connection.ts';
import { channelOf } from './job.ts';
import { JobClaims } from './job-claims.ts';
import { JobIngress } from './job-ingress.ts';
import { loadBullMQ, loadIORedis, type BullMQ } from './peers.ts';
import { RedisLimiterStore } from './redis-store.ts';
import { ResultSigner } from './result-signature.ts';
import { FenceKeys } from './fence-keys.ts';
import { HostRuns, type RunningJob } from './host-runs.ts';
import { JobFence } from './job-fence.ts';
import { ProducerPresence } from './producer-presence.ts';
import { runJob } from './run-job.ts';
import type { JobRunnerDeps } from './job-call.ts';
import { RecentAborts, subscribeAborts } from './worker-aborts.ts';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerHostOptions } from './worker-options.ts';
import { RerunPermits } from './rerun-permit.ts';

/** What {@link WorkerHost.stats | host.stats()} returns: this host's jobs, counted since it started. */
export interface WorkerHostStats {
  /** This host's name (`name`), as results give it in `metadata.session.host`. */
  host: string;
  /** Jobs running on this host now. */
  running: number;
  /** Jobs this host finished and answered (a session that failed is answered too). */
  completed: number;
  /** Runs this host stopped: the session was aborted or ended elsewhere, its producer went away, or the host closed. */
  aborted: number;
}

/** A worker host, from {@link createWorker}: it takes session jobs from the queue and runs them on its own pool. */
export interface WorkerHost {
  /** This host's name, as results give it in `metadata.session.host`. */
  readonly host: string;
  /** Resolves once connected to Redis and every thread of the pool is up; rejects with ERR_TRANSPORT when Redis cannot be reached (or refuses the password). */
  ready(): Promise<void>;
  /** This host's counters, in O(1). */
  stats(): WorkerHostStats;
  /**
   * Stops taking jobs and lets the running ones finish until `timeoutMs`; then aborts the rest (they
   * answer as crashed, or their locks lapse: the producer runs them again once elsewhere, when it
   * may), stops the pool and disconnects. Returns within `timeoutMs` (plus at most 50 ms for the
   * threads to stop), whatever Redis does: the last 300 ms (a quarter, when shorter) are for letting go.
   * `timeoutMs` defaults to 10_000.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

interface Parts {
  worker: Worker;
  subscriber: Redis;
  ingress: JobIngress;
  /** Reads the fence (job-fence.ts). */
  commands: Redis;
  fence: JobFence;
}

// Running jobs' verdicts are read again this often (one MGET for all): a session that ended while
// its abort was lost, or whose producer died, stops within this time.
const SWEEP_MS = 2000;
// How much of close()'s timeout is kept for letting go (stopping the runs, BullMQ's forced close,
// disconnecting): at most this, a quarter of the timeout when it is short.
const LET_GO_MS = 300;
// The pool's and the limiter store's close may take this much past the timeout (threads terminate).
const LAST_STEP_MS = 50;

function noop(): void {}

/**
 * BullMQ's close renews the locks of running jobs until each has ended and its result was written,
 * which never happens while Redis is away: its lock manager is stopped here (a protected member:
 * BullMQ has no public way), so the locks lapse and the jobs go back to the queue, as documented.
 */
function stopLockRenewals(worker: Worker): void {
  void (worker as unknown as { lockManager?: { close(): Promise<void> } }).lockManager?.close().catch(noop);
}

/**
 * Starts a worker host: it takes session jobs from a BullMQ queue in Redis (the producers are
 * supervisors created with `transport: bullmq(…)`), runs them on its own pool of worker threads with
 * its own provider keys (which never leave it), and sends events and results back through Redis. It
 * runs only jobs signed with the shared job secret, and key budgets are shared with the other hosts
 * in Redis. `sessionpool worker` is this function as a command.
 *
 * @param options - Where Redis is, the queue, this host's providers and pool ({@link WorkerHostOptions}).
 * @returns The host, starting: {@link WorkerHost.ready | ready()} says when it takes jobs.
 * @throws ERR_INVALID_REQUEST ({@link InvalidRequestError}) for an invalid option, or no job secret
 *   (neither `jobSecret` nor `SESSIONPOOL_JOB_SECRET`, or one shorter than 32 characters).
 *
 * @example
 * ```ts
 * import { createWorker, startMockProvider } from 'sessionpool';
 *
 * const mock = await startMockProvider(); // stands in for the provider
 * // SESSIONPOOL_JOB_SECRET is set in the environment: the producers' secret.
 * const host = createWorker({
 *   connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
 *   queueName: 'sessions',
 *   threads: 2,
 *   concurrency: 64,
 *   providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-test' } },
 * });
 * await host.ready();
 * console.log(host.stats()); // { host: 'hostname:pid', running: 0, completed: 0, aborted: 0 }
 * // A host runs until it is told to stop (on SIGTERM, say); here, at once.
 * await host.close({ timeoutMs: 5_000 });
 * await mock.close();
 * ```
 */
export function createWorker(options: WorkerHostOptions): WorkerHost {
  const settings = resolveWorkerOptions(options);
  const logger = options.logger === false ? undefined : (options.logger ?? defaultLogger());
  return new Host(settings, logger);
}

class Host implements WorkerHost {
  readonly host: string;
  readonly #settings: ResolvedWorkerOptions;
  readonly #logger: Logger | undefined;
  readonly #running = new HostRuns();
  readonly #verifying = new Set<RunningJob>();
  #sweep: NodeJS.Timeout | undefined;
  readonly #aborts = new RecentAborts();
  readonly #pool: Dispatcher;
  readonly #dispatcher: Dispatcher;
  readonly #router: Router;
  readonly #store: RedisLimiterStore | undefined;
  readonly #parts: Promise<Parts>;
  readonly #threadsUp = Promise.withResolvers<void>();
  readonly #counts = { completed: 0, aborted: 0 };
  #fence: JobFence | undefined;

  constructor(settings: ResolvedWorkerOptions, logger: Logger | undefined) {
    this.host = settings.name;
    this.#settings = settings;
    this.#logger = logger;
    const { engine } = settings;
    const redactor = new Redactor([...engine.providers.values()].flatMap(providerSecrets));
    const shared = engine.routing.store === undefined && engine.routing.limits.size > 0;
    this.#store = shared ? new RedisLimiterStore(settings.connection, `${settings.prefix}:sessionpool:limits:`) : undefined;
    this.#router = new Router(this.#store === undefined ? engine.routing : { ...engine.routing, store: this.#store }, {
      clock: systemClock,
      emit: () => {},
      warn: (message, error) =>
        logger?.warn({ redis: settings.connection.label, ...(error !== undefined ? { err: scrubRedis(settings.connection, error) } : {}) }, message),
    });
    const up = new Set<number>();
    this.#pool = createPool({
      threads: engine.threads,
      maxTasks: settings.concurrency,
      onBatch: (raw) => {
        const batch = scrubBatch(raw, redactor);
        this.#router.observe(batch);
        for (const event of batch.events) {
          const run = this.#running.calling(event.sessionId);
          run?.relay.push(event);
          // A new round (a retry, a continuation): the verdict is read again, so a session that ended stops.
          if (run !== undefined && (event.type === 'retry' || event.type === 'continuation')) this.#verify([run]);
        }
      },
      onWorkerReady: (threadId, handlers) => {
        if (handlers) return;
        // One thread can run sessions: rate budget is handed out from now on; ready() waits for every thread.
        this.#router.poolReady();
        up.add(threadId);
        if (up.size >= engine.threads) this.#threadsUp.resolve();
      },
    });
    this.#dispatcher = redactingDispatcher(
      routedDispatcher(
        this.#pool,
        this.#router,
        () => systemClock.now(),
        (fn, ms) => systemClock.setTimer(fn, ms),
      ),
      redactor,
    );
    this.#parts = this.#connect();
    this.#parts.catch(() => {});
  }

  async ready(): Promise<void> {
    // What Redis answers may quote the AUTH command it was sent: scrubbed, typed as the producer's.
    const connected = this.#parts.catch((error: unknown) => {
      const { connection } = this.#settings;
      throw new TransportError(`Could not connect to Redis at ${connection.label}: ${scrubRedis(connection, error)}`);
    });
    await Promise.all([connected, this.#threadsUp.promise]);
  }

  stats(): WorkerHostStats {
    return { host: this.host, running: this.#running.size, ...this.#counts };
  }

  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const until = performance.now() + timeoutMs;
    const left = () => Math.max(0, until - performance.now());
    // Letting go comes out of the timeout, not on top of it: the runs have until `until - letGo`.
    const letGo = Math.min(LET_GO_MS, timeoutMs / 4);
    clearInterval(this.#sweep);
    // Not connected yet (Redis away since the start): whatever connects later is let go at once.
    if (!(await within(this.#parts, left() - letGo))) void this.#parts.then((parts) => this.#disconnect(parts, LET_GO_MS), noop);
    else {
      const parts = await this.#parts.catch(() => undefined);
      if (parts !== undefined) await this.#drain(parts, until - letGo, until);
    }
    await within(Promise.allSettled([this.#store?.close(), this.#pool.close()]), Math.max(left(), LAST_STEP_MS));
  }

  /**
   * Lets the running jobs finish until `drainUntil`; then lets go of them (aborted, reported as a
   * crash) and of Redis, by force if need be, by `until` (performance.now() times).
   */
  async #drain(parts: Parts, drainUntil: number, until: number): Promise<void> {
    const drainLeft = () => Math.max(0, drainUntil - performance.now());
    // No new jobs, no stalled-job checks: BullMQ's close stops those only once every job has ended.
    await within(parts.worker.pause(true), Math.min(LET_GO_MS, drainLeft()));
    if (!(await within(parts.worker.close(), drainLeft()))) {
      for (const run of this.#running.all()) {
        run.letGo = true;
        this.#stop(run, 'closed');
      }
      // The same close as above (BullMQ's force only counts on a first call): the runs have ended now.
      const half = Math.max(0, (until - performance.now()) / 2);
      if (!(await within(parts.worker.close(true), half))) stopLockRenewals(parts.worker);
    }
    await this.#disconnect(parts, Math.max(0, until - performance.now()));
  }

  async #disconnect(parts: Parts, ms: number): Promise<void> {
    await within(parts.worker.disconnect(), ms);
    parts.subscriber.disconnect();
    parts.commands.disconnect();
    parts.ingress.close();
  }

  async #connect(): Promise<Parts> {
    const [{ Worker }, { Redis }] = await Promise.all([loadBullMQ(), loadIORedis()]);
    const { connection, queueName, prefix } = this.#settings;
    let started = false;
    const subscriber = new Redis({ ...connection.options, maxRetriesPerRequest: null, connectionName: `sessionpool:worker:${this.host}` });
    subscriber.on('error', (error: unknown) => {
      // While starting, Redis refusing us (a wrong password) ends the start with one error: not logged on every retry.
      if (!started && (error as Error).name === 'ReplyError') return;
      this.#logger?.warn({ redis: connection.label, err: scrubRedis(connection, error) }, 'Redis connection error');
    });
    // Aborts published while this host was away from Redis are lost: the verdicts say what they said.
    let away = false;
    subscriber.on('close', () => {
      away = true;
    });
    subscriber.on('ready', () => {
      if (away) this.#verify(this.#running.all());
      away = false;
    });
    const commands = new Redis({ ...connection.options, maxRetriesPerRequest: 3, connectionName: `sessionpool:worker-fence:${this.host}` });
    commands.on('error', () => {});
    const presence = new ProducerPresence(commands, (message) => this.#logger?.warn({ redis: connection.label }, message));
    const permits = new RerunPermits(this.#settings.signer);
    const fence = new JobFence(commands, new FenceKeys(prefix, queueName), permits, presence);
    let parts: Partial<Parts> = { subscriber, commands, fence };
    try {
      await subscribeAborts(subscriber, channelOf(prefix, queueName), ({ sessionId, reason }) => this.#abort(sessionId, reason));
      const claims = await JobClaims.open(connection, prefix, queueName, this.host, permits);
      const ingress = new JobIngress(this.#settings.signer, claims, this.host, this.#settings.handlers);
      parts = { subscriber, commands, fence, ingress, worker: this.#worker(Worker, ingress, fence) };
      await parts.worker?.waitUntilReady();
      started = true;
      this.#fence = fence;
      this.#sweep = setInterval(() => this.#verify(this.#running.all()), SWEEP_MS).unref();
      return parts as Parts;
    } catch (error) {
      // A host that cannot start lets go of everything it opened: its process can exit.
      subscriber.disconnect();
      commands.disconnect();
      parts.ingress?.close();
      await parts.worker?.close(true).catch(() => {});
      throw new TransportError(`Could not connect to Redis at ${connection.label}: ${scrubRedis(connection, error)}`);
    }
  }

  #worker(Worker: BullMQ['Worker'], ingress: JobIngress, fence: JobFence): Worker {
    const { connection, queueName, prefix } = this.#settings;
    const deps: JobRunnerDeps = {
      host: this.host,
      providers: this.#settings.engine.providers,
      dispatcher: this.#dispatcher,
      router: this.#router,
      clock: systemClock,
      running: this.#running,
      aborts: this.#aborts,
      fence,
      stop: (run, reason) => this.#stop(run, reason),
      logger: this.#logger,
      ingress,
      results: new ResultSigner(this.#settings.signer),
    };
    const worker = new Worker(
      queueName,
      async (job) => {
        const result = await runJob(job, deps);
        this.#counts.completed++;
        return result;
      },
      {
        connection: { ...connection.options },
        prefix,
        name: this.host,
        concurrency: this.#settings.concurrency,
        lockDuration: this.#settings.lockDurationMs,
        stalledInterval: this.#settings.stalledIntervalMs,
        // At most one run again after a host died (the producer's engine allows one crash retry).
        maxStalledCount: 1,
        // After Redis was away, look for jobs again within a second, not BullMQ's default 15 s.
        runRetryDelay: 1000,
      },
    );
    worker.on('error', (error: unknown) => this.#logger?.warn({ redis: connection.label, err: scrubRedis(connection, error) }, 'BullMQ worker error'));
    return worker;
  }

  #abort(sessionId: string, reason: AbortReason): void {
    const runs = this.#running.of(sessionId);
    if (runs.length === 0) return this.#aborts.keep(sessionId, reason);
    for (const run of [...runs]) this.#stop(run, reason);
  }

  /** Stops one run: a wait ends at once, a call is aborted on its thread (killed if it does not settle in time). */
  #stop(run: RunningJob, reason: AbortReason): void {
    if (run.stopped !== undefined) return;
    this.#counts.aborted++;
    run.stopped = reason;
    if (run.wake !== undefined) return run.wake();
    // Not in the pool yet: it looks at `stopped` before it calls.
    if (!run.calling) return;
    void this.#dispatcher.abort(undefined, run.sessionId, reason).then((threadId) => {
      // A call that does not settle within the grace period loses its thread (its other sessions crash, and run again).
      setTimeout(() => {
        if (run.calling && threadId !== undefined) this.#pool.kill(threadId);
      }, this.#settings.engine.abortGraceMs).unref();
    });
  }

  /** Reads the verdicts of running jobs again (one round trip) and stops those whose session ended or whose producer is gone. */
  #verify(runs: RunningJob[]): void {
    const fence = this.#fence;
    const fresh = runs.filter((run) => run.stopped === undefined && !this.#verifying.has(run));
    if (fence === undefined || fresh.length === 0) return;
    for (const run of fresh) this.#verifying.add(run);
    void fence
      .stopped(fresh.map((run) => run.job))
      .then((verdicts) => {
        for (const run of fresh) if (verdicts.has(run.job)) this.#stop(run, 'aborted');
      })
      // Redis away: the runs go on (each ends by its deadline); the next read tells.
      .catch(() => {})
      .finally(() => {
        for (const run of fresh) this.#verifying.delete(run);
      });
  }
}
