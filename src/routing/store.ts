// Where the limiter keeps the state of each key. The limiter itself is the pure functions of
// budget.ts; a store only applies one of them to one key atomically. The in-memory store is what a
// single host needs. A shared store for workers on several hosts (Redis, for the BullMQ transport)
// implements the same `update`, e.g. WATCH key → GET → change(state, redis TIME) → MULTI SET EXEC,
// retried on conflict: the same limiter, one budget for every host. States are plain JSON.
import type { Clock } from '../util/clock.ts';
import type { KeyState, LimiterStore } from '../types/options.ts';

/** The store of one process: a Map, with the supervisor's clock. */
export class MemoryLimiterStore implements LimiterStore {
  readonly #states = new Map<string, KeyState>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  update<R>(key: string, change: (state: KeyState | undefined, now: number) => [KeyState, R]): Promise<R> {
    try {
      const [state, result] = change(this.#states.get(key), this.#clock.now());
      this.#states.set(key, state);
      return Promise.resolve(result);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** The state of a key now (tests and stats). */
  peek(key: string): KeyState | undefined {
    return this.#states.get(key);
  }
}
