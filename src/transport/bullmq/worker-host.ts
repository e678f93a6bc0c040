// A worker host: takes session jobs from the BullMQ queue and runs them on its own Piscina pool,
// with its own provider keys and its share of the key budgets (in Redis). Events go back as job
// progress, results as the job's return value; aborts arrive on a Redis channel. A host that dies
// leaves its jobs locked until BullMQ's stalled-job check (on the other hosts) puts them back once.
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AbortReason } from '../../abort/reasons.ts';
import { systemClock } from '../../clock.ts';
import { TransportError } from '../../errors.ts';
import { defaultLogger } from '../../log.ts';
import { createPool, type Dispatcher } from '../../pool/pool.ts';
import { providerSecrets, Redactor } from '../../redact.ts';
import { routedDispatcher } from '../../routing/routed-dispatcher.ts';
import { Router } from '../../routing/router.ts';
import { redactingDispatcher, scrubBatch } from '../../supervisor/redact-gate.ts';
import { scrubRedis } from './connection.ts';
import { channelOf } from './job.ts';
import { loadBullMQ, loadIORedis } from './peers.ts';
import { RedisLimiterStore } from './redis-store.ts';
import { runJob, type JobRunnerDeps, type RunningJob } from './run-job.ts';
import { RecentAborts, subscribeAborts } from './worker-aborts.ts';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerHostOptions } from './worker-options.ts';

export interface WorkerHostStats {
  host: string;
  running: number;
  completed: number;
  aborted: number;
}

export interface WorkerHost {
  /** This host's name, as results give it in `metadata.session.host`. */
  readonly host: string;
  /** Resolves once connected to Redis and every thread of the pool is up. */
  ready(): Promise<void>;
  stats(): WorkerHostStats;
  /**
   * Stops taking jobs and lets the running ones finish until `timeoutMs`; then lets go of the rest
   * (their locks lapse, and other hosts take them up again, once), stops the pool and disconnects.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

interface Parts {
  worker: Worker;
  subscriber: Redis;
}

export function createWorker(options: WorkerHostOptions): WorkerHost {
  const settings = resolveWorkerOptions(options);
  const logger = options.logger === false ? undefined : (options.logger ?? defaultLogger());
  return new Host(settings, logger);
}

class Host implements WorkerHost {
  readonly host: string;
  readonly #settings: ResolvedWorkerOptions;
  readonly #logger: Logger | undefined;
  readonly #running = new Map<string, RunningJob>();
  readonly #aborts = new RecentAborts();
  readonly #pool: Dispatcher;
  readonly #dispatcher: Dispatcher;
  readonly #router: Router;
  readonly #store: RedisLimiterStore | undefined;
  readonly #parts: Promise<Parts>;
  readonly #threadsUp = Promise.withResolvers<void>();
  readonly #counts = { completed: 0, aborted: 0 };

  constructor(settings: ResolvedWorkerOptions, logger: Logger | undefined) {
    this.host = settings.name;
    this.#settings = settings;
    this.#logger = logger;
    const { engine } = settings;
    const redactor = new Redactor([...engine.providers.values()].flatMap(providerSecrets));
    const shared = engine.routing.store === undefined && engine.routing.limits.size > 0;
    this.#store = shared ? new RedisLimiterStore(settings.connection, `${settings.prefix}:sessionpool:limits:`) : undefined;
    this.#router = new Router(this.#store === undefined ? engine.routing : { ...engine.routing, store: this.#store }, { clock: systemClock, emit: () => {} });
    const up = new Set<number>();
    this.#pool = createPool({
      threads: engine.threads,
      maxTasks: settings.concurrency,
      onBatch: (raw) => {
        const batch = scrubBatch(raw, redactor);
        this.#router.observe(batch);
        for (const event of batch.events) this.#running.get(event.sessionId)?.relay.push(event);
      },
      onWorkerReady: (threadId) => {
        up.add(threadId);
        if (up.size >= engine.threads) [this.#threadsUp.resolve(), this.#router.poolReady()];
      },
    });
    this.#dispatcher = redactingDispatcher(
      routedDispatcher(this.#pool, this.#router, () => systemClock.now()),
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
    const parts = await this.#parts.catch(() => undefined);
    if (parts !== undefined) {
      const timeoutMs = options.timeoutMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      const gracefully = parts.worker.close();
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), timeoutMs);
      });
      if ((await Promise.race([gracefully, late])) === 'late') await parts.worker.close(true);
      clearTimeout(timer);
      parts.subscriber.disconnect();
    }
    await this.#store?.close();
    await this.#pool.close();
  }

  async #connect(): Promise<Parts> {
    const [{ Worker }, { Redis }] = await Promise.all([loadBullMQ(), loadIORedis()]);
    const { connection, queueName, prefix } = this.#settings;
    const subscriber = new Redis({ ...connection.options, maxRetriesPerRequest: null, connectionName: `sessionpool:worker:${this.host}` });
    subscriber.on('error', (error: unknown) => this.#logger?.warn({ redis: connection.label, err: scrubRedis(connection, error) }, 'Redis connection error'));
    // A refusal (a wrong password) ends the start: the client must not go on reconnecting after close().
    await subscribeAborts(subscriber, channelOf(prefix, queueName), ({ sessionId, reason }) => this.#abort(sessionId, reason)).catch((error: unknown) => {
      subscriber.disconnect();
      throw error;
    });
    const deps: JobRunnerDeps = {
      host: this.host,
      providers: this.#settings.engine.providers,
      dispatcher: this.#dispatcher,
      router: this.#router,
      clock: systemClock,
      running: this.#running,
      aborts: this.#aborts,
      logger: this.#logger,
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
    await worker.waitUntilReady();
    return { worker, subscriber };
  }

  #abort(sessionId: string, reason: AbortReason): void {
    const running = this.#running.get(sessionId);
    if (running === undefined) return this.#aborts.keep(sessionId, reason);
    this.#counts.aborted++;
    running.stopped = reason;
    if (running.wake !== undefined) return running.wake();
    void this.#dispatcher.abort(undefined, sessionId, reason).then((threadId) => {
      // A call that does not settle within the grace period loses its thread (its other sessions crash, and run again).
      setTimeout(() => {
        if (this.#running.get(sessionId) === running && threadId !== undefined) this.#pool.kill(threadId);
      }, this.#settings.engine.abortGraceMs).unref();
    });
  }
}
