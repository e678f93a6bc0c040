// The performance goals of DESIGN.md, judged on this run's figures (medians, same machine, same
// run). A goal whose scenario was not run is not judged.
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
    goal: 'main-thread CPU/session <= 0.15 ms and <= 1/5 of the SDK',
    judge: (r) => cpuGoal(r, 0.15, 1 / 5),
  },
  {
    scenario: 'stream-500',
    goal: 'main-thread CPU/session <= 0.5 ms and <= 1/8 of the SDK',
    judge: (r) => cpuGoal(r, 0.5, 1 / 8),
  },
  {
    scenario: 'latency-10',
    goal: 'added latency p50 <= 0.5 ms, p99 <= 1 ms',
    judge: (r) =>
      r.addedLatencyMs && {
        measured: `${signed(r.addedLatencyMs.p50)} ms p50, ${signed(r.addedLatencyMs.p99)} ms p99 (engine ${fmt(r.engine.p50Ms.median)}/${fmt(r.engine.p99Ms.median)}, SDK ${fmt(r.baseline?.p50Ms.median ?? NaN)}/${fmt(r.baseline?.p99Ms.median ?? NaN)})`,
        met: r.addedLatencyMs.p50 <= 0.5 && r.addedLatencyMs.p99 <= 1,
      },
  },
  {
    scenario: 'blocked-host',
    goal: 'engine latency <= 0.4 x the SDK (p50; host busy in 200 ms slices)',
    judge: (r) =>
      r.ratio && r.baseline && {
        measured: `p50 ${fmt(r.engine.p50Ms.median)} vs ${fmt(r.baseline.p50Ms.median)} ms = ${fmt(r.ratio.p50)}x (p99 ${fmt(r.ratio.p99)}x)`,
        met: r.ratio.p50 <= 0.4,
      },
  },
  {
    scenario: 'inflight-10k',
    goal: 'all in flight complete, none lost, main heap <= 150 MB',
    judge: (r) => ({
      measured: `${r.engine.sessions - r.engine.wrong}/${r.engine.sessions} complete at ${r.concurrency} in flight, peak heap ${fmt(r.engine.peakHeapMB.max)} MB${r.engine.liveHeapMB !== undefined ? ` (live after GC ${fmt(r.engine.liveHeapMB)} MB)` : ''}${r.concurrency < 10_000 ? ' (not judged: the goal is 10,000 in flight)' : ''}`,
      met: r.concurrency < 10_000 ? null : r.engine.wrong === 0 && r.engine.peakHeapMB.max <= 150,
    }),
  },
  {
    scenario: 'throughput',
    goal: 'sessions/s >= 0.9 x the SDK (zero-latency mock, 2 threads)',
    judge: (r) =>
      r.ratio && r.baseline && {
        measured: `${fmt(r.engine.sessionsPerSec.median)} vs ${fmt(r.baseline.sessionsPerSec.median)} sessions/s = ${fmt(r.ratio.sessionsPerSec)}x`,
        met: r.ratio.sessionsPerSec >= 0.9,
      },
  },
];

const signed = (x: number) => `${x >= 0 ? '+' : ''}${fmt(x)}`;

function cpuGoal(r: ScenarioReport, maxMs: number, maxRatio: number): Omit<GoalVerdict, 'scenario' | 'goal'> | undefined {
  if (!r.ratio || !r.baseline) return undefined;
  const e = r.engine.cpuPerSessionMs.median;
  return {
    measured: `${fmt(e)} ms vs SDK ${fmt(r.baseline.cpuPerSessionMs.median)} ms = 1/${fmt(1 / r.ratio.cpuPerSession)} (thread CPU ${fmt(r.engine.threadCpuPerSessionMs.median)} vs ${fmt(r.baseline.threadCpuPerSessionMs.median)} ms)`,
    met: e <= maxMs && r.ratio.cpuPerSession <= maxRatio,
  };
}

export function judgeGoals(reports: readonly ScenarioReport[]): GoalVerdict[] {
  const verdicts: GoalVerdict[] = [];
  for (const { scenario, goal, judge } of GOALS) {
    const report = reports.find((r) => r.scenario === scenario);
    const verdict = report && judge(report);
    if (verdict) verdicts.push({ scenario, goal, ...verdict });
  }
  return verdicts;
}

export function goalLines(verdicts: readonly GoalVerdict[]): string {
  const width = Math.max(0, ...verdicts.map((v) => v.scenario.length));
  return verdicts.map((v) => `${v.met === null ? 'n/a   ' : v.met ? 'met   ' : 'MISSED'}  ${v.scenario.padEnd(width)}  ${v.goal}: ${v.measured}`).join('\n');
}
