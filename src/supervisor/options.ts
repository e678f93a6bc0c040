import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../util/clock.ts';
import { InvalidRequestError } from '../errors/errors.ts';
import { splitURL } from '../util/redact.ts';
import type { ResolvedProvider, RetrySettings } from '../wire/protocol.ts';
import type { Dialect } from '../types/options.ts';
import type { LimitPreset, LimitsConfig } from '../routing/limits.ts';
import { limitsSchema } from '../routing/limits.ts';
import { resolveRouting, routingSchema, type RoutingOptions } from '../routing/options.ts';
import type { RoutingSettings } from '../routing/router.ts';
import { isTransport, type Transport } from '../seam/transport.ts';
import { fallbacksSchema } from '../routing/targets.ts';
import type { FallbackTarget } from '../types/route.ts';
import { HEADER_NAME, headerValueIssue, nonNegativeInt, positiveInt } from '../util/validation.ts';
import { parseOrThrow } from '../errors/checks.ts';
import type { InspectOption } from '../types/options.ts';

export interface ProviderConfig {
  /** @default the built-in profile's URL; required for a provider that is not built in */
  baseURL?: string;
  /** @default read from the profile's environment variables */
  apiKey?: string;
  defaultModel?: string;
  defaultTemperature?: number;
  /** How requests are shaped and responses read. @default 'openai' for custom providers */
  dialect?: Dialect;
  /** Extra headers sent with every call of this provider. */
  headers?: Record<string, string>;
  /** Rate limits of this provider's key (a preset such as `'kimi-tier1'`, or your own). @default none: not limited */
  limits?: LimitsConfig | LimitPreset;
  /** Where this provider's sessions go when it fails them (a request's own `fallbacks` win). @default [] */
  fallbacks?: FallbackTarget[];
}

export interface SupervisorOptions {
  /** Providers by name; `kimi`, `glm` and `openai` are built in and can be overridden field by field. */
  providers?: Record<string, ProviderConfig>;
  /** Worker threads. @default min(4, availableParallelism()) */
  threads?: number;
  /** Sessions in `processing` at once. @default 64 */
  maxConcurrent?: number;
  /** Sessions waiting for a slot; beyond it `ERR_QUEUE_FULL`. @default 1024 */
  maxQueue?: number;
  /** Default deadline of a session, queue wait included. @default 120_000 */
  timeoutMs?: number;
  /** Retries of a provider call. @default { maxRetries: 2, baseDelayMs: 500, maxDelayMs: 8000 } */
  retry?: Partial<RetrySettings>;
  /** How long a worker may take to confirm an aborted call settled before its thread is killed. @default 5000 */
  abortGraceMs?: number;
  /** A pino logger (a child per session is derived from it), or false for silence. @default pino at 'info' on stderr */
  logger?: Logger | false;
  inspect?: InspectOption;
  /** Time source of deadlines; tests pass a ManualClock. @default the system clock */
  clock?: Clock;
  /** Memory limits of each worker thread (see worker_threads resourceLimits); values a worker cannot start with are refused. */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number; stackSizeMb?: number };
  /**
   * Decoded bytes (after gzip) of one response body or stream beyond which the call fails with
   * ERR_RESPONSE_TOO_LARGE; a request can ask for less or more. @default 33_554_432 (32 MiB)
   */
  maxResponseBytes?: number;
  /** Circuit breakers, AIMD, the limiter's store (see README, Routing). */
  routing?: RoutingOptions;
  /**
   * Where sessions run: the in-process pool of worker threads, or a queue across hosts, e.g.
   * `bullmq({ connection: 'redis://127.0.0.1:6379', queueName: 'sessions' })` (see README, Several hosts).
   * @default the in-process pool
   */
  transport?: Transport;
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
}

export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** The smallest limits a session worker runs with: measured on Node 24, 13 MB of old generation crash a worker at its first session, 1-12 MB (or 1 MB of young generation) never start one (1 MB aborts the whole process); 16 leaves a margin. */
export const MIN_WORKER_LIMITS = { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2, stackSizeMb: 1 } as const;

/** A provider as configured; `apiKey` may still be missing (checked when a session uses it). */
export interface ProviderProfile extends Omit<ResolvedProvider, 'apiKey'> {
  apiKey?: string;
  keyEnv: readonly string[];
}

interface BuiltIn {
  dialect: Dialect;
  baseURL: string;
  defaultModel: string;
  defaultTemperature?: number;
  keyEnv: readonly string[];
}

