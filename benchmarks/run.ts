// `sessionpool bench` / `node benchmarks/run.ts [scenario...] [--quick] [--json] [--html FILE] [--rounds N]`
//
// Side by side, in one process and one command: the engine (sessions on 2 worker threads) and the
// plain `openai` SDK on the main thread, against the same mock provider running in a child process,
// at the same concurrency, in interleaved rounds (engine, SDK, engine, SDK...) after warm-up rounds.
// Every answer is checked; a wrong one fails the run (exit 1). Figures are medians over the rounds.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { BenchTracing } from './tracing.ts';
import { parseArgs, promisify } from 'node:util';
import { createSupervisor, type Supervisor } from '../src/index.ts';
import type { Baseline } from './baseline.ts';
import type { FirstSessionFigures } from './first-session.ts';
import { MB } from './measure.ts';
import { goalLines, judgeGoals } from './goals.ts';
import { htmlReport, type ScenarioCharts } from './html.ts';
import { startMockProcess } from '../src/apps/mock/process.ts';
import { Progress } from './progress.ts';
import { jsonLine, scenarioReport, systemInfo, systemLine, table, type ScenarioReport } from './report.ts';
import { baselineCall, engineCall, runRound, traced, type RoundResult } from './round.ts';
import { findScenarios, SCENARIOS, type Scenario } from './scenarios.ts';

const THREADS = 2;
const API_KEY = 'sk-bench-0000';

const USAGE = `usage: sessionpool bench [scenario...] [--quick] [--json] [--html FILE] [--rounds N] [--trace]
  scenarios (default: all): ${SCENARIOS.map((s) => s.name).join(', ')}
  --quick      CI-sized run: fewer rounds and sessions (inflight 1000, not 10,000)
  --json       JSON lines only (one per scenario, then goals and system)
  --html FILE  also write a self-contained report with charts
  --rounds N   measured rounds per side (default 5; quick 2; inflight-10k 3, quick 1)
  --side S     run one side only, engine or baseline (for profiling: node --cpu-prof ...); no ratios
  --trace      register an OpenTelemetry tracer provider first (spans batched, then dropped): what tracing costs`;

interface Options {
  scenarios: Scenario[];
  quick: boolean;
  json: boolean;
  html: string | undefined;
  rounds: number | undefined;
  side: 'engine' | 'baseline' | undefined;
  /** A tracer provider is registered before the scenarios run (benchmarks/tracing.ts). */
  trace: boolean;
  /** This process runs one `ownProcess` scenario for its parent and prints its run as one JSON line. */
  child: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      html: { type: 'string' },
      rounds: { type: 'string' },
      side: { type: 'string' },
      child: { type: 'boolean', default: false },
      trace: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) throw new UsageError('');
  const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
  if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1)) {
    throw new UsageError(`--rounds: expected an integer from 1 and up, got ${JSON.stringify(values.rounds)}`);
  }
  const side = values.side;
  if (side !== undefined && side !== 'engine' && side !== 'baseline') throw new UsageError(`--side: expected engine or baseline, got ${JSON.stringify(side)}`);
  return {
    scenarios: findScenarios(positionals),
    quick: values.quick,
    json: values.json,
    html: values.html,
    rounds,
    side,
    child: values.child,
    trace: values.trace,
  };
}

class UsageError extends Error {}

interface ScenarioRun {
  report: ScenarioReport;
  charts: ScenarioCharts;
  wrong: string[];
}

interface Context {
  options: Options;
  /** Absent in a child process: its scenario is the engine's alone, and the SDK's modules must not weigh on its heap. */
  baseline: Baseline | undefined;
  baseURL: string;
  progress: Progress;
  /**
   * One supervisor for every scenario run in this process, as the SDK baseline is one client: both
   * sides keep what they compiled and the connections they opened from one scenario to the next (a
   * supervisor per scenario measured its worker threads' JIT warm-up against an SDK warm for good).
   */
  supervisor?: Supervisor;
}

const roundsOf = (s: Scenario, o: Options) => o.rounds ?? s.rounds(o.quick);
const sidesOf = (s: Scenario, o: Options) => (o.side !== undefined ? 1 : s.engineOnly ? 1 : 2);
const stepsOf = (s: Scenario, o: Options) => sidesOf(s, o) * (roundsOf(s, o) + 1) + (o.html ? 1 : 0) + (s.probeLiveHeap ? 1 : 0);

