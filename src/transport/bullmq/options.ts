// The options of bullmq() (the producer's transport), checked before anything connects.
import { z } from 'zod';
import { parseOrThrow } from '../../validation.ts';
import { resolveConnection, type RedisConnection, type ResolvedConnection } from './connection.ts';

export interface BullMQTransportOptions {
  /** Where Redis is: `redis://[user:password@]host:port/db` (`rediss://` for TLS), or `{ host, port, password, tls }`. */
  connection: RedisConnection;
  /** The BullMQ queue the sessions go through; workers started with the same name take them. @default 'sessionpool' */
  queueName?: string;
  /** Prefix of every Redis key of the queue. @default 'bull' */
  prefix?: string;
  /**
   * How long past its deadline a session whose job never answered (every worker host gone, say) keeps
   * its slot before the transport gives its run up. @default 10_000
   */
  lostAfterMs?: number;
  /** Entries kept (approximately) in the queue's event stream, which carries results and deltas. @default 100_000 */
  eventsMaxLen?: number;
  /**
   * This producer says it is alive in Redis with a key of this TTL, refreshed every third of it; a
   * worker host refuses, without a call, a job whose producer's key is gone (killed, or away from
   * Redis this long). @default 15_000
   */
  producerTtlMs?: number;
}

export interface ResolvedQueueOptions {
  connection: ResolvedConnection;
  queueName: string;
  prefix: string;
}

export const queueNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'expected 1 to 100 letters, digits, `_`, `.` or `-` (BullMQ queue names cannot hold `:`)');

const schema = z.strictObject({
  connection: z.unknown(),
  queueName: queueNameSchema.optional(),
  prefix: queueNameSchema.optional(),
  lostAfterMs: z.number().int().min(0).max(3_600_000).optional(),
  eventsMaxLen: z.number().int().min(1000).max(10_000_000).optional(),
  producerTtlMs: z.number().int().min(300).max(3_600_000).optional(),
});

export function resolveTransportOptions(
  options: BullMQTransportOptions,
): ResolvedQueueOptions & { lostAfterMs: number; eventsMaxLen: number; producerTtlMs: number } {
  const parsed = parseOrThrow(schema, options, 'BullMQ transport options');
  return {
    connection: resolveConnection(options.connection),
    queueName: parsed.queueName ?? 'sessionpool',
    prefix: parsed.prefix ?? 'bull',
    lostAfterMs: parsed.lostAfterMs ?? 10_000,
    eventsMaxLen: parsed.eventsMaxLen ?? 100_000,
    producerTtlMs: parsed.producerTtlMs ?? 15_000,
  };
}
