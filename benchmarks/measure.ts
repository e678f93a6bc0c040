// What one measured round costs the host: main-thread event-loop activity (ELU "active" time is
// the time the main thread was not waiting for I/O, i.e. its CPU; process.cpuUsage() would count
// the worker threads too), per-session latencies, and peak memory sampled while the round runs.
import { performance } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

/** Nearest-rank percentile of an ascending array (ms). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? Number.NaN;
}

export function percentiles(latencies: ArrayLike<number>): Percentiles {
  const sorted = Float64Array.from(latencies).sort();
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) };
}

/** Median and range of one figure over the measured rounds. */
export function spread(values: readonly number[]): Spread {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const median = n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { median, min: sorted[0]!, max: sorted[n - 1]! };
}

export { LoopMeter } from '../src/apps/report/loop-meter.ts';

/**
 * Peak main-thread heap and process RSS while a round runs. Sampled every `everyMs` (~10 µs a
 * sample, amortised over a whole round of sessions: both sides pay it per unit of time) and at the end.
 */
export class MemorySampler {
  peakHeap = 0;
  peakRss = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #everyMs: number;

  constructor(everyMs = 100) {
    this.#everyMs = everyMs;
  }

  start(): void {
    this.peakHeap = 0;
    this.peakRss = 0;
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.#everyMs);
  }

  sample(): void {
    const heap = getHeapStatistics().used_heap_size;
    const rss = process.memoryUsage.rss();
    if (heap > this.peakHeap) this.peakHeap = heap;
    if (rss > this.peakRss) this.peakRss = rss;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.sample();
  }
}

let collect: (() => void) | undefined;

/**
 * A full GC before each round, outside the measured window, so that no round pays for garbage the
 * previous one left and heap peaks are comparable. Uses --expose-gc when given, else enables it.
 */
export function collectGarbage(): void {
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) collect = exposed;
    else {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    }
  }
  collect();
}

/** Blocks the main thread for `ms` of wall time (a CPU-heavy host's slice of work); returns its wall and CPU time. */
export function busy(ms: number): { wallMs: number; cpuMs: number } {
  const cpu = process.threadCpuUsage();
  const start = performance.now();
  let x = 0;
  while (performance.now() - start < ms) x = (x + 1) % 1_000_003;
  if (x < 0) console.log(x); // keeps the loop from being optimised away
  const used = process.threadCpuUsage(cpu);
  return { wallMs: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

export const MB = 2 ** 20;
