// Counters and latency histograms kept incrementally, so that stats() is O(1) and memory is
// bounded whatever the number of sessions (HDR histograms from node:perf_hooks, in microseconds).
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { SessionOutcome, SessionState } from '../types/session.ts';
import type { LatencySummary, SupervisorStats } from '../types/stats.ts';
import type { Usage } from '../types/chat.ts';
import type { CostStats, SessionCost } from '../types/cost.ts';
import { Buckets, SECONDS_BOUNDS, TOKEN_BOUNDS } from './histogram.ts';

function summarise(h: RecordableHistogram): LatencySummary {
  if (h.count === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  const ms = (us: number) => Math.round(us) / 1000;
  return { count: h.count, p50: ms(h.percentile(50)), p95: ms(h.percentile(95)), p99: ms(h.percentile(99)), max: ms(h.max) };
}

export class SessionMetrics {
  readonly states: Record<SessionState, number> = { created: 0, processing: 0, completed: 0, failed: 0, released: 0 };
  admitted = 0;
  retried = 0;
  crashed = 0;
  readonly outcomes: Record<SessionOutcome, number> = { completed: 0, failed: 0, timeout: 0, aborted: 0 };
  readonly rejected = { invalid: 0, queueFull: 0, closed: 0, budget: 0 };
  readonly #latency = createHistogram();
  readonly #byProvider = new Map<string, RecordableHistogram>();
  readonly #seconds = new Buckets(SECONDS_BOUNDS);
  readonly #secondsByProvider = new Map<string, Buckets>();
  readonly #tokens = new Map<string, { input: Buckets; output: Buckets }>();
  // Null-prototype records: a tag or provider named `__proto__` or `constructor` is a key like any other
  // (on a plain object it would add its spend to Object.prototype, or to Object itself).
  readonly #cost: CostStats = { priced: 0, unpriced: 0, total: record(), byProvider: record(), byTag: record() };

  #tags = 0;

  transition(from: SessionState | undefined, to: SessionState): void {
    if (from !== undefined && from !== 'released') this.states[from]--;
    this.states[to]++;
  }

  outcome(outcome: SessionOutcome, provider: string | undefined, latencyMs: number): void {
    this.outcomes[outcome]++;
    const us = Math.max(1, Math.round(latencyMs * 1000));
    this.#latency.record(us);
    this.#seconds.record(latencyMs / 1000);
    if (provider === undefined) return;
    let h = this.#byProvider.get(provider);
    if (h === undefined) this.#byProvider.set(provider, (h = createHistogram()));
    h.record(us);
    let buckets = this.#secondsByProvider.get(provider);
    if (buckets === undefined) this.#secondsByProvider.set(provider, (buckets = new Buckets(SECONDS_BOUNDS)));
    buckets.record(latencyMs / 1000);
  }

  /** A completed chat's tokens and what they cost (undefined: its model has no price). */
  completedChat(provider: string, tag: string | undefined, usage: Usage, cost: SessionCost | undefined): void {
    let tokens = this.#tokens.get(provider);
    if (tokens === undefined) this.#tokens.set(provider, (tokens = { input: new Buckets(TOKEN_BOUNDS), output: new Buckets(TOKEN_BOUNDS) }));
    tokens.input.record(usage.promptTokens);
    tokens.output.record(usage.completionTokens);
    if (cost === undefined) {
      this.#cost.unpriced++;
      return;
    }
    this.#cost.priced++;
    addTo(this.#cost.total, cost);
    addTo((this.#cost.byProvider[provider] ??= record()), cost);
    if (tag === undefined) return;
    const byTag = this.#cost.byTag;
    // Tags are the callers' (one per tenant, say): past MAX_TAGS distinct ones, new tags count in the
    // totals only, so that a flood of distinct tags cannot grow stats() and its copies without bound.
    if (byTag[tag] === undefined && this.#tags >= MAX_TAGS) return;
    if (byTag[tag] === undefined) this.#tags++;
    addTo((byTag[tag] ??= record()), cost);
  }

  snapshot(queued: number, pool: SupervisorStats['pool']): SupervisorStats {
    const byProvider: Record<string, LatencySummary> = {};
    for (const [name, h] of this.#byProvider) byProvider[name] = summarise(h);
    return {
      states: { ...this.states },
      queued,
      admitted: this.admitted,
      completed: this.outcomes.completed,
      failed: this.outcomes.failed,
      timedOut: this.outcomes.timeout,
      aborted: this.outcomes.aborted,
      crashed: this.crashed,
      retried: this.retried,
      rejected: { ...this.rejected },
      latencyMs: { ...summarise(this.#latency), byProvider },
      histograms: {
        durationSeconds: this.#seconds.snapshot(),
        durationSecondsByProvider: mapValues(this.#secondsByProvider, (b) => b.snapshot()),
        tokensByProvider: mapValues(this.#tokens, (t) => ({ input: t.input.snapshot(), output: t.output.snapshot() })),
      },
      cost: structuredClone(this.#cost),
      pool,
    };
  }
}

/** The most distinct caller tags `stats().cost.byTag` keeps; spend of later new tags counts in the totals only. */
export const MAX_TAGS = 1024;

function record<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

function addTo(sums: Record<string, number>, cost: SessionCost): void {
  // Rounded to a billionth: float sums of tiny prices otherwise print noise.
  sums[cost.currency] = Math.round(((sums[cost.currency] ?? 0) + cost.amount) * 1e9) / 1e9;
}

function mapValues<V, T>(map: Map<string, V>, f: (value: V) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, value] of map) out[key] = f(value);
  return out;
}
