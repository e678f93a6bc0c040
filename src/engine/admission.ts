// Admission policy: at most `maxConcurrent` sessions processing, at most `maxQueue` waiting in
// FIFO order, anything beyond refused at once. No timers, no threads: tested on its own.

export type Admit = 'run' | 'queue' | 'reject';

export class Admission<T> {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  #running = 0;
  // A Map keeps insertion order and deletes in O(1): a queued session that times out leaves at once.
  readonly #waiting = new Map<string, T>();

  constructor(maxConcurrent: number, maxQueue: number) {
    this.maxConcurrent = maxConcurrent;
    this.maxQueue = maxQueue;
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#waiting.size;
  }

  /** Decides for a new session: take a slot now, wait in the queue, or be refused. */
  admit(id: string, item: T): Admit {
    if (this.#running < this.maxConcurrent && this.#waiting.size === 0) {
      this.#running++;
      return 'run';
    }
    if (this.#waiting.size < this.maxQueue) {
      this.#waiting.set(id, item);
      return 'queue';
    }
    return 'reject';
  }

  /** Removes a waiting session (timed out or aborted before its turn); false if it was not waiting. */
  withdraw(id: string): boolean {
    return this.#waiting.delete(id);
  }

  /** Frees a slot and hands it to the longest-waiting session, which is returned (now running). */
  release(): T | undefined {
    this.#running--;
    const next = this.#waiting.entries().next();
    if (next.done) return undefined;
    const [id, item] = next.value;
    this.#waiting.delete(id);
    this.#running++;
    return item;
  }

  /** Takes every waiting session out of the queue (shutdown). */
  drainQueue(): T[] {
    const items = [...this.#waiting.values()];
    this.#waiting.clear();
    return items;
  }
}
