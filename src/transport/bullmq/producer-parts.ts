// Small bookkeeping of the producer: numbers for worker hosts (the engine speaks of threads by
// number), a bounded set of finished jobs (to count a second result for one job), and its counters.

/** Worker hosts by name (`hostname:pid`), each given a number the engine uses as its thread id. */
export class HostNumbers {
  readonly #numbers = new Map<string, number>();
  readonly #known = new Set<number>();

  of(host: string): number {
    let n = this.#numbers.get(host);
    if (n === undefined) {
      n = this.#numbers.size + 1;
      this.#numbers.set(host, n);
      this.#known.add(n);
    }
    return n;
  }

  has(n: number): boolean {
    return this.#known.has(n);
  }

  get size(): number {
    return this.#numbers.size;
  }
}

/** The last `capacity` keys added (insertion order; the oldest go first). */
export class RecentSet {
  readonly #keys = new Set<string>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  add(key: string): void {
    this.#keys.add(key);
    if (this.#keys.size > this.#capacity) this.#keys.delete(this.#keys.values().next().value as string);
  }

  has(key: string): boolean {
    return this.#keys.has(key);
  }
}

/** What the producer saw of its jobs; `duplicates` (a second result for a finished job) must stay 0. */
export class ProducerCounts {
  queued = 0;
  picked = 0;
  completed = 0;
  stalled = 0;
  lost = 0;
  duplicates = 0;
  pickupsMissed = 0;
  /** Results and progress messages from Redis that no worker host signed for their job (or replays): dropped. */
  forged = 0;

  snapshot() {
    const { queued, picked, completed, stalled, lost, duplicates, pickupsMissed, forged } = this;
    return { queued, picked, completed, stalled, lost, duplicates, pickupsMissed, forged };
  }
}
