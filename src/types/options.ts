// The public types of options: providers and their dialects, retries, inspection, rate limits and
// presets, circuit breakers, AIMD, and the limiter store a shared deployment plugs in.
import type { Observer, InspectionEvent } from 'xstate';
import type { FallbackTarget } from './route.ts';

/** An XState inspection observer or callback, attached to every session actor. */
export type InspectOption = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/**
 * How requests are shaped and responses read: Moonshot Kimi's API (partial mode, context cache,
 * `$web_search`), Zhipu GLM's (its error codes, `web_search` tool, temperature range), or plain
 * OpenAI Chat Completions (any other compatible server).
 */
export type Dialect = 'kimi' | 'glm' | 'openai';

/**
 * A provider of `createSupervisor({ providers })`: a built-in one (`kimi`, `glm`, `openai`) overridden
 * field by field, or one of your own (an OpenAI-compatible server: `baseURL` required).
 */
export interface ProviderConfig {
  /** The API's base URL, without `/chat/completions` (and without credentials in it). @default the built-in profile's URL; required for a provider that is not built in */
  baseURL?: string;
  /**
   * The key sent as `Authorization: Bearer`. A session of a provider without one fails with ERR_INVALID_REQUEST.
   * @default read from the profile's environment variables (`MOONSHOT_API_KEY` or `KIMI_API_KEY`; `ZHIPUAI_API_KEY`, `GLM_API_KEY` or `ZAI_API_KEY`; `OPENAI_API_KEY`)
   */
  apiKey?: string;
  /** The model of a request that names none. @default `moonshot-v1-8k` (kimi), `glm-4.5-flash` (glm), `gpt-4o-mini` (openai), `default` for others */
  defaultModel?: string;
  /** The temperature of a request that sets none (0 to 2). @default 0.6 (kimi), 0.3 (glm); others: not sent */
  defaultTemperature?: number;
  /** How requests are shaped and responses read. @default 'openai' for custom providers */
  dialect?: Dialect;
  /** Extra headers sent with every call of this provider. */
  headers?: Record<string, string>;
  /** Rate limits of this provider's key (a preset such as `'kimi-tier1'`, or your own). @default none: not limited */
  limits?: LimitsConfig | LimitPreset;
  /** Where this provider's sessions go when it fails them (a request's own `fallbacks` win). @default [] */
  fallbacks?: FallbackTarget[];
  /** `false`: no learned limits, shared back-off nor default breaker for this provider (configured `limits` still apply). @default true */
  routing?: boolean;
}

/** Moonshot's published rate-limit tiers, usable as `providers.kimi.limits` (see src/routing/limits.ts for their figures). */
export type LimitPreset = 'kimi-tier0' | 'kimi-tier1' | 'kimi-tier2' | 'kimi-tier3' | 'kimi-tier4' | 'kimi-tier5';

/** The rate limits of one provider's key (`providers.<name>.limits`); every field is optional and unset means not limited. */
export interface LimitsConfig {
  /** Requests per minute on this key. @default not limited */
  requestsPerMinute?: number;
  /** Requests per second (instead of per minute, for providers that count per second; not both). @default not limited */
  requestsPerSecond?: number;
  /** Tokens per minute: estimated input plus `maxOutputTokens`, corrected by the usage that comes back. @default not limited */
  tokensPerMinute?: number;
  /** Calls in flight at once on this key (not the supervisor's `maxConcurrent`). @default not limited */
  concurrency?: number;
  /** Requests that may leave at once. @default 5 % of the per-window limit, at least 1 */
  burst?: number;
  /** Share of each limit kept free, for clock drift and network jitter (0 to 0.9). @default 0.05 */
  headroom?: number;
}

/** The `routing` option of `createSupervisor()`: circuit breakers, AIMD on 429s, and where key budgets live. */
export interface RoutingOptions {
  /** A circuit breaker per provider: `true` for the defaults, or settings. @default false */
  breaker?: boolean | Partial<BreakerSettings>;
  /** How a 429 shrinks a key's budget and successes grow it back. @default { decrease: 0.5, increase: 0.05, floor: 0.05 } */
  aimd?: Partial<AimdSettings>;
  /** Output tokens charged to `tokensPerMinute` for a call without `maxOutputTokens`. @default 1024 */
  defaultOutputTokens?: number;
  /** Where key budgets live. @default an in-memory store (one process) */
  store?: LimiterStore;
}

/** When a provider's circuit opens and how long it stays open (`routing.breaker`). */
export interface BreakerSettings {
  /** Consecutive failures that open the circuit. @default 5 */
  failures: number;
  /** Failure share over the window that opens it. @default 0.5 */
  errorRate: number;
  /** The window of the error rate, in ms. @default 30_000 */
  windowMs: number;
  /** Calls in the window before the error rate counts. @default 10 */
  minRequests: number;
  /** How long it stays open before a probe may go, in ms. @default 10_000 */
  cooldownMs: number;
}