export const BUILT_IN_PROVIDERS: Readonly<Record<string, BuiltIn>> = {
  kimi: {
    dialect: 'kimi',
    baseURL: 'https://api.moonshot.ai/v1',
    defaultModel: 'moonshot-v1-8k',
    defaultTemperature: 0.6,
    keyEnv: ['MOONSHOT_API_KEY', 'KIMI_API_KEY'],
  },
  glm: {
    dialect: 'glm',
    baseURL: 'https://api.z.ai/api/paas/v4',
    defaultModel: 'glm-4.5-flash',
    defaultTemperature: 0.3,
    keyEnv: ['ZHIPUAI_API_KEY', 'GLM_API_KEY', 'ZAI_API_KEY'],
  },
  openai: {
    dialect: 'openai',
    baseURL: 'https://api.openai.com/v1',
    defaultModel: 'gpt-4o-mini',
    keyEnv: ['OPENAI_API_KEY'],
  },
};

const providerSchema = z.strictObject({
  baseURL: z.url({ protocol: /^https?$/ }).optional(),
  apiKey: z.string().min(1).optional(),
  defaultModel: z.string().min(1).optional(),
  defaultTemperature: z.number().min(0).max(2).optional(),
  dialect: z.enum(['kimi', 'glm', 'openai']).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  limits: limitsSchema.optional(),
  fallbacks: fallbacksSchema.optional(),
});

const limit = (min: number, max: number) => z.number().int().min(min).max(max);

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
});

function optionsIssue(issue: string): never {
  throw new InvalidRequestError(`Invalid supervisor options: ${issue}`, [issue]);
}

/** What zod cannot say without quoting a credential: URLs with user:password, bad header names and values, keys. */
function checkCredentials(name: string, own: ProviderConfig): void {
  // An `@` anywhere after `//` counts: a password written unencoded (`https://u:8080/x@host`) is
  // read by a URL parser as a host and a path, and would be sent on as such.
  if (own.baseURL !== undefined && splitURL(own.baseURL)?.userinfo !== undefined) {
    optionsIssue(
      `\`providers.${name}.baseURL\`: expected a URL without credentials (user:password@ before the host; an @ in a path is written %40), got one with them; pass the key as providers.${name}.apiKey or in providers.${name}.headers`,
    );
  }
  const keyIssue = own.apiKey === undefined ? undefined : headerValueIssue(own.apiKey);
  if (keyIssue !== undefined) optionsIssue(`\`providers.${name}.apiKey\`: ${keyIssue} (it is sent in the Authorization header)`);
  for (const [header, value] of Object.entries(own.headers ?? {})) {
    if (!HEADER_NAME.test(header))
      optionsIssue(`\`providers.${name}.headers\`: expected header names made of letters, digits and !#$%&'*+-.^_\`|~, got ${JSON.stringify(header)}`);
    const issue = headerValueIssue(value);
    if (issue !== undefined) optionsIssue(`\`providers.${name}.headers.${header}\`: the value ${issue}`);
  }
}

function readEnv(names: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  for (const name of names) {
    const value = env[name];
    if (value) return value;
  }
  return undefined;
}

export function resolveProviders(config: Record<string, ProviderConfig> = {}, env = process.env): Map<string, ProviderProfile> {
  const providers = new Map<string, ProviderProfile>();
  for (const name of new Set([...Object.keys(BUILT_IN_PROVIDERS), ...Object.keys(config)])) {
    const builtIn = BUILT_IN_PROVIDERS[name];
    const own = config[name] ?? {};
    checkCredentials(name, own);
    const baseURL = own.baseURL ?? builtIn?.baseURL;
    if (baseURL === undefined) {
      const issue = `\`providers.${name}.baseURL\`: required for a provider that is not built in, got undefined`;
      throw new InvalidRequestError(`Invalid supervisor options: ${issue}`, [issue]);
    }
    const keyEnv = builtIn?.keyEnv ?? [];
    const apiKey = own.apiKey ?? readEnv(keyEnv, env);
    const defaultTemperature = own.defaultTemperature ?? builtIn?.defaultTemperature;
    providers.set(name, {
      name,
      dialect: own.dialect ?? builtIn?.dialect ?? 'openai',
      baseURL: baseURL.replace(/\/+$/, ''),
      defaultModel: own.defaultModel ?? builtIn?.defaultModel ?? 'default',
      keyEnv,
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(defaultTemperature !== undefined ? { defaultTemperature } : {}),
      ...(own.headers !== undefined ? { headers: own.headers } : {}),
    });
  }
  return providers;
}

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
  };
}
