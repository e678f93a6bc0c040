import type { Observer } from 'xstate';
import type { InspectionEvent } from 'xstate';
import type { FallbackTarget } from './route.ts';
/** An XState inspection observer or callback, attached to every session actor. */
export type InspectOption = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

export type Dialect = 'kimi' | 'glm' | 'openai';

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

/** Moonshot's published rate-limit tiers, usable as `providers.kimi.limits` (see src/routing/limits.ts for their figures). */
export type LimitPreset = 'kimi-tier0' | 'kimi-tier1' | 'kimi-tier2' | 'kimi-tier3' | 'kimi-tier4' | 'kimi-tier5';

export interface LimitsConfig {
  /** Requests per minute on this key. */
  requestsPerMinute?: number;
  /** Requests per second (instead of per minute, for providers that count per second). */
  requestsPerSecond?: number;
  /** Tokens per minute: estimated input plus `maxOutputTokens`, corrected by the usage that comes back. */
  tokensPerMinute?: number;
  /** Calls in flight at once on this key. */
  concurrency?: number;
  /** Requests that may leave at once. @default 5 % of the per-window limit, at least 1 */
  burst?: number;
  /** Share of each limit kept free, for clock drift and network jitter. @default 0.05 */
  headroom?: number;
}

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

export interface BreakerSettings {
  /** Consecutive failures that open the circuit. @default 5 */
  failures: number;
  /** Failure share over the window that opens it. @default 0.5 */
  errorRate: number;
  /** The window of the error rate, in ms. @default 30_000 */
  windowMs: number;
  /** Calls in the window before the error rate counts. @default 10 */
  minRequests: number;
  /** How long it stays open before a probe may go. @default 10_000 */
  cooldownMs: number;
}

export interface AimdSettings {
  /** The factor is multiplied by this on a 429. @default 0.5 */
  decrease: number;
  /** The factor grows by this on every success, up to 1. @default 0.05 */
  increase: number;
  /** The factor never goes below this. @default 0.05 */
  floor: number;
}

export interface Bucket {
  level: number;
  at: number;
}

export interface KeyState {
  requests?: Bucket;
  tokens?: Bucket;
  inFlight: number;
  /** Share of the configured budget in force (AIMD), in (0, 1]. */
  factor: number;
  /** Nobody on this key sends before this time (a 429's Retry-After). */
  blockedUntil: number;
}

export interface LimiterStore {
  /**
   * Applies `change` to the state of `key` (undefined for a key never seen) as one atomic step and
   * resolves with its result. `now` is the store's time in milliseconds (a shared store uses one
   * clock for all hosts). Keys never contain secrets: they are a provider name and a key hash.
   */
  update<R>(key: string, change: (state: KeyState | undefined, now: number) => [KeyState, R]): Promise<R>;
}
