// The public types of stats: latency summaries, the supervisor's counters, thread heaps, and
// routing's view of keys, circuits and a shared store.
import type { SessionState, CircuitState } from './session.ts';
import type { CostStats } from './cost.ts';

/**
 * A histogram with fixed buckets, which can be added up across hosts and windows (unlike
 * percentiles): `counts[i]` observations were at most `bounds[i]` and above the bound before it;
 * the last count is the observations above every bound.
 */
export interface BucketHistogram {
  /** Upper bounds of the buckets, ascending (the GenAI conventions' advised boundaries). */
  bounds: readonly number[];
  /** Observations per bucket (not cumulative), `bounds.length + 1` of them. */
  counts: number[];
  /** Sum of every observation. */
  sum: number;
  /** Number of observations. */
  count: number;
}

/** Percentiles of session latency (admission to outcome), in ms; all zeros before the first outcome. */
export interface LatencySummary {
  /** Sessions measured (every outcome so far). */
  count: number;
  /** Median, in ms. */
  p50: number;
  /** 95th percentile, in ms. */
  p95: number;
  /** 99th percentile, in ms. */
  p99: number;
  /** The slowest, in ms. */
  max: number;
}

/** What `supervisor.stats()` returns (O(1)); counters run from the supervisor's creation. */
export interface SupervisorStats {
  /** Sessions currently in each state (`released` counts every session released so far). */
  states: Record<SessionState, number>;
  /** Sessions waiting for a slot now. */
  queued: number;
  /** Sessions admitted so far. */
  admitted: number;
  /** Sessions that completed. */
  completed: number;
  /** Sessions that failed (timeouts and aborts are counted apart). */
  failed: number;
  /** Sessions that reached their deadline (ERR_SESSION_TIMEOUT). */
  timedOut: number;
  /** Sessions aborted by their caller or by close() (ERR_SESSION_ABORTED). */
  aborted: number;
  /** Runs lost to a worker thread that died (whether or not the session was run again). */
  crashed: number;
  /** Provider calls tried again after a failure. */
  retried: number;
  /** Calls refused before admission. */
  rejected: {
    /** With ERR_INVALID_REQUEST (a `requestId` already in use included). */
    invalid: number;
    /** With ERR_QUEUE_FULL. */
    queueFull: number;
    /** With ERR_SUPERVISOR_CLOSED. */
    closed: number;
    /** With ERR_BUDGET_EXCEEDED (a `budgets` limit was spent). */
    budget: number;
  };
  /** Milliseconds from admission to outcome, all sessions and per provider. */
  latencyMs: LatencySummary & {
    /** The same per chat provider (the provider the request named). */
    byProvider: Record<string, LatencySummary>;
  };
  /** Worker threads; sessions holding a slot (`running`), and that as a share of `maxConcurrent`. */
  pool: {
    /** Worker threads of the in-process pool (behind bullmq(): the worker hosts seen). */
    threads: number;
    /** Sessions holding a slot now (at most `maxConcurrent`). */
    running: number;
    /** `running / maxConcurrent`, 0 to 1. */
    utilization: number;
  };
  /** Bucketed histograms (what Prometheus exposes): seconds from admission to outcome, tokens per completed chat. */
  histograms: {
    /** Seconds from admission to outcome, all sessions. */
    durationSeconds: BucketHistogram;
    /** The same per chat provider. */
    durationSecondsByProvider: Record<string, BucketHistogram>;
    /** Input and output tokens of completed chat sessions, per provider. */
    tokensByProvider: Record<
      string,
      {
        /** Input (prompt) tokens per session. */
        input: BucketHistogram;
        /** Output (completion) tokens per session. */
        output: BucketHistogram;
      }
    >;
  };
  /** What completed chat sessions cost, by currency (prices: the shipped table and `prices`). */
  cost: CostStats;
  /** Rate limits, circuits and fallbacks (src/routing); set by the supervisor. */
  routing?: RoutingStats;
}

/** One rate-limited key in `stats().routing.keys` (keyed by `provider:hash`, a hash of its API key). */
export interface KeyStats {
  /** The provider the key belongs to. */
  provider: string;
  /** Sessions waiting for this key's budget now. */
  waiting: number;
  /** Calls in flight on this key now. */
  inFlight: number;
  /** Share of the configured budget in force (AIMD), in (0, 1]: 1 is the full budget, less after 429s. */
  factor: number;
  /** Milliseconds until a Retry-After on this key ends (0 when none). */
  blockedMs: number;
  /** The limits learned from the provider's refusals (absent fields: not limited); absent with `routing: false`. */
  learned?: {
    /** Requests per second in force now. */
    requestsPerSecond?: number;
    /** Calls in flight allowed now. */
    concurrency?: number;
    /** The key has not answered yet: a few calls at a time. */
    probation: boolean;
  };
  /** 429 rate limits the provider sent on this key. */
  refusals?: number;
  /** The last Retry-After the provider gave on this key, in ms. */
  lastRetryAfterMs?: number;
}

/** Rate limits, circuits and fallbacks (`stats().routing`): counters from the supervisor's creation, the rest as of now. */
export interface RoutingStats {
  /** Sessions waiting for a key's budget now (before their first call, or between targets). */
  waiting: number;
  /** Times a session moved on to its next target. */
  fallbacks: number;
  /** 429s seen on limited keys. */
  throttled: number;
  /** Targets skipped because their circuit was open. */
  circuitRejected: number;
  /** Every rate-limited key that has been used, by `provider:hash`. */
  keys: Record<string, KeyStats>;
  /** Every provider's circuit breaker (with `routing.breaker`), by provider name. */
  circuits: Record<string, CircuitSnapshot>;
  /** With a shared `routing.store`: whether it answers (else this host runs on its own view of the keys). */
  store?: StoreHealth;
}

/** A provider's circuit breaker as of now (`stats().routing.circuits`). */
export interface CircuitSnapshot {
  /** Its state now. */
  state: CircuitState;
  /** Failed calls in a row (reset by a success and when it opens). */
  consecutiveFailures: number;
  /** Calls and failures in the current window. */
  windowCalls: number;
  /** Failed calls in the current window (`windowMs`). */
  windowFailures: number;
  /** When it last opened, in ms on the supervisor's clock; absent while closed. */
  openedAt?: number;
  /** Times it opened so far. */
  opened: number;
}

/** The health of a shared `routing.store` (`stats().routing.store`). */
export interface StoreHealth {
  /** The shared store answers (false: this host runs on its own view). */
  shared: boolean;
  /** Steps the shared store failed or did not answer in time. */
  failures: number;
  /** Steps waiting to be replayed on the shared store. */
  pending: number;
}

/** One worker thread's V8 heap, as `supervisor.workerHeaps()` lists them. */
export interface ThreadHeap {
  /** The worker thread's `threadId`. */
  threadId: number;
  /** Its V8 heap in use, in bytes. */
  heapUsed: number;
}
