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
const SUFFIXES: Record<string, string[]> = { counter: [''], gauge: [''], summary: ['', '_count', '_sum'] };

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
    assert.ok(/^([+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?|NaN|[+-]Inf)$/i.test(valueText), `value ${valueText}`);
    const key = `${name}{${labelText}}`;
    assert.ok(!series.has(key), `series once: ${key}`);
    series.add(key);
    family.samples.push({ name, labels, value: Number(valueText.replace('Inf', 'Infinity')) });
  }
  // OpenMetrics readers name a counter family without `_total`: that name must not be taken too.
  const normalized = [...families].map(([name, f]) => (f.type === 'counter' ? name.replace(/_total$/, '') : name));
  assert.equal(new Set(normalized).size, normalized.length, `family names collide: ${normalized.join(' ')}`);
  return families;
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
  rejected: { invalid: 3, queueFull: 4, closed: 0 },
  latencyMs: {
    count: 40,
    p50: 120,
    p95: 900,
    p99: 1500,
    max: 1600,
    byProvider: { kimi: { count: 30, p50: 100, p95: 800, p99: 1400, max: 1500 }, 'my "proxy"\\eu\n': { count: 10, p50: 200, p95: 950, p99: 1600, max: 1600 } },
  },
  pool: { threads: 4, running: 24, utilization: 0.375 },
};

test('formatPrometheus: valid exposition, outcomes, per-state gauges, queue, latency summaries, pool', () => {
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
  assert.equal(families.get('sessionpool_session_duration_seconds')?.type, 'summary');
  assert.equal(value(families, 'sessionpool_session_duration_seconds', { provider: 'kimi', quantile: '0.95' }), 0.8);
  assert.equal(value(families, 'sessionpool_session_duration_seconds', { provider: 'kimi' }, '_count'), 30);
  // A provider name with a quote, a backslash and a newline is escaped, and reads back the same.
  assert.equal(value(families, 'sessionpool_session_duration_seconds', { provider: 'my \\"proxy\\"\\\\eu\\n', quantile: '0.99' }), 1.6);
  assert.equal(value(families, 'sessionpool_session_duration_all_seconds', { quantile: '0.5' }), 0.12);
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
      value(families, 'sessionpool_session_duration_seconds', { provider: 'kimi', quantile: '0.5' }),
      stats.latencyMs.byProvider['kimi']!.p50 / 1000,
    );
    assert.equal(value(families, 'sessionpool_pool_threads'), stats.pool.threads);
  } finally {
    await h.close();
  }
});
