import type { SessionState } from './session.ts';
import type { CircuitState } from './session.ts';
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface SupervisorStats {
  /** Sessions currently in each state (`released` counts every session released so far). */
  states: Record<SessionState, number>;
  queued: number;
  admitted: number;
  completed: number;
  failed: number;
  timedOut: number;
  aborted: number;
  crashed: number;
  retried: number;
  rejected: { invalid: number; queueFull: number; closed: number };
  /** Milliseconds from admission to outcome, all sessions and per provider. */
  latencyMs: LatencySummary & { byProvider: Record<string, LatencySummary> };
  /** Worker threads; sessions holding a slot (`running`), and that as a share of `maxConcurrent`. */
  pool: { threads: number; running: number; utilization: number };
  /** Rate limits, circuits and fallbacks (src/routing); set by the supervisor. */
  routing?: RoutingStats;
}

export interface KeyStats {
  provider: string;
  waiting: number;
  inFlight: number;
  factor: number;
  /** Milliseconds until a Retry-After on this key ends (0 when none). */
  blockedMs: number;
}

export interface RoutingStats {
  /** Sessions waiting for a key's budget now (before their first call, or between targets). */
  waiting: number;
  /** Times a session moved on to its next target. */
  fallbacks: number;
  /** 429s seen on limited keys. */
  throttled: number;
  /** Targets skipped because their circuit was open. */
  circuitRejected: number;
  keys: Record<string, KeyStats>;
  circuits: Record<string, CircuitSnapshot>;
  /** With a shared `routing.store`: whether it answers (else this host runs on its own view of the keys). */
  store?: StoreHealth;
}

export interface CircuitSnapshot {
  state: CircuitState;
  consecutiveFailures: number;
  /** Calls and failures in the current window. */
  windowCalls: number;
  windowFailures: number;
  openedAt?: number;
  opened: number;
}

export interface StoreHealth {
  /** The shared store answers (false: this host runs on its own view). */
  shared: boolean;
  /** Steps the shared store failed or did not answer in time. */
  failures: number;
  /** Steps waiting to be replayed on the shared store. */
  pending: number;
}

export interface ThreadHeap {
  threadId: number;
  heapUsed: number;
}
