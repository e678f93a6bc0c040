// The self-contained HTML report: goals, the figures table, main-thread CPU bars, and per scenario
// the latency distributions (engine vs SDK) and a timeline of one traced engine round across the
// worker threads (from the supervisor's `transition` and `started` events). Inline SVG only.
import type { GoalVerdict } from './goals.ts';
import { fmt, systemLine, type ScenarioReport, type SideFigures, type SystemInfo } from './report.ts';
import type { TraceSession } from './round.ts';
import { barGroups, esc, gantt, lineChart, type GanttRow, type Series } from '../src/apps/report/svg.ts';

export interface ScenarioCharts {
  report: ScenarioReport;
  /** Every measured session's latency (ms), all rounds. */
  latencies: { engine: number[]; baseline: number[] };
  trace?: { sessions: TraceSession[]; durationMs: number };
}

export interface HtmlInput {
  scenarios: ScenarioCharts[];
  goals: GoalVerdict[];
  system: SystemInfo;
  quick: boolean;
  wrong: number;
}

const ENGINE = '#2563eb';
const SDK = '#ea580c';
const THREAD_COLORS = ['#16a34a', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#9333ea'];

/** The empirical CDF, at most `points` points. */
function cdf(latencies: number[], points = 300): Array<[number, number]> {
  const sorted = Float64Array.from(latencies).sort();
  const out: Array<[number, number]> = [];
  const k = Math.min(points, sorted.length);
  for (let i = 0; i < k; i++) {
    const idx = k === 1 ? 0 : Math.round((i * (sorted.length - 1)) / (k - 1));
    out.push([sorted[idx]!, ((idx + 1) / sorted.length) * 100]);
  }
  return out;
}

function latencyChart(s: ScenarioCharts): string {
  const series: Series[] = [{ name: `engine (${s.latencies.engine.length})`, color: ENGINE, points: cdf(s.latencies.engine) }];
  const markers = [{ x: s.report.engine.p50Ms.median, color: ENGINE, text: `engine p50 ${fmt(s.report.engine.p50Ms.median)}` }];
  if (s.latencies.baseline.length > 0 && s.report.baseline) {
    series.push({ name: `plain SDK (${s.latencies.baseline.length})`, color: SDK, points: cdf(s.latencies.baseline), dashed: true });
    markers.push({ x: s.report.baseline.p50Ms.median, color: SDK, text: `SDK p50 ${fmt(s.report.baseline.p50Ms.median)}` });
  }
  const all = [...s.latencies.engine, ...s.latencies.baseline];
  const max = all.reduce((a, b) => Math.max(a, b), -Infinity);
  const min = all.reduce((a, b) => Math.min(a, b), Infinity);
  // From 0 when the sides are far apart (so both show), else zoomed on where they are.
  const xDomain: [number, number] = [min < max / 2 ? 0 : min, max];
  return lineChart({
    title: `${s.report.scenario} latency`,
    xLabel: 'latency per session, ms (call to result)',
    yLabel: '% of sessions ≤ x',
    series,
    yDomain: [0, 100],
    xDomain,
    markers,
  });
}

/** Sessions running on each thread (and waiting for a slot), sampled over the traced round. */
function threadChart(trace: NonNullable<ScenarioCharts['trace']>, threads: number[]): string {
  const samples = 400;
  const step = trace.durationMs / samples;
  const count = (from: (t: TraceSession) => number | undefined, to: (t: TraceSession) => number | undefined, keep: (t: TraceSession) => boolean) => {
    const deltas = new Float64Array(samples + 2);
    for (const s of trace.sessions) {
      const a = from(s);
      if (!keep(s) || a === undefined) continue;
      const b = to(s) ?? trace.durationMs;
      deltas[Math.min(samples + 1, Math.max(0, Math.ceil(a / step)))]! += 1;
      deltas[Math.min(samples + 1, Math.max(0, Math.ceil(b / step)))]! -= 1;
    }
    const points: Array<[number, number]> = [];
    let level = 0;
    for (let i = 0; i <= samples; i++) points.push([i * step, (level += deltas[i]!)]);
    return points;
  };
  const series: Series[] = threads.map((id, i) => ({
    name: `thread ${id}`,
    color: THREAD_COLORS[i % THREAD_COLORS.length]!,
    step: true,
    points: count(
      (s) => s.startedAt,
      (s) => s.endedAt,
      (s) => s.threadId === id,
    ),
  }));
  series.push({
    name: 'waiting for a slot',
    color: '#94a3b8',
    step: true,
    dashed: true,
    points: count(
      (s) => s.createdAt,
      (s) => s.processingAt,
      () => true,
    ),
  });
  return lineChart({
    title: 'sessions per worker thread',
    xLabel: 'ms since the round started',
    yLabel: 'sessions running',
    series,
    xDomain: [0, trace.durationMs],
    width: 1140,
    height: 240,
  });
}

function timeline(trace: NonNullable<ScenarioCharts['trace']>): string {
  const threads = [...new Set(trace.sessions.flatMap((s) => (s.threadId === undefined ? [] : [s.threadId])))].sort((a, b) => a - b);
  const colorOf = (id: number | undefined) => (id === undefined ? '#dc2626' : THREAD_COLORS[threads.indexOf(id) % THREAD_COLORS.length]!);
  // Grouped by thread (in creation order within a thread): one band per worker thread.
  const band = (s: TraceSession) => (s.threadId === undefined ? Infinity : threads.indexOf(s.threadId));
  const ordered = [...trace.sessions].sort((a, b) => band(a) - band(b) || a.createdAt - b.createdAt);
  const shown = Math.min(200, ordered.length);
  const rows: GanttRow[] = [];
  for (let i = 0; i < shown; i++) {
    const s = ordered[Math.floor((i * ordered.length) / shown)]!;
    const end = s.endedAt ?? trace.durationMs;
    rows.push({
      queued: s.processingAt !== undefined ? [s.createdAt, s.processingAt] : [s.createdAt, end],
      dispatched: s.processingAt !== undefined ? [s.processingAt, s.startedAt ?? end] : undefined,
      running: s.startedAt !== undefined ? [s.startedAt, end] : undefined,
      color: colorOf(s.threadId),
    });
  }
  const legend = [
    { name: 'waiting for a slot', color: '#cbd5e1' },
    { name: 'dispatched, not yet started', color: '#fde68a' },
    ...threads.map((id) => ({ name: `running on thread ${id}`, color: colorOf(id) })),
  ];
  const unseen = trace.sessions.filter((s) => s.endedAt !== undefined && s.startedAt === undefined).length;
  const caption =
    `${trace.sessions.length} sessions in one traced engine round (${shown < ordered.length ? `${shown} rows sampled evenly` : 'every session'}), ${fmt(trace.durationMs)} ms` +
    (unseen > 0
      ? `; ${unseen} sessions settled without a \`started\` event reaching the listener (their result overtook their event batch), drawn without a thread`
      : '');
  return `<h3>Timeline across worker threads</h3><p class="note">${esc(caption)}. Times are when the main thread received each event (a busy host learns of them late). Listeners cost the host, so this round is extra, not one of the measured ones.</p>${threadChart(trace, threads)}${gantt(rows, trace.durationMs, 'sessions timeline', legend)}`;
}

const spreadCell = (s: SideFigures['p50Ms']) => `${fmt(s.median)} <small>[${fmt(s.min)}–${fmt(s.max)}]</small>`;

function figuresTable(reports: ScenarioReport[]): string {
  const head =
    '<tr><th>scenario</th><th>conc.</th><th>side</th><th>CPU ms/session (ELU)</th><th>thread CPU ms/session</th><th>all-threads CPU ms/session</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>sessions/s</th><th>heap MB</th><th>RSS MB</th></tr>';
  const side = (name: string, f: SideFigures, first: string) =>
    `<tr>${first}<td>${name}</td><td>${spreadCell(f.cpuPerSessionMs)}</td><td>${spreadCell(f.threadCpuPerSessionMs)}</td><td>${spreadCell(f.processCpuPerSessionMs)}</td><td>${spreadCell(f.p50Ms)}</td><td>${spreadCell(f.p95Ms)}</td><td>${spreadCell(f.p99Ms)}</td><td>${spreadCell(f.sessionsPerSec)}</td><td>${spreadCell(f.peakHeapMB)}</td><td>${spreadCell(f.peakRssMB)}</td></tr>`;
  const rows = reports.map((r) => {
    const span = r.baseline ? 3 : 1;
    const first = `<td rowspan="${span}"><b>${esc(r.scenario)}</b></td><td rowspan="${span}">${r.concurrency}</td>`;
    let html = side('engine', r.engine, first);
    if (r.baseline && r.ratio) {
      const x = (v: number) => `<td>${fmt(v)}×</td>`;
      html += side('plain SDK', r.baseline, '');
      html += `<tr class="ratio"><td>ratio</td>${x(r.ratio.cpuPerSession)}${x(r.ratio.threadCpuPerSession)}${x(r.ratio.processCpuPerSession)}${x(r.ratio.p50)}${x(r.ratio.p95)}${x(r.ratio.p99)}${x(r.ratio.sessionsPerSec)}${x(r.ratio.peakHeap)}<td></td></tr>`;
    }
    return html;
  });
  return `<table>${head}${rows.join('')}</table><p class="note">median [min–max] over the measured rounds; CPU (ELU) = main-thread event-loop active time ÷ sessions (on busy cores it counts waiting for one too); thread CPU = the main thread's own CPU time (process.threadCpuUsage) ÷ sessions, the main-thread goals' figure; all-threads CPU = every thread of the process (process.cpuUsage) ÷ sessions, what offloading costs the machine; blocked-host: the host's own busy slices excluded from both; heap = main thread; RSS = whole process.</p>`;
}

function cpuBars(reports: ScenarioReport[]): string {
  return barGroups(
    reports.map((r) => ({
      name: r.scenario,
      bars: [
        { name: 'engine', color: ENGINE, value: r.engine.cpuPerSessionMs.median, text: `${fmt(r.engine.cpuPerSessionMs.median)} ms` },
        ...(r.baseline ? [{ name: 'SDK', color: SDK, value: r.baseline.cpuPerSessionMs.median, text: `${fmt(r.baseline.cpuPerSessionMs.median)} ms` }] : []),
      ],
    })),
  );
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#0f172a;max-width:1200px}h1{font-size:22px}h2{margin-top:32px;border-bottom:1px solid #e2e8f0}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #e2e8f0;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
tr.ratio td{background:#f1f5f9;font-weight:600}.met{color:#15803d;font-weight:700}.missed{color:#b91c1c;font-weight:700}.na{color:#64748b}.note{color:#475569;font-size:12px}
svg.chart{display:block;margin:8px 0;font:11px system-ui,sans-serif;fill:#334155}svg .grid{stroke:#e2e8f0}svg .axis{stroke:#64748b}svg .axis-label{font-size:12px;fill:#0f172a}svg .group{font-weight:600}
.pair{display:flex;gap:24px;flex-wrap:wrap}`;

export function htmlReport(input: HtmlInput): string {
  const reports = input.scenarios.map((s) => s.report);
  const goals = input.goals
    .map(
      (g) =>
        `<tr><td class="${g.met === null ? 'na' : g.met ? 'met' : 'missed'}">${g.met === null ? 'not judged' : g.met ? 'met' : 'missed'}</td><td>${esc(g.scenario)}</td><td>${esc(g.goal)}</td><td>${esc(g.measured)}</td></tr>`,
    )
    .join('');
  const sections = input.scenarios.map(
    (
      s,
    ) => `<h2 id="${esc(s.report.scenario)}">${esc(s.report.scenario)}</h2><p>${esc(s.report.title)} — ${s.report.concurrency} concurrent, ${s.report.sessionsPerRound} sessions per round, ${s.report.engine.rounds} measured rounds per side.${s.report.engine.liveHeapMB !== undefined ? ` Main-thread live heap with every session in flight (after a full GC, probe round): ${fmt(s.report.engine.liveHeapMB)} MB.` : ''}</p>
<h3>Latency distribution</h3>${latencyChart(s)}${s.trace ? timeline(s.trace) : ''}`,
  );
  const verdict =
    input.wrong === 0
      ? '<span class="met">every answer checked and right</span>'
      : `<span class="missed">${input.wrong} wrong answers: figures not valid</span>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sessionpool bench</title><style>${STYLE}</style></head><body>
<h1>sessionpool bench${input.quick ? ' (--quick)' : ''}</h1>
<p>Engine (sessions on worker threads) vs plain <code>openai</code> SDK calls on the main thread, same mock provider in a separate process, same concurrency, interleaved rounds. ${verdict}.</p>
<p class="note">${esc(systemLine(input.system))}; generated ${esc(new Date().toISOString())}</p>
<h2>Goals</h2><table><tr><th>verdict</th><th>scenario</th><th>goal</th><th>measured</th></tr>${goals}</table>
<h2>Figures</h2>${figuresTable(reports)}
<h2>Main-thread CPU per session</h2>${cpuBars(reports)}
${sections.join('\n')}
</body></html>
`;
}
