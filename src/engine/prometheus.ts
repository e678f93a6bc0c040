// stats() in the Prometheus text exposition format (version 0.0.4), for a `/metrics` endpoint.
// A pure formatter: it reads one SupervisorStats and keeps nothing, so scraping costs one stats().
import type { BucketHistogram, SupervisorStats, RoutingStats } from '../types/stats.ts';
import type { CostStats } from '../types/cost.ts';

/** The content type a `/metrics` endpoint answers with. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Record<string, string>;
type Sample = [labels: Labels, value: number, suffix?: string];

interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  samples: Sample[];
}

/** The states that sessions are in now; `released` is cumulative and exposed as a counter. */
const LIVE_STATES = ['created', 'processing', 'completed', 'failed'] as const;

/**
 * Formats a stats() snapshot in the Prometheus text exposition format (0.0.4): counters end in
 * `_total`; durations (seconds) and token counts are histograms with fixed buckets (`_bucket{le}`,
 * `_sum`, `_count`: they add up across hosts and time windows); cost is a counter per provider and
 * currency; routing's keys and circuits are gauges labelled by key and provider.
 * `supervisor.metrics()` is this with the default prefix; call it yourself to change the prefix or
 * to format stats you kept.
 *
 * @param stats - A snapshot from `supervisor.stats()`.
 * @param prefix - Put before every metric name, with an `_` (default `'sessionpool'`).
 * @returns The exposition text, one `# HELP` and `# TYPE` line per family; serve it with {@link PROMETHEUS_CONTENT_TYPE}.
 *
 * @example
 * ```ts
 * import { createSupervisor, formatPrometheus } from 'sessionpool';
 *
 * const supervisor = createSupervisor({ threads: 1 });
 * const text = formatPrometheus(supervisor.stats(), 'llm');
 * console.log(text.split('\n').filter((line) => line.startsWith('llm_sessions_total')).join('\n'));
 * // llm_sessions_total{outcome="completed"} 0 …
 * await supervisor.close();
 * ```
 */
export function formatPrometheus(stats: SupervisorStats, prefix = 'sessionpool'): string {
  return families(stats)
    .map((family) => formatFamily({ ...family, name: `${prefix}_${family.name}` }))
    .join('');
}

function families(stats: SupervisorStats): Family[] {
  const outcomes: Sample[] = [
    [{ outcome: 'completed' }, stats.completed],
    [{ outcome: 'failed' }, stats.failed],
    [{ outcome: 'timeout' }, stats.timedOut],
    [{ outcome: 'aborted' }, stats.aborted],
  ];
  const rejected: Sample[] = [
    [{ reason: 'invalid' }, stats.rejected.invalid],
    [{ reason: 'queue_full' }, stats.rejected.queueFull],
    [{ reason: 'closed' }, stats.rejected.closed],
    [{ reason: 'budget' }, stats.rejected.budget ?? 0],
  ];
  const histograms = stats.histograms ?? { durationSeconds: undefined, durationSecondsByProvider: {}, tokensByProvider: {} };
  const byProvider = Object.entries(histograms.durationSecondsByProvider).flatMap(([provider, h]) => histogramSamples(h, { provider }));
  const tokens = Object.entries(histograms.tokensByProvider).flatMap(([provider, t]) => [
    ...histogramSamples(t.input, { provider, type: 'input' }),
    ...histogramSamples(t.output, { provider, type: 'output' }),
  ]);
  return [
    { name: 'sessions_total', type: 'counter', help: 'Sessions that reached an outcome, by outcome.', samples: outcomes },
    { name: 'sessions_admitted_total', type: 'counter', help: 'Sessions admitted (queued or run).', samples: [[{}, stats.admitted]] },
    {
      name: 'sessions_released_total',
      type: 'counter',
      help: 'Sessions released (every admitted session is, exactly once).',
      samples: [[{}, stats.states.released]],
    },
    { name: 'sessions_rejected_total', type: 'counter', help: 'Requests refused before admission, by reason.', samples: rejected },
    { name: 'retries_total', type: 'counter', help: 'Provider calls retried inside sessions.', samples: [[{}, stats.retried]] },
    { name: 'worker_crashes_total', type: 'counter', help: 'Session runs lost to a worker thread that died or was killed.', samples: [[{}, stats.crashed]] },
    {
      name: 'sessions_in_state',
      type: 'gauge',
      help: 'Sessions now in each state of the session machine.',
      samples: LIVE_STATES.map((state): Sample => [{ state }, stats.states[state]]),
    },
    { name: 'queue_length', type: 'gauge', help: 'Sessions waiting for a slot.', samples: [[{}, stats.queued]] },
    { name: 'session_duration_seconds', type: 'histogram', help: 'Seconds from admission to outcome, by provider.', samples: byProvider },
    {
      name: 'session_duration_all_seconds',
      type: 'histogram',
      help: 'Seconds from admission to outcome, all sessions.',
      samples: histograms.durationSeconds === undefined ? [] : histogramSamples(histograms.durationSeconds, {}),
    },
    { name: 'tokens', type: 'histogram', help: 'Input and output tokens of completed chat sessions, by provider and type.', samples: tokens },
    ...(stats.cost ? costFamilies(stats.cost) : []),
    { name: 'pool_threads', type: 'gauge', help: 'Worker threads in the pool.', samples: [[{}, stats.pool.threads]] },
    { name: 'pool_utilization', type: 'gauge', help: 'Share of maxConcurrent slots in use, from 0 to 1.', samples: [[{}, stats.pool.utilization]] },
    { name: 'sessions_running', type: 'gauge', help: 'Sessions holding a slot (real calls in progress).', samples: [[{}, stats.pool.running]] },
    ...(stats.routing ? routingFamilies(stats.routing) : []),
  ];
}

