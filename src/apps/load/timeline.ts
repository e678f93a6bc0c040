// Requests ended per second of the run, ok and failed: the "errors over time" chart. One bucket
// a second, so its size follows the run's length, not its number of requests.

export interface TimelineBucket {
  /** Seconds since the run started. */
  second: number;
  ok: number;
  failed: number;
}

export class Timeline {
  readonly #buckets: TimelineBucket[] = [];
  readonly #startedAt: number;

  constructor(startedAt: number) {
    this.#startedAt = startedAt;
  }

  add(at: number, ok: boolean): void {
    const second = Math.max(0, Math.floor((at - this.#startedAt) / 1000));
    while (this.#buckets.length <= second) this.#buckets.push({ second: this.#buckets.length, ok: 0, failed: 0 });
    const bucket = this.#buckets[second]!;
    if (ok) bucket.ok++;
    else bucket.failed++;
  }

  /** ms since the run started. */
  offset(at: number): number {
    return at - this.#startedAt;
  }

  buckets(): TimelineBucket[] {
    return this.#buckets.map((b) => ({ ...b }));
  }
}
