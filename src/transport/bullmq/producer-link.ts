// The producer's connections to Redis: the BullMQ Queue that jobs are added to, the reader of the
// queue's event stream (event-reader.ts: pick-ups and deltas as job progress, results, stalls), and a
// plain client that publishes aborts to the worker hosts and notices when Redis comes back.
import type { Logger } from 'pino';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { within } from './bounded.ts';
import { EventReader } from './event-reader.ts';
import { scrubRedis } from './connection.ts';
import { FenceKeys } from './fence-keys.ts';
import type { JobSigner } from './job-signature.ts';
import { ProducerFence } from './producer-fence.ts';
import { producerClientName } from './producer-presence.ts';
import type { ResolvedQueueOptions } from './options.ts';
import { loadBullMQ, loadIORedis } from './peers.ts';
import { RerunPermits } from './rerun-permit.ts';

export interface ProducerHandlers {
  /** A progress message and a return value as read from Redis: not trusted (result-guard.ts). */
  progress(jobId: string, message: unknown): void;
  completed(jobId: string, value: unknown): void;
  failed(jobId: string, reason: string): void;
  stalled(jobId: string): void;
  /** Redis answered again after the connection was lost: jobs in flight may be gone. */
  reconnected(): void;
}

export interface ProducerLink {
  readonly queue: Queue;
  readonly publisher: Redis;
  /** Verdicts and liveness (producer-fence.ts). */
  readonly fence: ProducerFence;
  /** Lets go of Redis, gracefully for at most `timeoutMs`, then by force. */
  close(timeoutMs: number): Promise<void>;
}

// Adds fail after a few reconnection attempts (a typed error) instead of waiting for Redis forever.
const ADD_RETRIES = 3;
const CONNECT_TIMEOUT_MS = 10_000;
const FENCE_RECONNECT_MS = 100;
// Disconnecting by force does not wait for Redis; the bound is a backstop, kept small because it
// comes on top of the close's timeout.
const FORCE_MS = 10;

export async function connectProducer(
  options: ResolvedQueueOptions & { eventsMaxLen: number; producerTtlMs: number; signer: JobSigner },
  producerId: string,
  on: ProducerHandlers,
  logger: Logger | undefined,
): Promise<ProducerLink> {
  const [{ Queue }, { Redis }] = await Promise.all([loadBullMQ(), loadIORedis()]);
  const { connection, queueName, prefix } = options;
  const warn = (what: string) => (error: unknown) => logger?.warn({ redis: connection.label, err: scrubRedis(connection, error) }, what);
  const publisher = new Redis({ ...connection.options, maxRetriesPerRequest: ADD_RETRIES, connectionName: `sessionpool:producer-pub:${queueName}` });
  // A refused password or an unreachable host fails the start (checked on this client before
  // BullMQ opens its own); later errors are reconnected through.
  try {
    await new Promise<void>((resolve, reject) => {
      publisher.once('error', reject);
      setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS).unref();
      publisher.ping().then(() => resolve(), reject);
    });
  } catch (error) {
    publisher.disconnect();
    throw new Error(`Could not connect to Redis at ${connection.label}: ${scrubRedis(connection, error)}`);
  }
  publisher.on('error', warn('Redis connection error'));
  let lost = false;
  publisher.on('close', () => {
    lost = true;
  });
  publisher.on('ready', () => {
    if (!lost) return;
    lost = false;
    logger?.warn({ redis: connection.label }, 'Redis is back: checking the jobs in flight');
    on.reconnected();
  });
  const queue = new Queue(queueName, {
    connection: { ...connection.options, maxRetriesPerRequest: ADD_RETRIES },
    prefix,
    streams: { events: { maxLen: options.eventsMaxLen } },
  });
  queue.on('error', warn('BullMQ queue error'));
  // Events are read from the stream's last entry as of now, not from "$": "$" would mean the first
  // XREAD's own moment, which comes after waitUntilReady, and a pick-up reported in between was lost.
  const lastEventId = await lastStreamId(publisher, `${prefix}:${queueName}:events`);
  const events = new EventReader(
    Redis,
    { ...connection.options, connectionName: `sessionpool:producer-events:${queueName}` },
    { key: `${prefix}:${queueName}:events`, lastEventId },
    on,
    warn('Redis event stream error'),
  );
  // Its own connection, which waits for Redis however long it is away: verdicts are never dropped.
  // It tries to reconnect every 100 ms (ioredis: up to 2 s), so that when Redis is back the verdicts
  // given meanwhile are likely there before a worker host (BullMQ waits a second) takes a job.
  // Its name is this producer's presence: hosts refuse its jobs soon after it is gone from Redis's
  // client list (producer-presence.ts), which is at once when this process dies.
  const fenceClient = new Redis({
    ...connection.options,
    maxRetriesPerRequest: null,
    retryStrategy: () => FENCE_RECONNECT_MS,
    connectionName: producerClientName(producerId),
  });
  fenceClient.on('error', () => {});
  const fence = new ProducerFence(
    fenceClient,
    new FenceKeys(prefix, queueName),
    new RerunPermits(options.signer),
    producerId,
    options.producerTtlMs,
    (what, error) => warn(what)(error),
  );
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), fence.start()]);
  return {
    queue,
    publisher,
    fence,
    async close(timeoutMs) {
      // BullMQ's close waits for Redis: with Redis away it would wait for ever. Past the time, by force.
      await within(Promise.allSettled([events.close(), queue.close(), fence.close(timeoutMs)]), timeoutMs);
      await within(Promise.allSettled([events.disconnect(), queue.disconnect()]), FORCE_MS);
      publisher.disconnect();
    },
  };
}

async function lastStreamId(
  redis: { xrevrange(key: string, end: string, start: string, count: 'COUNT', n: number): Promise<Array<[string, string[]]>> },
  key: string,
): Promise<string> {
  const [last] = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
  return last?.[0] ?? '0-0';
}
