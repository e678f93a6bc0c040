// What this host sees of one key without asking the store: its calls in flight and the calls the
// provider admitted (succeeded) in the last second, in ten 100 ms slices. Kept for every protected key from its first call (an
// increment each way), so that the first refusal finds what the provider was admitting.
const SLICE_MS = 100;
const SLICES = 10;

export class KeyTrack {
  inFlight = 0;
  readonly #counts = new Array<number>(SLICES).fill(0);
  #slice = 0;

  /** A call on the key succeeded at `now` (the provider admitted it). */
  admitted(now: number): void {
    this.#roll(now);
    this.#counts[this.#slice % SLICES] = (this.#counts[this.#slice % SLICES] ?? 0) + 1;
  }

  /** Calls admitted in the last second (per second). */
  admittedPerS(now: number): number {
    this.#roll(now);
    let total = 0;
    for (const count of this.#counts) total += count;
    return total;
  }

  #roll(now: number): void {
    const slice = Math.floor(now / SLICE_MS);
    if (slice === this.#slice) return;
    const steps = Math.min(SLICES, slice - this.#slice);
    for (let i = 1; i <= steps; i++) this.#counts[(this.#slice + i) % SLICES] = 0;
    this.#slice = slice;
  }
}
