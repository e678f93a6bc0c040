// Sessions of one provider key waiting for its budget, in arrival order. Only the head asks the
// store; when the key says "not yet", one timer wakes the queue when budget is due (or a finished
// call on this host wakes it, for concurrency). Nothing polls while the queue is empty.
import type { Clock, TimerHandle } from '../util/clock.ts';
import { giveBack, initialState, sane, take, type Cost, type KeyLimits, type TakeResult } from './budget.ts';
import type { KeyState, LimiterStore } from '../types/options.ts';

export interface Waiter {
  readonly sessionId: string;
  readonly cost: Cost;
  readonly deadlineAt: number;
  /** The budget was taken for this session. */
  grant(): void;
  /** The key cannot give budget before the session's deadline (only for sessions that have somewhere else to go). */
  tooLate?(waitMs: number): void;
}

// With a shared store another host may free concurrency: look again at least this often.
const CONCURRENCY_POLL_MS = 250;
const STORE_RETRY_MS = 1000;

export class KeyQueue {
  readonly key: string;
  readonly limits: KeyLimits;
  readonly #store: LimiterStore;
  readonly #clock: Clock;
  readonly #waiters = new Map<string, Waiter>();
  readonly #onState: (state: KeyState) => void;
  #pumping = false;
  #timer: TimerHandle | undefined;

  constructor(key: string, limits: KeyLimits, store: LimiterStore, clock: Clock, onState: (state: KeyState) => void) {
    this.key = key;
    this.limits = limits;
    this.#store = store;
    this.#clock = clock;
    this.#onState = onState;
  }

  get waiting(): number {
    return this.#waiters.size;
  }

  /** Adds a waiter at the end, or at the `front` (a call refused by the provider keeps its place). */
  enqueue(waiter: Waiter, front = false): void {
    if (front && this.#waiters.size > 0) {
      const rest = [...this.#waiters];
      this.#waiters.clear();
      this.#waiters.set(waiter.sessionId, waiter);
      for (const [id, w] of rest) this.#waiters.set(id, w);
    } else this.#waiters.set(waiter.sessionId, waiter);
    this.wake();
  }

  /** Removes a waiter (its session ended or moved on); false if it was not waiting. */
  remove(sessionId: string): boolean {
    const removed = this.#waiters.delete(sessionId);
    if (this.#waiters.size === 0) this.#cancelTimer();
    return removed;
  }

  /** Budget may have come back (a call finished, a limit moved): let the head ask again. */
  wake(): void {
    if (this.#pumping || this.#waiters.size === 0) return;
    this.#cancelTimer();
    this.#pumping = true;
    // A store that fails (a shared one gone away) is asked again a little later; nobody is lost.
    this.#pump().catch(() => {
      this.#pumping = false;
      this.#timer = this.#clock.setTimer(() => this.wake(), STORE_RETRY_MS);
    });
  }

  /** Applies a change to this key's state through the store, and mirrors the result for stats. */
  async change<R>(fn: (state: KeyState, now: number) => [KeyState, R]): Promise<R> {
    return this.#store.update(this.key, (state, now) => {
      // A shared store's JSON may have been written by anyone: it is brought in range first.
      const [next, result] = fn(sane(state, this.limits, now) ?? initialState(this.limits, now), now);
      this.#onState(next);
      return [next, result];
    });
  }

  /** Grants budget to waiters in order until the key says "not yet"; `#pumping` is cleared on leaving. */
  async #pump(): Promise<void> {
    for (;;) {
      const head = this.#waiters.values().next().value;
      if (head === undefined) return void (this.#pumping = false);
      const result: TakeResult = await this.change((state, now) => take(state, head.cost, this.limits, now));
      if (this.#waiters.get(head.sessionId) !== head) {
        // The session left while its budget was being taken: give it back to the others.
        if (result.ok) await this.change((state, now) => [giveBack(state, head.cost, this.limits, now), undefined]);
        continue;
      }
      if (result.ok) {
        this.#waiters.delete(head.sessionId);
        head.grant();
        continue;
      }
      const now = this.#clock.now();
      if (head.tooLate !== undefined && result.waitMs !== undefined && now + result.waitMs > head.deadlineAt) {
        this.#waiters.delete(head.sessionId);
        head.tooLate(result.waitMs);
        continue;
      }
      this.#timer = this.#clock.setTimer(() => this.wake(), result.waitMs ?? CONCURRENCY_POLL_MS);
      this.#pumping = false;
      return;
    }
  }

  #cancelTimer(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }
}