const CIRCUIT_VALUES = { closed: 0, halfOpen: 1, open: 2 } as const;

function routingFamilies(routing: RoutingStats): Family[] {
  const keys = Object.entries(routing.keys);
  const circuits = Object.entries(routing.circuits);
  return [
    { name: 'routing_waiting', type: 'gauge', help: 'Sessions waiting for their provider key to have budget.', samples: [[{}, routing.waiting]] },
    { name: 'routing_fallbacks_total', type: 'counter', help: 'Times a session moved on to its next target.', samples: [[{}, routing.fallbacks]] },
    { name: 'routing_throttled_total', type: 'counter', help: '429 answers seen on rate-limited keys.', samples: [[{}, routing.throttled]] },
    {
      name: 'routing_circuit_rejected_total',
      type: 'counter',
      help: 'Targets skipped because their circuit was open.',
      samples: [[{}, routing.circuitRejected]],
    },
    {
      name: 'routing_key_factor',
      type: 'gauge',
      help: "Share of a key's configured budget in force (AIMD), from 0 to 1.",
      samples: keys.map(([key, k]): Sample => [{ key, provider: k.provider }, k.factor]),
    },
    {
      name: 'routing_key_in_flight',
      type: 'gauge',
      help: 'Calls in flight on a key.',
      samples: keys.map(([key, k]): Sample => [{ key, provider: k.provider }, k.inFlight]),
    },
    {
      name: 'routing_key_waiting',
      type: 'gauge',
      help: 'Sessions waiting for a key.',
      samples: keys.map(([key, k]): Sample => [{ key, provider: k.provider }, k.waiting]),
    },
    {
      name: 'routing_key_learned_requests_per_second',
      type: 'gauge',
      help: 'Requests per second a key learned from its 429s (absent: not limited by rate).',
      samples: keys.flatMap(([key, k]): Sample[] =>
        k.learned?.requestsPerSecond === undefined ? [] : [[{ key, provider: k.provider }, k.learned.requestsPerSecond]],
      ),
    },
    {
      name: 'routing_key_learned_concurrency',
      type: 'gauge',
      help: 'Calls in flight a key learned from its 429s (absent: not limited).',
      samples: keys.flatMap(([key, k]): Sample[] => (k.learned?.concurrency === undefined ? [] : [[{ key, provider: k.provider }, k.learned.concurrency]])),
    },
    {
      name: 'routing_key_refusals_total',
      type: 'counter',
      help: '429 rate limits the provider sent on a key.',
      samples: keys.flatMap(([key, k]): Sample[] => (k.refusals === undefined ? [] : [[{ key, provider: k.provider }, k.refusals]])),
    },
    {
      name: 'routing_key_last_retry_after_seconds',
      type: 'gauge',
      help: 'The last Retry-After the provider gave on a key.',
      samples: keys.flatMap(([key, k]): Sample[] => (k.lastRetryAfterMs === undefined ? [] : [[{ key, provider: k.provider }, k.lastRetryAfterMs / 1000]])),
    },
    {
      name: 'circuit_state',
      type: 'gauge',
      help: 'Circuit of a provider: 0 closed, 1 half-open, 2 open.',
      samples: circuits.map(([provider, c]): Sample => [{ provider }, CIRCUIT_VALUES[c.state]]),
    },
    {
      name: 'circuit_opened_total',
      type: 'counter',
      help: "Times a provider's circuit opened.",
      samples: circuits.map(([provider, c]): Sample => [{ provider }, c.opened]),
    },
  ];
}

function costFamilies(cost: CostStats): Family[] {
  const spent = Object.entries(cost.byProvider).flatMap(([provider, sums]) =>
    Object.entries(sums).map(([currency, amount]): Sample => [{ provider, currency }, amount]),
  );
  return [
    { name: 'cost_total', type: 'counter', help: 'What completed chat sessions cost, by provider and currency (list prices).', samples: spent },
    {
      name: 'sessions_priced_total',
      type: 'counter',
      help: 'Completed chat sessions whose model had a price (priced) or none (unpriced).',
      samples: [
        [{ priced: 'true' }, cost.priced],
        [{ priced: 'false' }, cost.unpriced],
      ],
    },
  ];
}

/** Cumulative `_bucket{le}` samples (the last `+Inf`), then `_sum` and `_count`. */
function histogramSamples(histogram: BucketHistogram, labels: Labels): Sample[] {
  let cumulative = 0;
  const buckets = histogram.counts.map((count, i): Sample => {
    cumulative += count;
    const bound = histogram.bounds[i];
    return [{ ...labels, le: bound === undefined ? '+Inf' : String(bound) }, cumulative, '_bucket'];
  });
  return [...buckets, [labels, histogram.sum, '_sum'], [labels, histogram.count, '_count']];
}

function formatFamily(family: Family): string {
  const lines = [`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`];
  for (const [labels, value, suffix = ''] of family.samples) lines.push(`${family.name}${suffix}${formatLabels(labels)} ${formatValue(value)}`);
  return `${lines.join('\n')}\n`;
}

function formatLabels(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabel(value)}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return String(value);
}

// Label values escape backslash, double quote and newline; HELP text backslash and newline.
const escapeLabel = (value: string) => value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
const escapeHelp = (value: string) => value.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
