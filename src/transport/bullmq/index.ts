// Sessions through BullMQ on Redis: `bullmq()` is the producer's transport (createSupervisor's
// `transport` option), `createWorker()` the worker host, `redisLimiterStore()` the shared budget.
import type { LimiterStore } from '../../types/options.ts';
import type { Transport, TransportDispatcher, TransportOptions } from '../../seam/seam.ts';
import { resolveConnection, type RedisConnection } from './connection.ts';
import { resolveTransportOptions, type BullMQTransportOptions } from './options.ts';
import { QueueProducer } from './producer.ts';
import { RedisLimiterStore } from './redis-store.ts';

export type { BullMQTransportOptions } from './options.ts';
export type { RedisConnection, RedisConnectionOptions } from './connection.ts';
export { createWorker, type WorkerHost, type WorkerHostStats } from './worker-host.ts';
export type { WorkerHostOptions } from './worker-options.ts';

/** What {@link BullMQTransport.stats | transport.stats()} returns: this producer's jobs, counted since it opened. */
export interface BullMQTransportStats {
  /** Where Redis is, password blanked (`redis://:[redacted]@host:6379/0`). */
  redis: string;
  /** The BullMQ queue the sessions go through. */
  queueName: string;
  /** Worker hosts that took a session of this producer. */
  hosts: number;
  /** Jobs added to the queue (a session run again after its host died adds another). */
  queued: number;
  /** Jobs a worker host took (its pick-up report arrived). */
  picked: number;
  /** Jobs that came back with a verified result (a success or a failure of the session). */
  completed: number;
  /** Jobs whose worker host died (BullMQ put them back in the queue). */
  stalled: number;
  /** Jobs that could not be added, failed in the queue or were lost with Redis. */
  lost: number;
  /** A second result for a job that had one already: must stay 0. */
  duplicates: number;
  /** Results whose pick-up report never arrived (the session went to processing with its result): should stay 0. */
  pickupsMissed: number;
  /**
   * Results and progress messages read from Redis that failed verification (not signed by a worker
   * host for that job, queue and session, or a progress message replayed out of order): dropped,
   * never reaching a session. Should stay 0; anything else means someone writes to the queue's event stream.
   */
  forged: number;
}

/** What {@link bullmq} returns: the `transport` option of one supervisor, and its counters. */
export interface BullMQTransport extends Transport {
  /**
   * Called once by the supervisor it is given to (not by your code): connects to Redis and opens the
   * queue. A second supervisor given the same transport throws when it is created: give each its own.
   */
  open(options: TransportOptions): TransportDispatcher;
  /**
   * This producer's job counters (zeros before a supervisor opened it): `forged`, `duplicates` and
   * `pickupsMissed` should stay 0.
   */
  stats(): BullMQTransportStats;
}

/**
 * The transport of a supervisor whose sessions run on worker hosts (`createWorker()` or
 * `sessionpool worker`) through a BullMQ queue in Redis: pass it as `createSupervisor({ transport })`.
 * The producer holds no provider key (the hosts do), and signs every job with `jobSecret`; the
 * engine (deadlines, retries, routing, events) stays on the producer. `bullmq` and `ioredis` are
 * optional peer dependencies (`npm install bullmq ioredis`), loaded when first needed.
 *
 * @param options - Where Redis is (`connection`), the queue's name and prefix, the job secret
 *   ({@link BullMQTransportOptions}).
 * @returns A transport for one supervisor. Nothing connects yet: `supervisor.ready()` rejects with
 *   ERR_TRANSPORT when Redis cannot be reached, and sessions fail with ERR_TRANSPORT when the
 *   queue cannot take or keep them.
 * @throws ERR_INVALID_REQUEST ({@link InvalidRequestError}) for an invalid option, or no job secret
 *   (neither `jobSecret` nor `SESSIONPOOL_JOB_SECRET`, or one shorter than 32 characters).
 *
 * @example
 * ```ts
 * import { bullmq, createSupervisor, createWorker, startMockProvider } from 'sessionpool';
 *
 * // Both sides sign and check jobs with SESSIONPOOL_JOB_SECRET (openssl rand -hex 32), set in the environment.
 * const redis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
 * const mock = await startMockProvider();
 * // A worker host (in production: `sessionpool worker`, on other machines) holds the provider keys.
 * const host = createWorker({ connection: redis, queueName: 'sessions', threads: 1, providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-test' } } });
 * await host.ready();
 *
 * const transport = bullmq({ connection: redis, queueName: 'sessions' });
 * const supervisor = createSupervisor({ transport });
 * const result = await supervisor.chat({ provider: 'kimi', prompt: 'Hello' });
 * console.log(result.metadata.session.host, transport.stats().completed); // 'hostname:pid' 1
 * await supervisor.close({ timeoutMs: 5_000 });
 * await host.close({ timeoutMs: 5_000 });
 * await mock.close();
 * ```
 */
export function bullmq(options: BullMQTransportOptions): BullMQTransport {
  const settings = resolveTransportOptions(options);
  let producer: QueueProducer | undefined;
  return {
    name: 'bullmq',
    remoteKeys: true,
    open(transportOptions) {
      if (producer !== undefined) throw new Error('This bullmq() transport is used by a supervisor already: give each supervisor its own');
      producer = new QueueProducer(settings, transportOptions);
      return producer;
    },
    stats() {
      const counts = producer?.counts.snapshot() ?? { queued: 0, picked: 0, completed: 0, stalled: 0, lost: 0, duplicates: 0, pickupsMissed: 0, forged: 0 };
      return { redis: settings.connection.label, queueName: settings.queueName, hosts: producer?.threads ?? 0, ...counts };
    },
  };
}

/**
 * The routing limiter's store in Redis, for supervisors (or worker hosts) that share key budgets
 * (`providers.<name>.limits`): pass it as `routing: { store }` to every process that calls with the
 * same keys, and they keep one budget per key, on Redis's clock. Worker hosts share their budgets
 * this way by themselves. When Redis does not answer, each process goes on with its own view of the
 * keys (`stats().routing.store` says so) and catches up later.
 *
 * @param connection - Where Redis is: a `redis://` or `rediss://` URL, or {@link RedisConnectionOptions}.
 * @param options - `prefix`: put before every Redis key the store writes (default `'sessionpool:limits:'`).
 * @returns The store, with a `close()` that disconnects it (call it after closing the supervisor).
 * @throws ERR_INVALID_REQUEST ({@link InvalidRequestError}) for an invalid connection.
 *
 * @example
 * ```ts
 * import { createSupervisor, redisLimiterStore, startMockProvider } from 'sessionpool';
 *
 * const mock = await startMockProvider();
 * const store = redisLimiterStore(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * // Every process given this store shares kimi's key budget: 60 requests a minute in all.
 * const supervisor = createSupervisor({
 *   providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-test', limits: { requestsPerMinute: 60 } } },
 *   routing: { store },
 * });
 * await supervisor.chat({ provider: 'kimi', prompt: 'Hello' });
 * console.log(supervisor.stats().routing?.store); // { shared: true, failures: 0, pending: 0 }
 * await supervisor.close();
 * await store.close();
 * await mock.close();
 * ```
 */
export function redisLimiterStore(
  connection: RedisConnection,
  options: { prefix?: string } = {},
): LimiterStore & {
  /** Disconnects from Redis. */
  close(): Promise<void>;
} {
  return new RedisLimiterStore(resolveConnection(connection), options.prefix);
}