/** Admits the largest concurrency of `scenarios` at once: each round bounds its own sessions in flight. */
function supervisorFor(scenarios: readonly Scenario[], options: Options, baseURL: string): Supervisor {
  const concurrency = Math.max(...scenarios.map((s) => s.size(options.quick).concurrency));
  return createSupervisor({
    threads: THREADS,
    maxConcurrent: concurrency,
    maxQueue: Math.max(1024, concurrency),
    logger: false,
    // The SDK baseline does not retry either (maxRetries: 0): the same work on both sides.
    retry: { maxRetries: 0 },
    providers: { openai: { baseURL, apiKey: API_KEY } },
  });
}

/** Sessions lost by the engine: every one must be released once its caller has its answer. */
function lostSessions(supervisor: Supervisor, scenario: Scenario, tag: string): string[] {
  const { states } = supervisor.stats();
  const left = states.created + states.processing + states.completed + states.failed;
  return left === 0 ? [] : [`${scenario.name} engine ${tag}: ${left} sessions not released after every caller had its answer (${JSON.stringify(states)})`];
}

async function runScenario(scenario: Scenario, ctx: Context): Promise<ScenarioRun> {
  const { options, progress } = ctx;
  const size = scenario.size(options.quick);
  const supervisor = ctx.supervisor ?? supervisorFor([scenario], options, ctx.baseURL);
  const sides = {
    engine: options.side === 'baseline' ? undefined : engineCall(supervisor, scenario.kind),
    baseline: scenario.engineOnly || options.side === 'engine' ? undefined : baselineCall(required(ctx.baseline), scenario.kind),
  };
  const measured: Record<'engine' | 'baseline', RoundResult[]> = { engine: [], baseline: [] };
  const wrong: string[] = [];
  const round = async (side: 'engine' | 'baseline', tag: string, sessions: number, probeLiveHeapAtMs?: number): Promise<RoundResult | undefined> => {
    const call = sides[side];
    if (call === undefined) return undefined;
    progress.show(`${scenario.name} ${side} ${tag}`);
    const result = await runRound({
      scenario,
      side,
      call,
      concurrency: size.concurrency,
      sessions,
      tag,
      ...(probeLiveHeapAtMs !== undefined ? { probeLiveHeapAtMs } : {}),
    });
    wrong.push(...result.wrong, ...(side === 'engine' ? lostSessions(supervisor, scenario, tag) : []));
    progress.tick();
    return result;
  };
  let trace: Awaited<ReturnType<typeof traced>> | undefined;
  let liveHeap: number | undefined;
  let workerHeaps: number[] | undefined;
  try {
    // Warm-up: workers started, code compiled, connections open, on both sides; not measured.
    await round('engine', 'ew', size.warmup);
    await round('baseline', 'bw', size.warmup);
    for (let r = 1; r <= roundsOf(scenario, options); r++) {
      const e = await round('engine', `e${r}`, size.sessions);
      const b = await round('baseline', `b${r}`, size.sessions);
      if (e) measured.engine.push(e);
      if (b) measured.baseline.push(b);
    }
    // Everything is submitted at once and the provider takes 1 s: at 500 ms every session is in flight.
    if (scenario.probeLiveHeap) {
      const heaps = delay(500).then(() => supervisor.workerHeaps());
      liveHeap = (await round('engine', 'p', size.sessions, 500))?.liveHeap;
      workerHeaps = (await heaps).map((h) => h.heapUsed / MB);
    }
    // The timeline comes from one extra engine round with event listeners on (they cost the host).
    if (options.html !== undefined) trace = await traced(supervisor, () => round('engine', 't', size.sessions));
  } finally {
    if (supervisor !== ctx.supervisor) await supervisor.close({ timeoutMs: 5000 });
  }
  const report = scenarioReport(scenario, size.concurrency, size.sessions, measured.engine, measured.baseline);
  if (liveHeap !== undefined) report.engine.liveHeapMB = liveHeap / MB;
  if (workerHeaps !== undefined) report.engine.workerHeapMB = workerHeaps;
  const pool = (rounds: RoundResult[]) => rounds.flatMap((r) => Array.from(r.latencies));
  const charts: ScenarioCharts = { report, latencies: { engine: pool(measured.engine), baseline: pool(measured.baseline) }, ...(trace ? { trace } : {}) };
  return { report, charts, wrong };
}

function required(baseline: Baseline | undefined): Baseline {
  if (baseline === undefined) throw new Error('a scenario with a baseline side cannot run in a process of its own');
  return baseline;
}

/**
 * An `ownProcess` scenario runs in a child process (this module again, with --child): the peak
 * heap it reports is then the engine's and the harness's, not the plain SDK's modules nor what the
 * scenarios before it left behind.
 */
