import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPrometheus, type SupervisorStats } from '../../src/index.ts';
import { harness, rejection, user } from '../support/helpers.ts';

interface Family {
  help?: string;
  type?: string;
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/g;
const SUFFIXES: Record<string, string[]> = { counter: [''], gauge: [''], summary: ['', '_count', '_sum'], histogram: ['_bucket', '_count', '_sum'] };

/**
 * A strict reader of the text exposition format (0.0.4): HELP then TYPE before a family's samples,
 * families not interleaved, sample names that belong to their family's type, valid label syntax,
 * numeric values, no series twice. Throws on anything else.
 */
function parseExposition(text: string): Map<string, Family> {
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  const families = new Map<string, Family>();
  const series = new Set<string>();
  let current: string | undefined;
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, 'HELP' | 'TYPE', string, string];
      assert.match(name, NAME);
      const family = families.get(name) ?? { samples: [] };
      assert.equal(family.samples.length, 0, `${kind} of ${name} before its samples`);
      if (kind === 'HELP') family.help = rest;
      else {
        assert.ok(['counter', 'gauge', 'summary', 'histogram', 'untyped'].includes(rest), rest);
        assert.ok(family.help !== undefined, `HELP before TYPE for ${name}`);
        family.type = rest;
      }
      families.set(name, family);
      current = name;
      continue;
    }
    const match = SAMPLE.exec(line);
    assert.ok(match, `a sample line: ${JSON.stringify(line)}`);
    const [, name, labelText = '', valueText] = match as unknown as [string, string, string | undefined, string];
    assert.ok(current !== undefined && name.startsWith(current), `${name} is in family ${current}`);
    const family = families.get(current)!;
    assert.ok(SUFFIXES[family.type!]!.includes(name.slice(current.length)), `${name} fits a ${family.type}`);
    const labels: Record<string, string> = {};
    const consumed = [...labelText.matchAll(LABEL)].map((m) => ((labels[m[1]!] = m[2]!), m[0]).length).reduce((a, b) => a + b, 0);
    assert.equal(consumed, labelText.length, `label syntax: ${labelText}`);
    if (family.type === 'summary' && name === current) assert.ok('quantile' in labels, `${name} quantile`);
    if (family.type === 'histogram' && name === `${current}_bucket`) assert.ok('le' in labels, `${name} le`);
    assert.ok(/^([+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?|NaN|[+-]Inf)$/i.test(valueText), `value ${valueText}`);
    const key = `${name}{${labelText}}`;
    assert.ok(!series.has(key), `series once: ${key}`);
    series.add(key);
    family.samples.push({ name, labels, value: Number(valueText.replace('Inf', 'Infinity')) });
  }
  for (const [name, family] of families) if (family.type === 'histogram') assertHistogram(name, family);
  // OpenMetrics readers name a counter family without `_total`: that name must not be taken too.
  const normalized = [...families].map(([name, f]) => (f.type === 'counter' ? name.replace(/_total$/, '') : name));
  assert.equal(new Set(normalized).size, normalized.length, `family names collide: ${normalized.join(' ')}`);
  return families;
}

/** Each series of a histogram: cumulative buckets ending in +Inf, whose count is `_count`. */
function assertHistogram(name: string, family: Family): void {
  const bySeries = new Map<string, Family['samples']>();
  for (const sample of family.samples) {
    const { le: _le, ...rest } = sample.labels;
    const key = JSON.stringify(rest);
    bySeries.set(key, [...(bySeries.get(key) ?? []), sample]);
  }
  for (const [labels, samples] of bySeries) {
    const buckets = samples.filter((s) => s.name === `${name}_bucket`);
    assert.equal(buckets.at(-1)?.labels['le'], '+Inf', `${name}${labels} ends with +Inf`);
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, `${name}${labels} buckets are cumulative`);
    assert.equal(samples.find((s) => s.name === `${name}_count`)?.value, buckets.at(-1)?.value, `${name}${labels} +Inf = _count`);
  }
}

