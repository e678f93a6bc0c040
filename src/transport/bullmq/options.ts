// The options of bullmq() (the producer's transport), checked before anything connects.
import { z } from 'zod';
import { parseOrThrow } from '../../errors/checks.ts';
import { resolveConnection, type RedisConnection, type ResolvedConnection } from './connection.ts';
import { JobSigner, resolveJobSecret } from './job-signature.ts';

/** The options of {@link bullmq}, checked when it is called (before anything connects). */
export interface BullMQTransportOptions {
  /** Where Redis is: `redis://[user:password@]host:port/db` (`rediss://` for TLS), or `{ host, port, password, tls }`. */
  connection: RedisConnection;
  /** The BullMQ queue the sessions go through; workers started with the same name take them. @default 'sessionpool' */
  queueName?: string;
  /** Prefix of every Redis key of the queue (BullMQ's `prefix`); the worker hosts must use the same. @default 'bull' */
  prefix?: string;
  /**
   * How long past its deadline a session whose job never answered (every worker host gone, say) keeps
   * its slot before the transport gives its run up, in ms (0 to 3_600_000). @default 10_000
   */
  lostAfterMs?: number;
  /** Entries kept (approximately) in the queue's event stream, which carries results and deltas (1000 to 10_000_000). @default 100_000 */
  eventsMaxLen?: number;
  /**
   * The secret jobs are signed with (HMAC-SHA256), shared with the worker hosts and never stored in
   * Redis: hosts run only jobs signed with it. At least 32 characters (`openssl rand -hex 32`).
   * @default process.env.SESSIONPOOL_JOB_SECRET (one of the two is required)
   */
  jobSecret?: string;
  /**
   * This producer says it is alive in Redis with a key of this TTL, refreshed every third of it; a
   * worker host refuses, without a call, a job whose producer's key is gone (killed, or away from
   * Redis this long), in ms (300 to 3_600_000). @default 15_000
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
  // Checked by resolveJobSecret, which never quotes it.
  jobSecret: z.unknown().optional(),
  producerTtlMs: z.number().int().min(300).max(3_600_000).optional(),
});

export function resolveTransportOptions(
  options: BullMQTransportOptions,
): ResolvedQueueOptions & { lostAfterMs: number; eventsMaxLen: number; producerTtlMs: number; signer: JobSigner } {
  const parsed = parseOrThrow(schema, options, 'BullMQ transport options');
  const queueName = parsed.queueName ?? 'sessionpool';
  const prefix = parsed.prefix ?? 'bull';
  const secret = resolveJobSecret(options.jobSecret, 'BullMQ transport options');
  return {
    connection: resolveConnection(options.connection),
    queueName,
    prefix,
    signer: new JobSigner(secret, { prefix, queueName }),
    lostAfterMs: parsed.lostAfterMs ?? 10_000,
    eventsMaxLen: parsed.eventsMaxLen ?? 100_000,
    producerTtlMs: parsed.producerTtlMs ?? 15_000,
  };
}
