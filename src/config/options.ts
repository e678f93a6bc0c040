// The supervisor's options: their schema (every field checked, with what was expected and what was
// received), their defaults and their resolution into what the engine, routing and the pool run
// with. A worker host resolves its own options through the same schema.
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../util/clock.ts';
import type { RetrySettings } from '../wire/protocol.ts';
import { limitsSchema } from '../routing/limits.ts';
import { resolveRouting, routingSchema } from '../routing/options.ts';
import type { RoutingOptions, InspectOption, ProviderConfig, RetryOptions } from '../types/options.ts';
import type { RoutingSettings } from '../routing/router.ts';
import { isTransport, type Transport } from '../seam/seam.ts';
import { fallbacksSchema } from '../request/fallbacks-schema.ts';
import { nonNegativeInt, positiveInt } from '../util/validation.ts';
import { parseOrThrow } from '../errors/checks.ts';
import type { ProviderProfile } from '../request/providers.ts';
import { resolveProviders } from '../request/providers.ts';
import type { BudgetOptions, ModelPrice, TelemetryOptions } from '../types/cost.ts';

/**
 * The options of {@link createSupervisor} (and `new Supervisor`), all optional and all checked when
 * the supervisor is created: a wrong one throws ERR_INVALID_REQUEST naming it, and nothing starts.
 */
export interface SupervisorOptions {
  /** Providers by name; `kimi`, `glm` and `openai` are built in and can be overridden field by field. @default the built-in providers, keys read from the environment */
  providers?: Record<string, ProviderConfig>;
  /** Worker threads for provider calls (1 to 256); each runs many sessions at once. `execute` handlers get a second pool of as many threads. @default min(4, availableParallelism()) */
  threads?: number;
  /** Sessions in `processing` at once: the slots (real calls in flight). @default 64 */
  maxConcurrent?: number;
  /** Sessions waiting for a slot; one more is refused at once with `ERR_QUEUE_FULL`. @default 1024 */
  maxQueue?: number;
  /** Default deadline of a session in ms, queue wait included (1 ms to 24 h); a request's `timeoutMs` overrides it. @default 120_000 */
  timeoutMs?: number;
  /** Retries of a failed provider call. @default { maxRetries: 2, baseDelayMs: 500, maxDelayMs: 8000 } */
  retry?: RetryOptions;
  /** How long (ms) a worker may take to confirm an aborted call settled before its thread is killed. @default 5000 */
  abortGraceMs?: number;
  /**
   * A pino logger (a child per session is derived from it, bound to `sessionId`, `requestId`,
   * `provider`), or false for silence.
   * @default pino at 'warn' (or `SESSIONPOOL_LOG_LEVEL`) on stderr
   */
  logger?: Logger | false;
  /**
   * An XState inspection observer or callback: every session then runs as an XState actor of the
   * session machine, reporting to it (without it sessions follow the same machine through a table
   * compiled from it, at a fraction of the cost). What it throws is an `error` event, never the session's.
   * @default none
   */
  inspect?: InspectOption;
  /** Time source of the supervisor's deadlines; tests pass a ManualClock (workers still end calls on real time). @default the system clock */
  clock?: Clock;
  /**
   * Memory limits of each worker thread (see worker_threads `resourceLimits`); values a worker cannot
   * start with are refused. `ready()` rejects with ERR_WORKER_CRASHED when a thread exits before it was up.
   * @default none: Node's own limits
   */
  resourceLimits?: {
    /** The main heap's size, in MB (at least 16). */
    maxOldGenerationSizeMb?: number;
    /** The heap space for recently created objects, in MB (at least 2). */
    maxYoungGenerationSizeMb?: number;
    /** The thread's stack, in MB (at least 1). */
    stackSizeMb?: number;
  };
  /**
   * Decoded bytes (after gzip) of one response body or stream beyond which the call fails with
   * ERR_RESPONSE_TOO_LARGE; a request can ask for less or more. @default 33_554_432 (32 MiB)
   */
  maxResponseBytes?: number;
  /**
   * Circuit breakers, AIMD, the limiter's store (see docs/routing.md); `false` turns off what is on by
   * default. @default on: limits learned per key from its 429s, one Retry-After for everyone on a key,
   * a breaker per provider with the defaults, an in-memory limiter
   */
  routing?: RoutingOptions | false;
  /**
   * Where sessions run: the in-process pool of worker threads, or a queue across hosts, e.g.
   * `bullmq({ connection: 'redis://127.0.0.1:6379', queueName: 'sessions' })` (see docs/hosts.md).
   * @default the in-process pool
   */
  transport?: Transport;
  /**
   * OpenTelemetry traces and metrics of chat sessions, through the global `@opentelemetry/api` (an
   * optional peer): with a tracer provider registered, a span per session under the caller's
   * active span and a child span per provider call; with a meter provider, the GenAI client
   * metrics. `false` turns both off; `{ recordContent: true }` adds the messages to the spans.
   * @default true (spans and metrics when a provider is registered, without message content)
   */
  telemetry?: boolean | TelemetryOptions;
  /**
   * Prices per million tokens by model id, over the shipped table (`PRICES`); `false`: no
   * prices, so no `result.metadata.cost` and no spend.
   * @default the shipped table
   */
  prices?: Record<string, ModelPrice> | false;
  /** Spending limits per provider and per caller tag (`metadata.tag`): beyond one, ERR_BUDGET_EXCEEDED before any call. @default none */
  budgets?: BudgetOptions;
}

