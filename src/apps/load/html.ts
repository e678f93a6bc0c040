// The self-contained HTML report of a run: the figures, and inline SVG charts (latency CDFs, TTFT
// and throughput against the level, requests ended per second with failures). Nothing is fetched.
import { fmt } from '../report/format.ts';
import { esc, lineChart, type Series } from '../report/svg.ts';
import type { Quantiles } from './distribution.ts';
import type { LevelReport } from './level.ts';
import type { LoadResult } from './run.ts';

const PALETTE = ['#2563eb', '#ea580c', '#16a34a', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#9333ea', '#dc2626', '#475569'];
const color = (i: number) => PALETTE[i % PALETTE.length]!;

function cdfChart(result: LoadResult, pick: 'e2e' | 'ttft', title: string, xLabel: string): string {
  const series: Series[] = result.levels.flatMap((r, i) => {
    const points = result.curves[i]?.[pick] ?? [];
    return points.length === 0 ? [] : [{ name: r.label, color: color(i), points }];
  });
  if (series.length === 0) return '';
  const max = Math.max(...series.flatMap((s) => s.points.map((p) => p[0])));
  return lineChart({ title, xLabel, yLabel: '% of requests ≤ x', series, xDomain: [0, max], yDomain: [0, 100], width: 560, height: 280 });
}

function versusLevel(
  result: LoadResult,
  title: string,
  yLabel: string,
  lines: Array<{ name: string; value: (r: LevelReport) => number | undefined; dashed?: boolean }>,
): string {
  const xLabel = result.plan.mode === 'closed' ? 'concurrency (sessions in flight)' : 'requests per second issued';
  const series: Series[] = lines.map((line, i) => ({
    name: line.name,
    color: color(i),
    ...(line.dashed ? { dashed: true } : {}),
    points: result.levels.flatMap((r) => {
      const v = line.value(r);
      return v === undefined || !Number.isFinite(v) ? [] : [[r.level, v] as [number, number]];
    }),
  }));
  if (series.every((s) => s.points.length === 0)) return '';
  const levels = result.levels.map((r) => r.level);
  const xDomain: [number, number] = [0, Math.max(...levels) * 1.05];
  const top = Math.max(...series.flatMap((s) => s.points.map((p) => p[1])), 1e-9);
  return lineChart({ title, xLabel, yLabel, series, xDomain, yDomain: [0, top * 1.1], width: 560, height: 280 });
}

function errorsOverTime(result: LoadResult): string {
  const buckets = result.timeline;
  if (buckets.length === 0) return '';
  const step = (pick: (b: (typeof buckets)[number]) => number): Array<[number, number]> => [
    ...buckets.map((b) => [b.second, pick(b)] as [number, number]),
    [buckets.length, pick(buckets.at(-1)!)],
  ];
  const series: Series[] = [
    { name: 'ok per second', color: '#16a34a', step: true, points: step((b) => b.ok) },
    { name: 'failed per second', color: '#dc2626', step: true, points: step((b) => b.failed) },
  ];
  const markers = result.levels.map((r, i) => ({ x: (result.levelStartsMs[i] ?? 0) / 1000, color: '#64748b', text: r.label }));
  return lineChart({
    title: 'requests ended per second',
    xLabel: 'seconds since the first level started',
    yLabel: 'requests',
    series,
    markers,
    xDomain: [0, buckets.length],
    width: 1140,
    height: 260,
  });
}

const q = (x: Quantiles | null, k: keyof Quantiles) => (x === null ? '–' : fmt(x[k]));

function levelTable(levels: LevelReport[]): string {
  const head =
    '<tr><th>level</th><th>issued</th><th>ok</th><th>failed</th><th>req/s</th><th>out tok/s</th><th>tok/s/req p50</th><th>retries</th><th>rounds</th><th>host CPU ms/req</th><th>host ELU</th><th>cost</th></tr>';
  const rows = levels.map((r) => {
    const est = r.tokens.estimatedRequests > 0 ? '~' : '';
    return `<tr><td>${esc(r.label)}${r.interrupted ? ' (stopped)' : ''}</td><td>${r.requests.issued}</td><td>${r.requests.ok}</td><td>${r.requests.failed}</td><td>${fmt(r.requestsPerSec)}</td><td>${est}${fmt(r.outputTokensPerSec)}</td><td>${est}${q(r.outputTokensPerSecPerRequest, 'p50')}</td><td>${r.retries}</td><td>${r.continuationRounds}</td><td>${fmt(r.host.cpuMsPerRequest)}</td><td>${fmt(r.host.eventLoopUtilization * 100)}%</td><td>${esc(costCell(r.cost))}</td></tr>`;
  });
  return `<table>${head}${rows.join('')}</table>`;
}

function latencyTable(levels: LevelReport[]): string {
  const head = '<tr><th>level</th><th>figure</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>max</th><th>n</th></tr>';
  const rows = levels.flatMap((r) =>
    (['ttftMs', 'itlMs', 'e2eMs'] as const).flatMap((name) => {
      const x = r[name];
      return x === null
        ? []
        : [
            `<tr><td>${esc(r.label)}</td><td>${name.replace('Ms', '')} ms</td><td>${q(x, 'p50')}</td><td>${q(x, 'p90')}</td><td>${q(x, 'p95')}</td><td>${q(x, 'p99')}</td><td>${q(x, 'max')}</td><td>${x.count}</td></tr>`,
          ];
    }),
  );
  return `<table>${head}${rows.join('')}</table>`;
}

function failureList(levels: LevelReport[]): string {
  const items = levels.flatMap((r) => [
    ...Object.entries(r.errors).map(
      ([key, n]) => `<li>${esc(r.label)}: ${n} failed with <code>${esc(key)}</code> (${fmt((n / Math.max(1, r.requests.issued)) * 100)}%)</li>`,
    ),
    ...Object.entries(r.retriedErrors).map(([key, n]) => `<li>${esc(r.label)}: ${n} calls retried after <code>${esc(key)}</code></li>`),
  ]);
  return items.length === 0 ? '<p>No request failed.</p>' : `<ul>${items.join('')}</ul>`;
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#0f172a;max-width:1200px}h1{font-size:22px}h2{margin-top:28px;border-bottom:1px solid #e2e8f0}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #e2e8f0;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
.note{color:#475569;font-size:12px}svg.chart{display:block;margin:8px 0;font:11px system-ui,sans-serif;fill:#334155}svg .grid{stroke:#e2e8f0}svg .axis{stroke:#64748b}
svg .axis-label{font-size:12px;fill:#0f172a}.pair{display:flex;gap:24px;flex-wrap:wrap}`;

export function htmlReport(result: LoadResult): string {
  const { plan, system } = result;
  const budget = 'requests' in plan.budget ? `${plan.budget.requests} requests per level` : `${fmt(plan.budget.durationMs / 1000)} s per level`;
  const what = `${esc(plan.provider)}${plan.model ? ` (${esc(plan.model)})` : ''}, ${plan.mode === 'closed' ? 'closed loop (fixed concurrency)' : 'open loop (Poisson arrivals)'}, ${budget}, ${plan.stream ? 'streamed' : 'not streamed'}`;
  const ttftVs = plan.stream
    ? versusLevel(result, 'TTFT vs level', 'time to first token, ms', [
        { name: 'p50', value: (r) => r.ttftMs?.p50 },
        { name: 'p90', value: (r) => r.ttftMs?.p90 },
        { name: 'p99', value: (r) => r.ttftMs?.p99, dashed: true },
      ])
    : '';
  const e2eVs = versusLevel(result, 'e2e latency vs level', 'end-to-end latency, ms', [
    { name: 'p50', value: (r) => r.e2eMs?.p50 },
    { name: 'p90', value: (r) => r.e2eMs?.p90 },
    { name: 'p99', value: (r) => r.e2eMs?.p99, dashed: true },
  ]);
  const tokens = versusLevel(result, 'output tokens per second vs level', 'output tokens / s (all requests)', [
    { name: 'output tokens/s', value: (r) => r.outputTokensPerSec },
  ]);
  const requests = versusLevel(result, 'requests per second vs level', 'requests ended ok / s', [{ name: 'requests/s', value: (r) => r.requestsPerSec }]);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sessionpool load</title><style>${STYLE}</style></head><body>
<h1>sessionpool load${result.interrupted ? ' (stopped before the end)' : ''}</h1>
<p>${what}.</p>
<p class="note">system: Node ${esc(system.node)}, ${esc(system.platform)}, ${esc(system.cpu)}, ${system.cores} cores, ${system.memoryGB} GB; engine threads ${system.engineThreads}; started ${esc(result.startedAt)}</p>
<h2 id="figures">Figures per level</h2>${levelTable(result.levels)}${latencyTable(result.levels)}
<p class="note">ttft: call to first answer text; itl: (last text − first text) ÷ (output tokens − 1); e2e: call to result, successful requests; tok/s/req: output tokens ÷ e2e; out tok/s and req/s: over the level's wall time; host: this process's main thread (CPU time per request, event-loop utilisation); ~: token counts estimated.</p>
<h2 id="failures">Failures</h2>${failureList(result.levels)}
<h2 id="latency">Latency distributions</h2><div class="pair">${cdfChart(result, 'e2e', 'e2e latency CDF', 'end-to-end latency, ms')}${plan.stream ? cdfChart(result, 'ttft', 'TTFT CDF', 'time to first token, ms') : ''}</div>
<h2 id="levels">Latency and throughput vs level</h2><div class="pair">${ttftVs}${e2eVs}${tokens}${requests}</div>
<h2 id="errors">Requests over time</h2>${errorsOverTime(result)}
</body></html>
`;
}

/** A level's cost at list prices, per currency ("–" when no request had a price). */
function costCell(cost: Record<string, number> | undefined): string {
  const parts = Object.entries(cost ?? {}).map(([currency, amount]) => `${amount >= 1 ? amount.toFixed(2) : Number(amount.toPrecision(3))} ${currency}`);
  return parts.length === 0 ? '–' : parts.join(' + ');
}