function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}, suffix = ''): number | undefined {
  const family = families.get(name);
  return family?.samples.find((s) => s.name === name + suffix && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
}

const STATS: SupervisorStats = {
  states: { created: 2, processing: 5, completed: 0, failed: 1, released: 40 },
  queued: 2,
  admitted: 48,
  completed: 35,
  failed: 2,
  timedOut: 2,
  aborted: 1,
  crashed: 1,
  retried: 7,
  rejected: { invalid: 3, queueFull: 4, closed: 0, budget: 1 },
  latencyMs: {
    count: 40,
    p50: 120,
    p95: 900,
    p99: 1500,
    max: 1600,
    byProvider: { kimi: { count: 30, p50: 100, p95: 800, p99: 1400, max: 1500 }, 'my "proxy"\\eu\n': { count: 10, p50: 200, p95: 950, p99: 1600, max: 1600 } },
  },
  histograms: {
    durationSeconds: { bounds: [0.1, 1], counts: [10, 25, 5], sum: 30.5, count: 40 },
    durationSecondsByProvider: {
      kimi: { bounds: [0.1, 1], counts: [8, 20, 2], sum: 20, count: 30 },
      'my "proxy"\\eu\n': { bounds: [0.1, 1], counts: [2, 5, 3], sum: 10.5, count: 10 },
    },
    tokensByProvider: {
      kimi: { input: { bounds: [16, 64], counts: [1, 2, 0], sum: 90, count: 3 }, output: { bounds: [16, 64], counts: [0, 3, 0], sum: 96, count: 3 } },
    },
  },
  cost: { priced: 3, unpriced: 1, total: { USD: 0.0012 }, byProvider: { kimi: { USD: 0.0012 } }, byTag: {} },
  pool: { threads: 4, running: 24, utilization: 0.375 },
};

test('formatPrometheus: valid exposition, outcomes, per-state gauges, queue, duration and token histograms, cost, pool', () => {
  const families = parseExposition(formatPrometheus(STATS));
  for (const [name, family] of families) assert.ok(family.help && family.type, `${name} has HELP and TYPE`);
  assert.equal(families.get('sessionpool_sessions_total')?.type, 'counter');
  assert.deepEqual(
    ['completed', 'failed', 'timeout', 'aborted'].map((outcome) => value(families, 'sessionpool_sessions_total', { outcome })),
    [35, 2, 2, 1],
  );
  assert.equal(families.get('sessionpool_sessions_in_state')?.type, 'gauge');
  assert.deepEqual(
    ['created', 'processing', 'completed', 'failed'].map((state) => value(families, 'sessionpool_sessions_in_state', { state })),
    [2, 5, 0, 1],
  );
  assert.equal(value(families, 'sessionpool_sessions_released_total'), 40);
  assert.equal(value(families, 'sessionpool_queue_length'), 2);
  assert.equal(value(families, 'sessionpool_retries_total'), 7);
  assert.equal(value(families, 'sessionpool_sessions_rejected_total', { reason: 'queue_full' }), 4);
  assert.equal(value(families, 'sessionpool_sessions_rejected_total', { reason: 'budget' }), 1);
  assert.equal(families.get('sessionpool_session_duration_seconds')?.type, 'histogram');
  assert.equal(value(families, 'sessionpool_session_duration_seconds', { provider: 'kimi', le: '1' }, '_bucket'), 28);
  assert.equal(value(families, 'sessionpool_session_duration_seconds', { provider: 'kimi', le: '+Inf' }, '_bucket'), 30);
  assert.equal(value(families, 'sessionpool_session_duration_seconds', { provider: 'kimi' }, '_sum'), 20);
  assert.equal(value(families, 'sessionpool_session_duration_seconds', { provider: 'kimi' }, '_count'), 30);
  // A provider name with a quote, a backslash and a newline is escaped, and reads back the same.
  assert.equal(value(families, 'sessionpool_session_duration_seconds', { provider: 'my \\"proxy\\"\\\\eu\\n' }, '_sum'), 10.5);
  assert.equal(value(families, 'sessionpool_session_duration_all_seconds', { le: '0.1' }, '_bucket'), 10);
  assert.equal(value(families, 'sessionpool_tokens', { provider: 'kimi', type: 'output', le: '64' }, '_bucket'), 3);
  assert.equal(value(families, 'sessionpool_cost_total', { provider: 'kimi', currency: 'USD' }), 0.0012);
  assert.equal(value(families, 'sessionpool_sessions_priced_total', { priced: 'false' }), 1);
  assert.equal(value(families, 'sessionpool_pool_utilization'), 0.375);
  assert.equal(value(families, 'sessionpool_pool_threads'), 4);
  assert.match(formatPrometheus(STATS, 'app'), /^# HELP app_sessions_total /);
});

test('supervisor.metrics() exposes the live stats()', async () => {
  const h = await harness();
  try {
    await Promise.all([h.supervisor.chat({ provider: 'kimi', messages: user('a') }), h.supervisor.chat({ provider: 'glm', prompt: 'b' })]);
    await rejection(h.supervisor.chat({ provider: 'glm', prompt: '' }));
    const stats = h.supervisor.stats();
    const families = parseExposition(h.supervisor.metrics());
    assert.equal(value(families, 'sessionpool_sessions_total', { outcome: 'completed' }), 2);
    assert.equal(value(families, 'sessionpool_sessions_rejected_total', { reason: 'invalid' }), stats.rejected.invalid);
    assert.equal(value(families, 'sessionpool_session_duration_seconds', { provider: 'glm' }, '_count'), 1);
    assert.equal(
      value(families, 'sessionpool_session_duration_seconds', { provider: 'kimi' }, '_sum'),
      stats.histograms.durationSecondsByProvider['kimi']!.sum,
    );
    assert.equal(value(families, 'sessionpool_tokens', { provider: 'kimi', type: 'input' }, '_count'), 1);
    assert.ok((value(families, 'sessionpool_cost_total', { provider: 'kimi', currency: 'USD' }) ?? 0) > 0, 'kimi (moonshot-v1-8k) has a price');
    assert.equal(value(families, 'sessionpool_pool_threads'), stats.pool.threads);
  } finally {
    await h.close();
  }
});
