// The options of createWorker() and `sessionpool worker`: the queue, this host's own providers
// (with their keys: they never leave this host), its pool, and BullMQ's lock and stall settings.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { z } from 'zod';
import { resolveOptions, type ResolvedOptions } from '../../config/options.ts';
import type { ProviderConfig, RoutingOptions } from '../../types/options.ts';
import { nonNegativeInt, positiveInt } from '../../util/validation.ts';
import { parseOrThrow } from '../../errors/checks.ts';
import { resolveConnection, type RedisConnection, type ResolvedConnection } from './connection.ts';
import { JobSigner, resolveJobSecret } from './job-signature.ts';
import { queueNameSchema } from './options.ts';
import { resolveHandlers } from './worker-handlers.ts';

/** The options of {@link createWorker} (and of `sessionpool worker`'s config file), checked when it is called. */
export interface WorkerHostOptions {
  /** Where Redis is (as for bullmq()): a `redis://` or `rediss://` URL, or {@link RedisConnectionOptions}. */
  connection: RedisConnection;
  /** The queue to take jobs from: the producers' `queueName`. @default 'sessionpool' */
  queueName?: string;
  /** Prefix of every Redis key of the queue: the producers' `prefix`. @default 'bull' */
  prefix?: string;
  /** This host's providers, keys included (the built-in ones read theirs from the environment). Jobs name a provider; its key stays here. @default the built-in providers */
  providers?: Record<string, ProviderConfig>;
  /** Worker threads of this host's pool. @default min(4, availableParallelism()) */
  threads?: number;
  /** Sessions (jobs) this host runs at once (1 to 100_000): its `maxConcurrent`. @default 64 */
  concurrency?: number;
  /** Breakers and AIMD; key limits (`providers.<name>.limits`) are shared with every host through Redis unless `store` is given. */
  routing?: RoutingOptions;
  /** How long (ms) an aborted call may take to settle before its thread is killed. @default 5000 */
  abortGraceMs?: number;
  /** BullMQ's job lock, in ms (at least 500): a host that stops renewing it for this long is taken for dead. @default 30_000 */
  lockDurationMs?: number;
  /** How often (ms, at least 100) this host looks for jobs whose host died (BullMQ's stalled-job check). @default 30_000 */
  stalledIntervalMs?: number;
  /** This host's name in results (`metadata.session.host`). @default `${hostname()}:${process.pid}` */
  name?: string;
  /** A pino logger (Redis errors, refused jobs, the sessions' own lines), or false for silence. @default pino at 'warn' (or `SESSIONPOOL_LOG_LEVEL`) on stderr */
  logger?: Logger | false;
  /**
   * The secret the producers sign jobs with (see bullmq()): this host runs only jobs signed with it
   * and refuses the rest typed, without any provider call. At least 32 characters.
   * @default process.env.SESSIONPOOL_JOB_SECRET (one of the two is required)
   */
  jobSecret?: string;
  /**
   * Handler modules (paths or file: URLs) this host runs `execute` sessions of; a job naming any
   * other module is refused typed. Producers name the module by its file: URL, which must be the
   * same on both hosts. @default [] (chat sessions only)
   */
  handlers?: Array<string | URL>;
}

export interface ResolvedWorkerOptions {
  connection: ResolvedConnection;
  queueName: string;
  prefix: string;
  engine: ResolvedOptions;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  name: string;
  signer: JobSigner;
  /** Allowed handler modules, as file: URLs. */
  handlers: ReadonlySet<string>;
}

const schema = z.strictObject({
  connection: z.unknown(),
  queueName: queueNameSchema.optional(),
  prefix: queueNameSchema.optional(),
  providers: z.unknown().optional(),
  threads: z.unknown().optional(),
  concurrency: positiveInt(100_000).optional(),
  routing: z.unknown().optional(),
  abortGraceMs: z.unknown().optional(),
  lockDurationMs: positiveInt(3_600_000)
    .refine((v) => v >= 500, 'expected at least 500')
    .optional(),
  stalledIntervalMs: nonNegativeInt(3_600_000)
    .refine((v) => v >= 100, 'expected at least 100')
    .optional(),
  name: z.string().min(1).max(200).optional(),
  logger: z.unknown().optional(),
  // Checked by resolveJobSecret, which never quotes it.
  jobSecret: z.unknown().optional(),
  handlers: z.unknown().optional(),
});

export function resolveWorkerOptions(options: WorkerHostOptions): ResolvedWorkerOptions {
  const parsed = parseOrThrow(schema, options, 'worker options');
  const concurrency = parsed.concurrency ?? 64;
  const queueName = parsed.queueName ?? 'sessionpool';
  const prefix = parsed.prefix ?? 'bull';
  const secret = resolveJobSecret(options.jobSecret, 'worker options');
  // The engine's own schema checks providers, threads, routing and the grace period.
  const engine = resolveOptions({
    ...(options.providers !== undefined ? { providers: options.providers } : {}),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.routing !== undefined ? { routing: options.routing } : {}),
    ...(options.abortGraceMs !== undefined ? { abortGraceMs: options.abortGraceMs } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
    maxConcurrent: concurrency,
  });
  return {
    connection: resolveConnection(options.connection),
    queueName,
    prefix,
    engine,
    concurrency,
    lockDurationMs: parsed.lockDurationMs ?? 30_000,
    stalledIntervalMs: parsed.stalledIntervalMs ?? 30_000,
    name: parsed.name ?? `${hostname()}:${process.pid}`,
    signer: new JobSigner(secret, { prefix, queueName }),
    handlers: resolveHandlers(options.handlers),
  };
}