export interface ResolvedOptions {
  providers: Map<string, ProviderProfile>;
  threads: number;
  maxConcurrent: number;
  maxQueue: number;
  timeoutMs: number;
  retry: RetrySettings;
  abortGraceMs: number;
  maxResponseBytes: number;
  resourceLimits?: SupervisorOptions['resourceLimits'];
  routing: RoutingSettings;
  telemetry: boolean | TelemetryOptions;
  prices: Record<string, ModelPrice> | false;
  budgets?: BudgetOptions;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** The smallest limits a session worker runs with: measured on Node 24, 13 MB of old generation crash a worker at its first session, 1-12 MB (or 1 MB of young generation) never start one (1 MB aborts the whole process); 16 leaves a margin. */
export const MIN_WORKER_LIMITS = { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2, stackSizeMb: 1 } as const;

const providerSchema = z.strictObject({
  baseURL: z.url({ protocol: /^https?$/ }).optional(),
  apiKey: z.string().min(1).optional(),
  defaultModel: z.string().min(1).optional(),
  defaultTemperature: z.number().min(0).max(2).optional(),
  dialect: z.enum(['kimi', 'glm', 'openai']).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  limits: limitsSchema.optional(),
  fallbacks: fallbacksSchema.optional(),
  routing: z.boolean().optional(),
});

const limit = (min: number, max: number) => z.number().int().min(min).max(max);

const currency = z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 currency code such as "USD"');
const perMillion = z.number().min(0).max(1_000_000);
const priceSchema = z.strictObject({ input: perMillion, cachedInput: perMillion.optional(), output: perMillion, currency });
const budgetSchema = z.strictObject({ limit: z.number().min(0), currency: currency.optional() });
// A key `__proto__` (JSON.parse makes one) would be dropped without a word by the parsed record: refused instead.
const ownKeys = <T extends z.ZodType>(record: T) =>
  z
    .custom<unknown>(
      (value) => typeof value !== 'object' || value === null || !Object.hasOwn(value, '__proto__'),
      'a key named "__proto__" cannot be kept (it names the object\'s prototype)',
    )
    .pipe(record);
const budgetsSchema = z.strictObject({
  providers: ownKeys(z.record(z.string().min(1), budgetSchema)).optional(),
  tags: ownKeys(z.record(z.string().min(1), budgetSchema)).optional(),
});

const optionsSchema = z.strictObject({
  providers: z.record(z.string().min(1), providerSchema).optional(),
  threads: positiveInt(256).optional(),
  maxConcurrent: positiveInt(1_000_000).optional(),
  maxQueue: nonNegativeInt(10_000_000).optional(),
  timeoutMs: positiveInt(86_400_000).optional(),
  retry: z
    .strictObject({
      maxRetries: nonNegativeInt(20).optional(),
      baseDelayMs: nonNegativeInt(600_000).optional(),
      maxDelayMs: nonNegativeInt(3_600_000).optional(),
    })
    .optional(),
  abortGraceMs: nonNegativeInt(600_000).optional(),
  logger: z
    .union([z.literal(false), z.custom<Logger>((v) => typeof v === 'object' && v !== null && 'child' in v, 'expected a pino logger or false')])
    .optional(),
  inspect: z
    .custom<InspectOption>((v) => typeof v === 'function' || (typeof v === 'object' && v !== null), 'expected an inspection observer or callback')
    .optional(),
  clock: z.custom<Clock>((v) => typeof v === 'object' && v !== null && 'now' in v && 'setTimer' in v, 'expected a Clock').optional(),
  resourceLimits: z
    .strictObject({
      maxOldGenerationSizeMb: limit(MIN_WORKER_LIMITS.maxOldGenerationSizeMb, 65_536).optional(),
      maxYoungGenerationSizeMb: limit(MIN_WORKER_LIMITS.maxYoungGenerationSizeMb, 65_536).optional(),
      stackSizeMb: limit(MIN_WORKER_LIMITS.stackSizeMb, 1024).optional(),
    })
    .optional(),
  maxResponseBytes: positiveInt(1024 * 1024 * 1024).optional(),
  routing: routingSchema.optional(),
  transport: z.custom<Transport>(isTransport, 'expected a transport (such as bullmq({ connection, queueName }))').optional(),
  telemetry: z.union([z.boolean(), z.strictObject({ recordContent: z.boolean().optional() })]).optional(),
  prices: z.union([z.literal(false), ownKeys(z.record(z.string().min(1), priceSchema))]).optional(),
  budgets: budgetsSchema.optional(),
});

export function resolveOptions(options: SupervisorOptions = {}): ResolvedOptions {
  const parsed = parseOrThrow(optionsSchema, options, 'supervisor options');
  const retry = { maxRetries: 2, baseDelayMs: 500, maxDelayMs: 8000, ...parsed.retry };
  const providers = resolveProviders(parsed.providers);
  return {
    providers,
    routing: resolveRouting(parsed.routing, parsed.providers ?? {}, providers),
    threads: parsed.threads ?? Math.min(4, availableParallelism()),
    maxConcurrent: parsed.maxConcurrent ?? 64,
    maxQueue: parsed.maxQueue ?? 1024,
    timeoutMs: parsed.timeoutMs ?? 120_000,
    retry,
    abortGraceMs: parsed.abortGraceMs ?? 5000,
    maxResponseBytes: parsed.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    ...(parsed.resourceLimits !== undefined ? { resourceLimits: parsed.resourceLimits } : {}),
    telemetry: parsed.telemetry ?? true,
    prices: (parsed.prices ?? {}) as Record<string, ModelPrice> | false,
    ...(parsed.budgets !== undefined ? { budgets: parsed.budgets as BudgetOptions } : {}),
  };
}
