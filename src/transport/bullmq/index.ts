// Sessions through BullMQ on Redis: `bullmq()` is the producer's transport (createSupervisor's
// `transport` option), `createWorker()` the worker host, `redisLimiterStore()` the shared budget.
import type { LimiterStore } from '../../types/options.ts';
import type { Transport } from '../../seam/seam.ts';
import { resolveConnection, type RedisConnection } from './connection.ts';
import { resolveTransportOptions, type BullMQTransportOptions } from './options.ts';
import { QueueProducer } from './producer.ts';
import { RedisLimiterStore } from './redis-store.ts';

export type { BullMQTransportOptions } from './options.ts';
export type { RedisConnection, RedisConnectionOptions } from './connection.ts';
export { createWorker, type WorkerHost, type WorkerHostStats } from './worker-host.ts';
export type { WorkerHostOptions } from './worker-options.ts';

export interface BullMQTransportStats {
  /** Where Redis is, password blanked. */
  redis: string;
  queueName: string;
  /** Worker hosts that took a session of this producer. */
  hosts: number;
  queued: number;
  picked: number;
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

export interface BullMQTransport extends Transport {
  stats(): BullMQTransportStats;
}

/** The transport of a supervisor whose sessions run on worker hosts (`sessionpool worker`) through a BullMQ queue. */
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

/** The limiter's store in Redis, for supervisors (or worker hosts) that share key budgets. */
export function redisLimiterStore(connection: RedisConnection, options: { prefix?: string } = {}): LimiterStore & { close(): Promise<void> } {
  return new RedisLimiterStore(resolveConnection(connection), options.prefix);
}