/**
 * Additive increase, multiplicative decrease of a key's budget (`routing.aimd`): the factor, the share
 * of the configured limits in force, shrinks on every 429 and grows back on every success.
 */
export interface AimdSettings {
  /** The factor is multiplied by this on a 429. @default 0.5 */
  decrease: number;
  /** The factor grows by this on every success, up to 1. @default 0.05 */
  increase: number;
  /** The factor never goes below this. @default 0.05 */
  floor: number;
}

/** A token bucket of a key, as a LimiterStore keeps it. */
export interface Bucket {
  /** What is left to spend (requests or tokens) as of `at`; it refills with time up to the burst. */
  level: number;
  /** When `level` was last brought up to date, in the store's milliseconds (the `now` of `update`). */
  at: number;
}

/** The limiter's state of one key (a provider and a key hash), as a LimiterStore keeps it. */
export interface KeyState {
  /** The requests bucket; absent when the key has no request limit. */
  requests?: Bucket;
  /** The tokens bucket; absent when the key has no `tokensPerMinute`. */
  tokens?: Bucket;
  /** Calls on this key sent and not yet settled, all hosts sharing the store together. */
  inFlight: number;
  /** Share of the configured budget in force (AIMD), in (0, 1]. */
  factor: number;
  /** Nobody on this key sends before this time (a 429's Retry-After), in the store's milliseconds (0: never blocked). */
  blockedUntil: number;
  /** What the key's refusals taught (src/routing/adaptive.ts); absent until its first call or refusal. */
  learned?: LearnedLimits;
  /** The pacing bucket of a learned request rate (burst 1). */
  paced?: Bucket;
}

/**
 * A key's capacity as learned from the provider, with no configuration (`stats().routing.keys`):
 * a 429 lowers a limit, successes grow it back. Absent fields do not limit.
 */
export interface LearnedLimits {
  /** Requests per second in force, learned from rate refusals. */
  requestsPerSecond?: number;
  /** Calls in flight in force, learned from concurrency refusals (GLM 1302, Kimi's "max organization concurrency"). */
  concurrency?: number;
  /**
   * The key's slow start: 3 calls at once, half a call more per answer, twice as many for every 250 ms
   * without one (every second once one came), until 128 (a provider that refuses does it to a few calls; one that is down costs a few calls).
   */
  probation?: boolean;
  /** Answers seen on probation. */
  answers?: number;
  /** When a call last failed on the key (the provider unwell) while none was answered: the probation's cap holds a while. */
  failedAt?: number;
  /** 429 rate limits seen on the key. */
  refusals: number;
  /** The last Retry-After the provider gave on the key, in ms. */
  lastRetryAfterMs?: number;
  /** The first rate was set less than an episode ago: the first wave's later refusals may still raise it. */
  firstEpisode?: boolean;
  /** When a refusal last lowered a limit (the store's ms): growth starts slowly after it. */
  cutAt: number;
  /** When the limits last grew (the store's ms). */
  grownAt: number;
}

/**
 * Where the rate limiter keeps its key states (`routing.store`): in memory by default, or shared by
 * several processes, e.g. `redisLimiterStore(url)`. A store that fails or does not answer never
 * fails a session: the limiter goes on with this host's own view and replays its steps later.
 */
export interface LimiterStore {
  /**
   * Applies `change` to the state of `key` (undefined for a key never seen) as one atomic step and
   * resolves with its result. `now` is the store's time in milliseconds (a shared store uses one
   * clock for all hosts). Keys never contain secrets: they are a provider name and a key hash.
   */
  update<R>(key: string, change: (state: KeyState | undefined, now: number) => [KeyState, R]): Promise<R>;
}

/**
 * Retries of a failed provider call (`SupervisorOptions.retry`). A call is tried again only when it
 * can succeed (connection errors, 5xx, rate limits, overloads; never 400/401/403/404), never past the
 * session's deadline, and a stream only while no text was delivered. The wait honours the provider's
 * `Retry-After` (never sooner); without one it is a jittered exponential backoff.
 */
export interface RetryOptions {
  /** Retries after the first call (0: none, up to 20); a request's `maxRetries` overrides it. @default 2 */
  maxRetries?: number;
  /** The first retry waits between half of this and all of it, in ms; it doubles with each further retry. @default 500 */
  baseDelayMs?: number;
  /** The cap of that doubling, in ms: no backoff wait is longer (a provider's `Retry-After` may be). @default 8000 */
  maxDelayMs?: number;
}

/** A built-in provider's profile: what `providers.<name>` starts from before your fields override it. */
export interface BuiltInProvider {
  /** How requests are shaped and answers read (continuation, cache, web search, temperature range). */
  dialect: Dialect;
  /** The provider's API base URL (the SDK's `baseURL`). */
  baseURL: string;
  /** The model of a request that names none. */
  defaultModel: string;
  /** The temperature of a request that gives none (absent: the server's default). */
  defaultTemperature?: number;
  /** Environment variables the key is read from when `apiKey` is not given, first set wins. */
  keyEnv: readonly string[];
}
