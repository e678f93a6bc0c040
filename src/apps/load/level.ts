// The figures of one level (a concurrency or a rate): every sample goes into HDR histograms and
// counters; finish() turns them into a plain, JSON-ready report.
import type { RetryEvent } from '../../api/public.ts';
import { Distribution, type Quantiles } from './distribution.ts';
import type { Sample } from './measure.ts';
import type { LoadPlan } from './plan.ts';

export interface HostCost {
  /** The main thread's own CPU time (process.threadCpuUsage) ÷ requests ended in the level. */
  cpuMsPerRequest: number;
  /** Event-loop utilisation of the main thread over the level (0–1). */
  eventLoopUtilization: number;
}

export interface LevelReport {
  mode: LoadPlan['mode'];
  /** The concurrency (closed loop) or the rate per second (open loop). */
  level: number;
  label: string;
  /** Requests issued, ended ok, failed (by error), and cancelled by a stop. */
  requests: { issued: number; ok: number; failed: number; cancelled: number };
  /** Failed requests by `code [status] [providerCode]`. */
  errors: Record<string, number>;
  /** Provider calls that failed and were retried, by the same key. */
  retriedErrors: Record<string, number>;
  retries: number;
  continuationRounds: number;
  /** ms; TTFT and ITL for streams only (null otherwise or without samples). */
  ttftMs: Quantiles | null;
  itlMs: Quantiles | null;
  e2eMs: Quantiles | null;
  /** Output tokens ÷ e2e seconds, per request. */
  outputTokensPerSecPerRequest: Quantiles | null;
  /** All output tokens ÷ the level's wall time. */
  outputTokensPerSec: number;
  /** Requests ended ok ÷ the level's wall time. */
  requestsPerSec: number;
  tokens: { input: number; output: number; estimatedRequests: number };
  /** What the level's successful requests cost at list prices, by currency (`result.metadata.cost`; unpriced models count nothing). */
  cost: Record<string, number>;
  host: HostCost;
  wallMs: number;
  /** The run was stopped during this level. */
  interrupted: boolean;
}

/** A level's distributions, kept for the HTML report's charts. */
export interface LevelCurves {
  e2e: Array<[number, number]>;
  ttft: Array<[number, number]>;
}

export class LevelRecorder {
  readonly index: number;
  readonly level: number;
  readonly label: string;
  /** performance.now() when the level started. */
  readonly startedAt: number;
  issued = 0;
  ok = 0;
  failed = 0;
  cancelled = 0;
  retries = 0;
  readonly ttft = new Distribution();
  readonly itl = new Distribution();
  readonly e2e = new Distribution();
  readonly tokensPerSec = new Distribution();
  readonly #errors = new Map<string, number>();
  readonly #retried = new Map<string, number>();
  #rounds = 0;
  #input = 0;
  #output = 0;
  #estimated = 0;
  readonly #cost: Record<string, number> = {};

  constructor(index: number, level: number, label: string, startedAt: number) {
    this.index = index;
    this.level = level;
    this.label = label;
    this.startedAt = startedAt;
  }

  get ended(): number {
    return this.ok + this.failed + this.cancelled;
  }

  add(sample: Sample): void {
    if (sample.cancelled) {
      this.cancelled++;
      return;
    }
    if (!sample.ok) {
      this.failed++;
      const key = sample.error ?? 'ERR_UNKNOWN';
      this.#errors.set(key, (this.#errors.get(key) ?? 0) + 1);
      return;
    }
    this.ok++;
    // Latencies of successes only: a quick 429 is not a fast answer.
    this.e2e.record(sample.e2eMs);
    if (sample.ttftMs !== undefined) this.ttft.record(sample.ttftMs);
    if (sample.itlMs !== undefined) this.itl.record(sample.itlMs);
    if (sample.e2eMs > 0) this.tokensPerSec.record(sample.outputTokens / (sample.e2eMs / 1000));
    this.#rounds += sample.continuationRounds;
    this.#input += sample.inputTokens;
    this.#output += sample.outputTokens;
    if (sample.estimated) this.#estimated++;
    if (sample.cost !== undefined) this.#cost[sample.cost.currency] = (this.#cost[sample.cost.currency] ?? 0) + sample.cost.amount;
  }

  retry(event: RetryEvent): void {
    this.retries++;
    const { code, status, providerCode } = event.error;
    const key = [code, ...(status !== undefined ? [String(status)] : []), ...(providerCode ? [providerCode] : [])].join(' ');
    this.#retried.set(key, (this.#retried.get(key) ?? 0) + 1);
  }

  finish(mode: LoadPlan['mode'], wallMs: number, host: HostCost, interrupted: boolean): LevelReport {
    const seconds = wallMs / 1000;
    return {
      mode,
      level: this.level,
      label: this.label,
      requests: { issued: this.issued, ok: this.ok, failed: this.failed, cancelled: this.cancelled },
      errors: Object.fromEntries(this.#errors),
      retriedErrors: Object.fromEntries(this.#retried),
      retries: this.retries,
      continuationRounds: this.#rounds,
      ttftMs: this.ttft.quantiles(),
      itlMs: this.itl.quantiles(),
      e2eMs: this.e2e.quantiles(),
      outputTokensPerSecPerRequest: this.tokensPerSec.quantiles(),
      outputTokensPerSec: seconds > 0 ? this.#output / seconds : 0,
      requestsPerSec: seconds > 0 ? this.ok / seconds : 0,
      tokens: { input: this.#input, output: this.#output, estimatedRequests: this.#estimated },
      cost: { ...this.#cost },
      host,
      wallMs,
      interrupted,
    };
  }

  curves(): LevelCurves {
    return { e2e: this.e2e.cdf(), ttft: this.ttft.cdf() };
  }
}
