// A distribution of one figure (latency, tokens per second) on Node's built-in HDR histogram
// (perf_hooks.createHistogram: HdrHistogram in C, 3 significant figures, fixed memory, no
// dependency). It records integers, so values are scaled: by default 1000 units per 1 (µs for ms).
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export interface Quantiles {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

export class Distribution {
  readonly #histogram: RecordableHistogram = createHistogram();
  readonly #scale: number;

  constructor(scale = 1000) {
    this.#scale = scale;
  }

  /** Ignores what is not a finite, non-negative number; 0 is kept as the smallest unit. */
  record(value: number): void {
    if (!Number.isFinite(value) || value < 0) return;
    this.#histogram.record(Math.max(1, Math.round(value * this.#scale)));
  }

  get count(): number {
    return this.#histogram.count;
  }

  /** NaN when empty. */
  percentile(p: number): number {
    return this.count === 0 ? Number.NaN : this.#histogram.percentile(p) / this.#scale;
  }

  quantiles(): Quantiles | null {
    if (this.count === 0) return null;
    const h = this.#histogram;
    return {
      count: h.count,
      mean: h.mean / this.#scale,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: h.max / this.#scale,
    };
  }

  /** The cumulative distribution as [value, % of samples ≤ value], `points` steps from 0 to 100 %. */
  cdf(points = 200): Array<[number, number]> {
    if (this.count === 0) return [];
    const out: Array<[number, number]> = [[this.#histogram.min / this.#scale, 0]];
    for (let i = 1; i <= points; i++) {
      const p = (i / points) * 100;
      out.push([this.percentile(p), p]);
    }
    return out;
  }
}
