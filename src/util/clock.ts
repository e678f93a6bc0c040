// Time is injected so that deadlines can be tested by driving a clock instead of waiting for one.

/** A timer set by Clock.setTimer(). */
export interface TimerHandle {
  /** Stops the timer: `fn` is not called (nothing happens if it already fired). */
  cancel(): void;
}

/**
 * The time source of the supervisor's deadlines and event times (`createSupervisor({ clock })`):
 * systemClock by default, a ManualClock in tests. Only the main thread's timers use it; workers
 * keep real time.
 */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Calls `fn` once after `ms`; the returned handle cancels it. Timers never keep the process alive by themselves. */
  setTimer(fn: () => void, ms: number): TimerHandle;
}

// setTimeout takes at most 2^31-1 ms (about 24.8 days); Node fires a longer wait (or Infinity) after
// 1 ms. A wait that long (a provider's Retry-After of 10^12 s) is waited for in steps of the most it takes.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A method on a class, not a closure per timer: every session in flight holds one. */
class SystemTimer implements TimerHandle {
  #timeout: NodeJS.Timeout;

  constructor(fn: () => void, ms: number) {
    this.#timeout = ms > MAX_TIMEOUT_MS ? this.#step(fn, performance.now() + ms) : setTimeout(fn, ms).unref();
  }

  #step(fn: () => void, due: number): NodeJS.Timeout {
    const left = due - performance.now();
    if (left <= MAX_TIMEOUT_MS) return setTimeout(fn, Math.max(0, left)).unref();
    return setTimeout(() => (this.#timeout = this.#step(fn, due)), MAX_TIMEOUT_MS).unref();
  }

  cancel(): void {
    clearTimeout(this.#timeout);
  }
}

/** The default Clock: `performance.now()` and unref'd `setTimeout` timers (they never keep the process alive). */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(fn, ms) {
    return new SystemTimer(fn, ms);
  },
};

/**
 * A clock that moves only when told to: `advance(ms)` fires every timer that falls due, in order.
 * It starts at 0. Pass it to `createSupervisor({ clock })` to drive deadlines in tests.
 * @example
 * ```ts
 * import { createSupervisor, ManualClock } from 'sessionpool';
 * import { startMockProvider } from 'sessionpool/mock';
 *
 * const clock = new ManualClock();
 * const mock = await startMockProvider();
 * const supervisor = createSupervisor({ clock, providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'sk-mock' } } });
 * const outcome = supervisor.chat({ provider: 'kimi', prompt: 'Never answered [[mock hang]]', timeoutMs: 60_000 }).catch((e: Error & { code: string }) => e.code);
 * clock.advance(60_000); // the deadline passes now, not in a minute
 * console.log(await outcome); // ERR_SESSION_TIMEOUT
 * await supervisor.close();
 * await mock.close();
 * ```
 */
export class ManualClock implements Clock {
  #now = 0;
  #timers = new Set<{ due: number; seq: number; fn: () => void }>();
  #seq = 0;

  /**
   * The clock's time in ms: 0 at first, then the sum of every `advance()`.
   * @example
   * ```ts
   * import { ManualClock } from 'sessionpool';
   *
   * const clock = new ManualClock();
   * clock.advance(1500);
   * console.log(clock.now()); // 1500
   * ```
   */
  now(): number {
    return this.#now;
  }

  /**
   * Calls `fn` once when the clock has been advanced by `ms` (a negative `ms` counts as 0: due at the
   * next advance()); the returned handle cancels it.
   * @example
   * ```ts
   * import { ManualClock } from 'sessionpool';
   *
   * const clock = new ManualClock();
   * const timer = clock.setTimer(() => console.log('never'), 100);
   * clock.setTimer(() => console.log('fired at', clock.now()), 500);
   * timer.cancel();
   * clock.advance(1000); // fired at 500
   * console.log(clock.pending); // 0
   * ```
   */
  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer = { due: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.add(timer);
    return { cancel: () => this.#timers.delete(timer) };
  }

  /** Number of timers not yet fired nor cancelled. */
  get pending(): number {
    return this.#timers.size;
  }

  /**
   * Moves the clock forward by `ms`, firing every timer that falls due on the way, in due order (ties
   * in the order they were set), each with `now()` at its due time; then the clock reads the target.
   * A timer set by a timer that fires is fired too if it falls due within the same advance.
   * @example
   * ```ts
   * import { ManualClock } from 'sessionpool';
   *
   * const clock = new ManualClock();
   * clock.setTimer(() => console.log('b', clock.now()), 200);
   * clock.setTimer(() => console.log('a', clock.now()), 100);
   * clock.advance(150); // a 100
   * clock.advance(50); // b 200
   * ```
   */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const next = [...this.#timers].filter((t) => t.due <= target).sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
      if (next === undefined) break;
      this.#timers.delete(next);
      this.#now = next.due;
      next.fn();
    }
    this.#now = target;
  }
}
