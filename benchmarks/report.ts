// Figures per scenario (median over the measured rounds, with min–max), the engine/baseline
// ratios, and their three outputs: the table, one JSON line per scenario, and the system line.
import { fmt } from '../src/apps/report/format.ts';
import type { SystemInfo } from '../src/apps/report/system.ts';
import { MB, percentiles, spread, type Spread } from './measure.ts';
import type { RoundResult } from './round.ts';
import type { Scenario } from './scenarios.ts';

export interface SideFigures {
  rounds: number;
  /** Sessions measured, all rounds. */
  sessions: number;
  /** Main-thread busy time (event-loop utilisation, "active") per session. */
  cpuPerSessionMs: Spread;
  /** The main thread's own CPU time per session (process.threadCpuUsage): ELU minus waiting for a core. */
  threadCpuPerSessionMs: Spread;
  /** CPU time of every thread of the process per session (process.cpuUsage): what offloading costs the machine. */
  processCpuPerSessionMs: Spread;
  p50Ms: Spread;
  p95Ms: Spread;
  p99Ms: Spread;
  sessionsPerSec: Spread;
  /** Main-thread V8 heap used, peak during the round. */
  peakHeapMB: Spread;
  /** Whole process (worker threads included: they exist during baseline rounds too). */
  peakRssMB: Spread;
  wrong: number;
  /** Main-thread heap after a full GC with every session in flight (probe round; inflight only). */
  liveHeapMB?: number;
  /** Each worker thread's heap in use at the same moment (probe round; inflight only). */
  workerHeapMB?: number[];
}

export interface Ratios {
  cpuPerSession: number;
  threadCpuPerSession: number;
  processCpuPerSession: number;
  p50: number;
  p95: number;
  p99: number;
  sessionsPerSec: number;
  peakHeap: number;
}

export interface ScenarioReport {
  scenario: string;
  title: string;
  concurrency: number;
  sessionsPerRound: number;
  engine: SideFigures;
  baseline: SideFigures | null;
  /** engine ÷ baseline, on the medians. */
  ratio: Ratios | null;
  /** engine − baseline, on the medians (ms). */
  addedLatencyMs: { p50: number; p95: number; p99: number } | null;
}

export function sideFigures(rounds: readonly RoundResult[]): SideFigures {
  const each = rounds.map((r) => ({ ...percentiles(r.latencies), r }));
  const of = (pick: (x: (typeof each)[number]) => number) => spread(each.map(pick));
  return {
    rounds: rounds.length,
    sessions: rounds.reduce((n, r) => n + r.sessions, 0),
    cpuPerSessionMs: of((x) => x.r.hostMs / x.r.sessions),
    threadCpuPerSessionMs: of((x) => x.r.hostCpuMs / x.r.sessions),
    processCpuPerSessionMs: of((x) => x.r.processCpuMs / x.r.sessions),
    p50Ms: of((x) => x.p50),
    p95Ms: of((x) => x.p95),
    p99Ms: of((x) => x.p99),
    sessionsPerSec: of((x) => x.r.sessions / (x.r.wallMs / 1000)),
    peakHeapMB: of((x) => x.r.peakHeap / MB),
    peakRssMB: of((x) => x.r.peakRss / MB),
    wrong: rounds.reduce((n, r) => n + r.wrong.length, 0),
  };
}

export function scenarioReport(
  scenario: Scenario,
  concurrency: number,
  sessionsPerRound: number,
  engine: readonly RoundResult[],
  baseline: readonly RoundResult[],
): ScenarioReport {
  const e = sideFigures(engine);
  const b = baseline.length > 0 ? sideFigures(baseline) : null;
  const div = (x: Spread, y: Spread) => x.median / y.median;
  return {
    scenario: scenario.name,
    title: scenario.title,
    concurrency,
    sessionsPerRound,
    engine: e,
    baseline: b,
    ratio: b && {
      cpuPerSession: div(e.cpuPerSessionMs, b.cpuPerSessionMs),
      threadCpuPerSession: div(e.threadCpuPerSessionMs, b.threadCpuPerSessionMs),
      processCpuPerSession: div(e.processCpuPerSessionMs, b.processCpuPerSessionMs),
      p50: div(e.p50Ms, b.p50Ms),
      p95: div(e.p95Ms, b.p95Ms),
      p99: div(e.p99Ms, b.p99Ms),
      sessionsPerSec: div(e.sessionsPerSec, b.sessionsPerSec),
      peakHeap: div(e.peakHeapMB, b.peakHeapMB),
    },
    addedLatencyMs: b && { p50: e.p50Ms.median - b.p50Ms.median, p95: e.p95Ms.median - b.p95Ms.median, p99: e.p99Ms.median - b.p99Ms.median },
  };
}

