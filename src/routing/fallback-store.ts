// A shared limiter store (Redis) that can fail or hang, made safe: its failures never escape, and
// the limiter goes on with this host's own view while it is away. Decided behaviour:
// - every step goes to the shared store, with a time limit; what it answers is mirrored here;
// - when it fails or does not answer in time, the step runs on the mirror (the last state this host
//   saw of the key, the host's own view), `shared` turns false, one warning is given;
// - while it is away it is asked again at most every RETRY_MS (steps in between stay local);
// - the steps run locally meanwhile are replayed, in order, on the shared store when it answers
//   again, so calls that ended during the outage free their concurrency there too.
// A host on its own view may exceed a budget shared with other hosts (each sees only itself): that
// is the price of going on; `stats().routing.store` says when it happens.
import type { Clock } from '../util/clock.ts';
import type { KeyState, LimiterStore } from '../types/options.ts';
import type { StoreHealth } from '../types/stats.ts';

type Change<R> = (state: KeyState | undefined, now: number) => [KeyState, R];

export interface FallbackStoreOptions {
  clock: Clock;
  /** A step the shared store has not answered by then counts as failed. @default 1000 */
  timeoutMs?: number;
  /** Told when the store goes away (with the error) and when it is back. */
  onChange?(shared: boolean, error?: unknown): void;
}

const RETRY_MS = 1000;
// Beyond this many local steps the oldest are not replayed: memory stays bounded in a long outage.
const MAX_PENDING = 10_000;

class LateStepError extends Error {}

export class FallbackLimiterStore implements LimiterStore {
  readonly #shared: LimiterStore;
  readonly #mirror = new Map<string, KeyState>();
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #onChange: FallbackStoreOptions['onChange'];
  #pending: Array<{ key: string; change: Change<unknown> }> = [];
  #up = true;
  /** One caller at a time finds out whether the shared store is back (and replays). */
  #probing = false;
  #retryAt = 0;
  #failures = 0;

  constructor(shared: LimiterStore, options: FallbackStoreOptions) {
    this.#shared = shared;
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs ?? 1000;
    this.#onChange = options.onChange;
  }

  health(): StoreHealth {
    return { shared: this.#up, failures: this.#failures, pending: this.#pending.length };
  }

  async update<R>(key: string, change: Change<R>): Promise<R> {
    if (!this.#up && (this.#probing || this.#clock.now() < this.#retryAt)) return this.#local(key, change, true);
    const probing = !this.#up;
    this.#probing ||= probing;
    let tried = false;
    try {
      if (probing) await this.#replay();
      tried = true;
      const result = await this.#sharedStep(key, change, true);
      this.#mark(true);
      return result;
    } catch (error) {
      this.#failures++;
      this.#retryAt = this.#clock.now() + RETRY_MS;
      this.#mark(false, error);
      // A step that failed (or was never sent) is replayed later; one that only ran late may still land.
      return this.#local(key, change, !(tried && error instanceof LateStepError));
    } finally {
      if (probing) this.#probing = false;
    }
  }

  /** One step on the shared store, mirrored here; rejects when it fails or does not answer in time. */
  #sharedStep<R>(key: string, change: Change<R>, requeueIfLate: boolean): Promise<R> {
    const step = this.#shared.update(key, (state, now) => {
      const [next, result] = change(state, now);
      this.#mirror.set(key, next);
      return [next, result];
    });
    let timer: NodeJS.Timeout | undefined;
    let late = false;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = true;
        reject(new LateStepError(`the limiter store did not answer within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
    });
    // A step given up on for being late may still land (a hung Redis answers later): replayed only if it fails.
    step.catch(() => {
      if (late && requeueIfLate) this.#queue(key, change);
    });
    return Promise.race([step, deadline]).finally(() => clearTimeout(timer));
  }

  /** The step on this host's view; `replay`: to be applied to the shared store once it is back. */
  #local<R>(key: string, change: Change<R>, replay: boolean): R {
    const [next, result] = change(this.#mirror.get(key), this.#clock.now());
    this.#mirror.set(key, next);
    if (replay) this.#queue(key, change);
    return result;
  }

  #queue(key: string, change: Change<unknown>): void {
    this.#pending.push({ key, change });
    if (this.#pending.length > MAX_PENDING) this.#pending.shift();
  }

  /** The steps taken on this host's view, applied to the shared store in order; stops at the first failure. */
  async #replay(): Promise<void> {
    while (this.#pending.length > 0) {
      const { key, change } = this.#pending[0] as { key: string; change: Change<unknown> };
      await this.#sharedStep(key, change, false);
      this.#pending.shift();
    }
  }

  #mark(up: boolean, error?: unknown): void {
    if (this.#up === up) return;
    this.#up = up;
    this.#onChange?.(up, error);
    if (!up) this.#clock.setTimer(this.#catchUp, RETRY_MS);
  }

  /** While the store is away, what was done here is replayed as soon as it is back, without waiting for traffic. */
  readonly #catchUp = (): void => {
    if (this.#up) return;
    if (this.#probing || this.#pending.length === 0) return void this.#clock.setTimer(this.#catchUp, RETRY_MS);
    this.#probing = true;
    this.#replay().then(
      () => {
        this.#probing = false;
        this.#mark(true);
      },
      () => {
        this.#probing = false;
        this.#clock.setTimer(this.#catchUp, RETRY_MS);
      },
    );
  };
}

/** The router's guard around a shared store: warnings when it goes away and when it is back. */
export function guardedStore(store: LimiterStore, clock: Clock, warn: ((message: string, error?: unknown) => void) | undefined): FallbackLimiterStore {
  return new FallbackLimiterStore(store, {
    clock,
    onChange: (shared, error) =>
      warn?.(
        shared
          ? 'The limiter store answers again: the limits are shared again'
          : 'The limiter store does not answer: this host limits its calls on its own view of each key until it is back',
        error,
      ),
  });
}