async function runInOwnProcess(scenario: Scenario, ctx: Context): Promise<ScenarioRun> {
  const { options, progress } = ctx;
  progress.show(`${scenario.name} (in a process of its own)`);
  const args = [
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    scenario.name,
    '--child',
    ...(options.quick ? ['--quick'] : []),
    ...(options.trace ? ['--trace'] : []),
    ...(options.rounds !== undefined ? ['--rounds', String(options.rounds)] : []),
    ...(options.html !== undefined ? ['--html', options.html] : []),
  ];
  const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 512 * MB });
  for (let i = 0; i < stepsOf(scenario, options); i++) progress.tick();
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ScenarioRun;
}

async function runChild(options: Options): Promise<number> {
  const [scenario, ...others] = options.scenarios;
  if (scenario === undefined || others.length > 0) throw new UsageError('--child: exactly one scenario');
  const mock = await startMockProcess();
  try {
    const ctx: Context = { options, baseline: undefined, baseURL: `${mock.url}/v1`, progress: new Progress(0, { isTTY: false } as NodeJS.WriteStream) };
    console.log(JSON.stringify(await runScenario(scenario, ctx)));
  } finally {
    await mock.close();
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (message === '') console.log(USAGE);
    else console.error(`${message}\n${USAGE}`);
    return error instanceof UsageError && message === '' ? 0 : 2;
  }
  let tracing: BenchTracing | undefined;
  try {
    tracing = options.trace ? await (await import('./tracing.ts')).startTracing() : undefined;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  try {
    return await (options.child ? runChild(options) : runAll(options));
  } finally {
    if (tracing !== undefined) {
      await tracing.close();
      if (!options.child && !options.json) console.log(`tracing: a tracer provider was registered; ${tracing.exported()} spans exported (and dropped)`);
    }
  }
}

async function runAll(options: Options): Promise<number> {
  const started = Date.now();
  const progress = new Progress(options.scenarios.reduce((n, s) => n + stepsOf(s, options), 0));
  const mock = await startMockProcess();
  const runs: ScenarioRun[] = [];
  let first: FirstSessionFigures[] = [];
  // Loaded here, not imported at the top: a child process never loads the SDK.
  const { Baseline } = await import('./baseline.ts');
  const { firstSessions, firstSessionLine } = await import('./first-session.ts');
  try {
    const baseURL = `${mock.url}/v1`;
    if (options.side === undefined) {
      progress.show('first session (fresh processes)');
      first = await firstSessions(baseURL, API_KEY, THREADS, options.quick ? 3 : 5);
    }
    const inProcess = options.scenarios.filter((s) => !s.ownProcess);
    const ctx: Context = { options, baseline: new Baseline(baseURL, API_KEY), baseURL, progress };
    if (inProcess.length > 0) ctx.supervisor = supervisorFor(inProcess, options, baseURL);
    try {
      for (const scenario of options.scenarios) runs.push(await (scenario.ownProcess ? runInOwnProcess(scenario, ctx) : runScenario(scenario, ctx)));
    } finally {
      await ctx.supervisor?.close({ timeoutMs: 5000 });
    }
  } finally {
    progress.end();
    await mock.close();
  }
  const reports = runs.map((r) => r.report);
  const goals = options.side === undefined ? judgeGoals(reports, first) : [];
  const system = systemInfo(THREADS);
  const wrong = runs.flatMap((r) => r.wrong);
  const wallSeconds = (Date.now() - started) / 1000;
  if (options.json) {
    for (const r of reports) console.log(jsonLine(r));
    console.log(JSON.stringify({ goals }));
    if (first.length > 0) console.log(JSON.stringify({ firstSession: first }));
    console.log(JSON.stringify({ system, quick: options.quick, wallSeconds, wrongAnswers: wrong.length }));
  } else {
    console.log(
      `sessionpool bench${options.quick ? ' --quick' : ''}: ${reports.length} scenarios, engine (${THREADS} worker threads) vs plain openai SDK on the main thread\n`,
    );
    console.log(table(reports));
    console.log(`\ngoals (DESIGN.md):\n${goalLines(goals)}\n`);
    if (first.length > 0) console.log(`${first.map(firstSessionLine).join('\n')}\n`);
    for (const r of reports) console.log(jsonLine(r));
    console.log(`${systemLine(system)}; wall time ${wallSeconds.toFixed(1)} s`);
  }
  if (options.html !== undefined) {
    await writeFile(options.html, htmlReport({ scenarios: runs.map((r) => r.charts), goals, system, quick: options.quick, wrong: wrong.length }));
    if (!options.json) console.log(`report written to ${options.html}`);
  }
  if (wrong.length > 0) {
    console.error(`\nFAILED: ${wrong.length} wrong answers (figures from this run are not valid):`);
    for (const line of wrong.slice(0, 20)) console.error(`  ${line}`);
    return 1;
  }
  return 0;
}

if (import.meta.main) {
  // Exit explicitly: the SDK's keep-alive sockets must not hold the finished run open.
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
