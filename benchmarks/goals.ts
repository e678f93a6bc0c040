// The performance goals of DESIGN.md and issues 13 and 26, judged on this run's figures (medians,
// same machine, same run). A goal whose scenario was not run is not judged. The table of goals in
// docs/performance.md says the same: change both together.
import type { FirstSessionFigures } from './first-session.ts';
import { fmt, type ScenarioReport } from './report.ts';

export interface GoalVerdict {
  scenario: string;
  goal: string;
  measured: string;
  /** null: not judged (a --quick run is smaller than the goal's scenario). */
  met: boolean | null;
}

type Judge = (r: ScenarioReport) => Omit<GoalVerdict, 'scenario' | 'goal'> | null | undefined;

const GOALS: ReadonlyArray<{ scenario: string; goal: string; judge: Judge }> = [
  {
    scenario: 'nonstream-100',
    goal: 'main-thread CPU/session <= 0.10 ms and <= 1/5 of the SDK; event-loop active <= 1/3',
    judge: (r) => cpuGoal(r, 0.1, 1 / 5, 1 / 3),
  },
  {
    scenario: 'stream-500',
    goal: 'main-thread CPU/session <= 0.25 ms and <= 1/12 of the SDK',
    judge: (r) => cpuGoal(r, 0.25, 1 / 12),
  },
  {
    scenario: 'latency-1',
    goal: 'added latency p50 <= 0.25 ms (one call at a time)',
    judge: (r) => latencyGoal(r, 0.25),
  },
  {
    scenario: 'latency-10',
    goal: 'added latency p50 <= 1 ms, p99 <= 2 ms',
    judge: (r) => latencyGoal(r, 1, 2),
  },
  {
    scenario: 'blocked-host',
    goal: 'engine latency <= 0.4 x the SDK (p50; host busy in 200 ms slices)',
    judge: (r) =>
      r.ratio &&
      r.baseline && {
        measured: `p50 ${fmt(r.engine.p50Ms.median)} vs ${fmt(r.baseline.p50Ms.median)} ms = ${fmt(r.ratio.p50)}x (p99 ${fmt(r.ratio.p99)}x)`,
        met: r.ratio.p50 <= 0.4,
      },
  },
  {
    scenario: 'inflight-10k',
    goal: 'all in flight complete, none lost, peak main heap <= 100 MB',
    judge: (r) => ({
      measured: `${r.engine.sessions - r.engine.wrong}/${r.engine.sessions} complete at ${r.concurrency} in flight, peak heap ${fmt(r.engine.peakHeapMB.max)} MB${r.engine.liveHeapMB !== undefined ? ` (live after GC ${fmt(r.engine.liveHeapMB)} MB)` : ''}${r.engine.workerHeapMB !== undefined ? `, worker heaps ${r.engine.workerHeapMB.map(fmt).join(' + ')} MB` : ''}${r.concurrency < 10_000 ? ' (not judged: the goal is 10,000 in flight)' : ''}`,
      met: r.concurrency < 10_000 ? null : r.engine.wrong === 0 && r.engine.peakHeapMB.max <= 100,
    }),
  },
  {
    scenario: 'throughput',
    goal: 'sessions/s >= 1.0 x the SDK (zero-latency mock, 2 threads)',
    judge: (r) =>
      r.ratio &&
      r.baseline && {
        measured: `${fmt(r.engine.sessionsPerSec.median)} vs ${fmt(r.baseline.sessionsPerSec.median)} sessions/s = ${fmt(r.ratio.sessionsPerSec)}x`,
        met: r.ratio.sessionsPerSec >= 1,
      },
  },
];

/**
 * Issue 26: what the whole machine pays. The SDK does the same HTTP and parsing work wherever it
 * runs, so CPU of every thread per session beyond the SDK's is the engine's own cost.
 */
const ALL_THREADS_GOALS: ReadonlyArray<{ scenario: string; maxRatio: number }> = [
  { scenario: 'nonstream-100', maxRatio: 1.25 },
  { scenario: 'stream-500', maxRatio: 1.1 },
  { scenario: 'latency-1', maxRatio: 1.25 },
  { scenario: 'latency-10', maxRatio: 1.25 },
];

function allThreadsGoal(r: ScenarioReport, maxRatio: number): Omit<GoalVerdict, 'scenario' | 'goal'> | undefined {
  if (!r.ratio || !r.baseline) return undefined;
  return {
    measured: `${fmt(r.engine.processCpuPerSessionMs.median)} vs SDK ${fmt(r.baseline.processCpuPerSessionMs.median)} ms = ${fmt(r.ratio.processCpuPerSession)}x`,
    met: r.ratio.processCpuPerSession <= maxRatio,
  };
}

const signed = (x: number) => `${x >= 0 ? '+' : ''}${fmt(x)}`;