export { fmt } from '../src/apps/report/format.ts';

const cell = (s: Spread) => `${fmt(s.median)} [${fmt(s.min)}–${fmt(s.max)}]`;
const COLUMNS = ['scenario', 'conc', 'side', 'cpu ms/session', 'thread-cpu ms', 'all-cpu ms', 'p50 ms', 'p95 ms', 'p99 ms', 'sessions/s', 'heap MB', 'rss MB'];

function sideRow(name: string, side: string, conc: string, f: SideFigures): string[] {
  return [
    name,
    conc,
    side,
    cell(f.cpuPerSessionMs),
    cell(f.threadCpuPerSessionMs),
    cell(f.processCpuPerSessionMs),
    cell(f.p50Ms),
    cell(f.p95Ms),
    cell(f.p99Ms),
    cell(f.sessionsPerSec),
    cell(f.peakHeapMB),
    cell(f.peakRssMB),
  ];
}

/** The table: per scenario an engine row, a baseline row and a ratio row (engine ÷ baseline). */
export function table(reports: readonly ScenarioReport[]): string {
  const rows: string[][] = [COLUMNS];
  for (const r of reports) {
    rows.push(sideRow(r.scenario, 'engine', String(r.concurrency), r.engine));
    if (r.baseline && r.ratio) {
      rows.push(sideRow('', 'sdk', '', r.baseline));
      const x = (v: number) => `${fmt(v)}x`;
      rows.push([
        '',
        '',
        'ratio',
        x(r.ratio.cpuPerSession),
        x(r.ratio.threadCpuPerSession),
        x(r.ratio.processCpuPerSession),
        x(r.ratio.p50),
        x(r.ratio.p95),
        x(r.ratio.p99),
        x(r.ratio.sessionsPerSec),
        x(r.ratio.peakHeap),
        '',
      ]);
    }
  }
  const widths = COLUMNS.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((v, c) => (c < 3 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const row of rows.slice(1)) out.push(line(row));
  out.push(
    'median [min–max] over the measured rounds. cpu = main-thread event-loop active time ÷ sessions (on busy cores it counts waiting for one too); ' +
      "thread-cpu = the main thread's own CPU time ÷ sessions (process.threadCpuUsage; the main-thread goals' figure); all-cpu = every thread of the process ÷ sessions (process.cpuUsage; the mock is another process); blocked-host: the host's busy slices excluded from both; " +
      'heap = main thread, peak heapUsed; rss = whole process (worker threads included, a high-water mark); thread-cpu is tick-granular (4 ms)',
  );
  return out.join('\n');
}

const round3 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);
const spreadJSON = (s: Spread) => ({ median: round3(s.median), min: round3(s.min), max: round3(s.max) });

function sideJSON(f: SideFigures) {
  return {
    rounds: f.rounds,
    sessions: f.sessions,
    wrong: f.wrong,
    cpuPerSessionMs: spreadJSON(f.cpuPerSessionMs),
    threadCpuPerSessionMs: spreadJSON(f.threadCpuPerSessionMs),
    processCpuPerSessionMs: spreadJSON(f.processCpuPerSessionMs),
    latencyMs: { p50: spreadJSON(f.p50Ms), p95: spreadJSON(f.p95Ms), p99: spreadJSON(f.p99Ms) },
    sessionsPerSec: spreadJSON(f.sessionsPerSec),
    peakHeapMB: spreadJSON(f.peakHeapMB),
    peakRssMB: spreadJSON(f.peakRssMB),
    ...(f.liveHeapMB !== undefined ? { liveHeapMB: round3(f.liveHeapMB) } : {}),
    ...(f.workerHeapMB !== undefined ? { workerHeapMB: f.workerHeapMB.map(round3) } : {}),
  };
}

export function jsonLine(r: ScenarioReport): string {
  const ratio = r.ratio && Object.fromEntries(Object.entries(r.ratio).map(([k, v]) => [k, round3(v)]));
  const added = r.addedLatencyMs && Object.fromEntries(Object.entries(r.addedLatencyMs).map(([k, v]) => [k, round3(v)]));
  return JSON.stringify({
    scenario: r.scenario,
    concurrency: r.concurrency,
    sessionsPerRound: r.sessionsPerRound,
    engine: sideJSON(r.engine),
    baseline: r.baseline && sideJSON(r.baseline),
    ratio,
    addedLatencyMs: added,
  });
}

export { systemInfo, type SystemInfo } from '../src/apps/report/system.ts';

export function systemLine(s: SystemInfo): string {
  return `system: Node ${s.node}, ${s.platform}, ${s.cpu}, ${s.cores} cores, ${s.memoryGB} GB; engine threads ${s.engineThreads}; mock provider in a separate process`;
}