/** The goal's figure is the main thread's own CPU time; event-loop active time is shown beside it (and judged when `maxLoopRatio` is given). */
function cpuGoal(r: ScenarioReport, maxMs: number, maxRatio: number, maxLoopRatio?: number): Omit<GoalVerdict, 'scenario' | 'goal'> | undefined {
  if (!r.ratio || !r.baseline) return undefined;
  const e = r.engine.threadCpuPerSessionMs.median;
  const loop = `event-loop active ${fmt(r.engine.cpuPerSessionMs.median)} vs ${fmt(r.baseline.cpuPerSessionMs.median)} ms = 1/${fmt(1 / r.ratio.cpuPerSession)}`;
  return {
    measured: `thread CPU ${fmt(e)} ms vs SDK ${fmt(r.baseline.threadCpuPerSessionMs.median)} ms = 1/${fmt(1 / r.ratio.threadCpuPerSession)} (${loop})`,
    met: e <= maxMs && r.ratio.threadCpuPerSession <= maxRatio && (maxLoopRatio === undefined || r.ratio.cpuPerSession <= maxLoopRatio),
  };
}

function latencyGoal(r: ScenarioReport, maxP50: number, maxP99?: number): Omit<GoalVerdict, 'scenario' | 'goal'> | null {
  const added = r.addedLatencyMs;
  if (!added) return null;
  return {
    measured: `${signed(added.p50)} ms p50, ${signed(added.p99)} ms p99 (engine ${fmt(r.engine.p50Ms.median)}/${fmt(r.engine.p99Ms.median)}, SDK ${fmt(r.baseline?.p50Ms.median ?? NaN)}/${fmt(r.baseline?.p99Ms.median ?? NaN)})`,
    met: added.p50 <= maxP50 && (maxP99 === undefined || added.p99 <= maxP99),
  };
}

/**
 * Issue 26, a fresh supervisor created and called at once: its first result within 150 ms and 5x
 * the SDK's first call from the built package (what users run), within 350 ms from the .ts sources.
 */
const FIRST_SESSION_GOALS: Record<FirstSessionFigures['build'], { maxMs: number; maxSdkRatio?: number; goal: string }> = {
  built: { maxMs: 150, maxSdkRatio: 5, goal: "fresh supervisor's first session (called at once) <= 150 ms and <= 5x the SDK's first call, built package" },
  sources: { maxMs: 350, goal: "fresh supervisor's first session (called at once) <= 350 ms, from the .ts sources" },
};

function firstSessionVerdict(f: FirstSessionFigures): GoalVerdict {
  const { maxMs, maxSdkRatio, goal } = FIRST_SESSION_GOALS[f.build];
  const cold = f.engineColdMs.median;
  const ratio = cold / f.sdkFirstMs.median;
  const measured = `${fmt(cold)} ms [${fmt(f.engineColdMs.min)}–${fmt(f.engineColdMs.max)}] over ${f.runs} fresh processes (threads ready ${fmt(f.readyMs.median)} ms), ${fmt(ratio)}x the SDK's first call (${fmt(f.sdkFirstMs.median)} ms)`;
  if (f.stale)
    return { scenario: `first-session (${f.build})`, goal, measured: `${measured} (not judged: dist/ is older than the sources, npm run build)`, met: null };
  return { scenario: `first-session (${f.build})`, goal, measured, met: cold <= maxMs && (maxSdkRatio === undefined || ratio <= maxSdkRatio) };
}

/** Issue 26: a ready supervisor with 2 threads adds at most this much RSS to a bare Node process (built package). */
const MAX_READY_RSS_OVER_BARE_MB = 70;

function readyRssVerdict(f: FirstSessionFigures): GoalVerdict {
  const goal = `RSS of a ready supervisor (idle, after two sessions) over bare Node <= ${MAX_READY_RSS_OVER_BARE_MB} MB, built package`;
  const measured = `+${fmt(f.rssOverBareMB.median)} MB [${fmt(f.rssOverBareMB.min)}–${fmt(f.rssOverBareMB.max)}] over ${f.runs} fresh processes`;
  return { scenario: 'ready-rss (built)', goal, measured, met: f.stale ? null : f.rssOverBareMB.median <= MAX_READY_RSS_OVER_BARE_MB };
}

export function judgeGoals(reports: readonly ScenarioReport[], firstSessions: readonly FirstSessionFigures[] = []): GoalVerdict[] {
  const verdicts: GoalVerdict[] = [];
  for (const { scenario, goal, judge } of GOALS) {
    const report = reports.find((r) => r.scenario === scenario);
    const verdict = report && judge(report);
    if (verdict) verdicts.push({ scenario, goal, ...verdict });
  }
  for (const { scenario, maxRatio } of ALL_THREADS_GOALS) {
    const report = reports.find((r) => r.scenario === scenario);
    const verdict = report && allThreadsGoal(report, maxRatio);
    if (verdict) verdicts.push({ scenario, goal: `all-threads CPU/session <= ${maxRatio}x the SDK`, ...verdict });
  }
  for (const f of firstSessions) verdicts.push(firstSessionVerdict(f));
  for (const f of firstSessions) if (f.build === 'built') verdicts.push(readyRssVerdict(f));
  return verdicts;
}

export function goalLines(verdicts: readonly GoalVerdict[]): string {
  const width = Math.max(0, ...verdicts.map((v) => v.scenario.length));
  return verdicts.map((v) => `${v.met === null ? 'n/a   ' : v.met ? 'met   ' : 'MISSED'}  ${v.scenario.padEnd(width)}  ${v.goal}: ${v.measured}`).join('\n');
}
