// runLoad(): a load test on the engine. One supervisor for the whole run; per level a recorder,
// a driver (closed or open loop) and the host's cost (main-thread CPU, event-loop utilisation).
// A stop (the signal: Ctrl-C in the CLI) ends the issuing at once, aborts what is in flight and
// still returns every level measured so far, the current one marked interrupted.
import { setMaxListeners } from 'node:events';
import { createSupervisor, type ChatRequest, type RetryEvent, type Supervisor } from '../../api/public.ts';
import { LoopMeter } from '../report/loop-meter.ts';
import { systemInfo, type SystemInfo } from '../report/system.ts';
import { closedLoop, durationBudget, openLoop, requestBudget, type Budget } from './drivers.ts';
import { LevelRecorder, type LevelCurves, type LevelReport } from './level.ts';
import { measureRequest, type Sample } from './measure.ts';
import { levelLabel, resolveLoadPlan, type LoadOptions, type LoadPlan, type Prompt } from './plan.ts';
import { Timeline, type TimelineBucket } from './timeline.ts';

export interface LoadHooks {
  /** Stops the run: nothing more is issued, requests in flight are aborted (and counted as cancelled). */
  signal?: AbortSignal;
  /** The supervisor, once created (e.g. to start a live view on it). */
  onSupervisor?(supervisor: Supervisor): void | Promise<void>;
  onLevelStart?(recorder: LevelRecorder): void;
  onSample?(recorder: LevelRecorder, sample: Sample): void;
  onLevelEnd?(report: LevelReport): void;
}

export interface LoadResult {
  plan: LoadPlan;
  levels: LevelReport[];
  curves: LevelCurves[];
  /** Requests ended per second of the run. */
  timeline: TimelineBucket[];
  /** When each level started, ms after the run's first level started. */
  levelStartsMs: number[];
  interrupted: boolean;
  system: SystemInfo;
  startedAt: string;
}

export async function runLoad(options: LoadOptions, hooks: LoadHooks = {}): Promise<LoadResult> {
  const plan = resolveLoadPlan(options);
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const onStop = () => stop.abort();
  if (hooks.signal?.aborted) stop.abort();
  hooks.signal?.addEventListener('abort', onStop, { once: true });
  const supervisor = createSupervisor(supervisorOptions(plan));
  try {
    await hooks.onSupervisor?.(supervisor);
    await supervisor.ready();
    return await new Run(plan, supervisor, stop.signal, hooks).all();
  } finally {
    hooks.signal?.removeEventListener('abort', onStop);
    await supervisor.close({ timeoutMs: 5000 });
  }
}

function supervisorOptions(plan: LoadPlan) {
  const peak = plan.mode === 'closed' ? Math.max(...plan.levels) : plan.maxInFlight;
  return {
    ...(plan.threads !== undefined ? { threads: plan.threads } : {}),
    maxConcurrent: Math.max(1, Math.ceil(peak)),
    // Closed loops never exceed their slots, except right after a timeout: the caller is told at once,
    // the slot is freed when the worker confirms, so the next request may wait for it.
    maxQueue: 1_000_000,
    timeoutMs: plan.timeoutMs,
    retry: { maxRetries: plan.retries },
    // A load test measures the provider: the pool's own back-off and breaker (on by default) would
    // hold requests off their schedule and retry what the provider refused, so they are off here.
    routing: false as const,
    logger: false as const,
    providers: { [plan.provider]: plan.providerConfig ?? {} },
  };
}

class Run {
  readonly #plan: LoadPlan;
  readonly #supervisor: Supervisor;
  readonly #stop: AbortSignal;
  readonly #hooks: LoadHooks;
  readonly #levels: LevelRecorder[] = [];
  #timeline: Timeline | undefined;
  #prompt = 0;

  constructor(plan: LoadPlan, supervisor: Supervisor, stop: AbortSignal, hooks: LoadHooks) {
    this.#plan = plan;
    this.#supervisor = supervisor;
    this.#stop = stop;
    this.#hooks = hooks;
  }

  async all(): Promise<LoadResult> {
    const startedAt = new Date().toISOString();
    const onRetry = (event: RetryEvent) => this.#levels[levelOf(event.requestId)]?.retry(event);
    this.#supervisor.on('retry', onRetry);
    try {
      await this.#warmup();
      const reports: LevelReport[] = [];
      for (const [index, level] of this.#plan.levels.entries()) {
        if (this.#stop.aborted) break;
        reports.push(await this.#level(index, level));
      }
      const timeline = this.#timeline;
      return {
        plan: this.#plan,
        levels: reports,
        curves: this.#levels.map((l) => l.curves()),
        timeline: timeline?.buckets() ?? [],
        levelStartsMs: this.#levels.map((l) => timeline?.offset(l.startedAt) ?? 0),
        interrupted: this.#stop.aborted,
        system: systemInfo(this.#supervisor.stats().pool.threads),
        startedAt,
      };
    } finally {
      this.#supervisor.off('retry', onRetry);
    }
  }

  /** Requests before the first level (connections, JIT, the provider's caches), not measured. */
  async #warmup(): Promise<void> {
    const count = this.#plan.warmup;
    if (count === 0) return;
    const concurrency = Math.min(count, this.#plan.mode === 'closed' ? Math.max(...this.#plan.levels) : 8);
    let n = 0;
    await closedLoop(concurrency, requestBudget(count, this.#stop), performance.now(), async () => {
      await measureRequest(this.#supervisor, this.#request(`load-warmup-${n++}`, 'warmup'), this.#plan.stream, 0);
    });
  }

  async #level(index: number, level: number): Promise<LevelReport> {
    const plan = this.#plan;
    const startedAt = performance.now();
    this.#timeline ??= new Timeline(startedAt);
    const recorder = new LevelRecorder(index, level, levelLabel(plan.mode, level), startedAt);
    this.#levels.push(recorder);
    this.#hooks.onLevelStart?.(recorder);
    const meter = new LoopMeter();
    meter.start();
    const issue = () => this.#issue(recorder);
    const budget: Budget =
      'requests' in plan.budget ? requestBudget(plan.budget.requests, this.#stop) : durationBudget(plan.budget.durationMs, this.#stop, startedAt);
    if (plan.mode === 'closed') await closedLoop(level, budget, startedAt, issue);
    else await openLoop({ ratePerSec: level, seed: plan.seed + index, startedAt, stop: this.#stop }, budget, issue);
    const wallMs = performance.now() - startedAt;
    const ended = Math.max(1, recorder.ended);
    const host = { cpuMsPerRequest: meter.cpuMs() / ended, eventLoopUtilization: wallMs > 0 ? Math.min(1, meter.activeMs() / wallMs) : 0 };
    const report = recorder.finish(plan.mode, wallMs, host, this.#stop.aborted);
    this.#hooks.onLevelEnd?.(report);
    return report;
  }

  async #issue(recorder: LevelRecorder): Promise<void> {
    const n = recorder.issued++;
    const request = this.#request(`load-${recorder.index}-${n}`, `level-${recorder.index}`);
    const sample = await measureRequest(this.#supervisor, request, this.#plan.stream, recorder.startedAt);
    // Whatever fails once the run was told to stop (aborts, a mock killed by the same Ctrl-C) is not the provider's doing.
    if (!sample.ok && this.#stop.aborted) sample.cancelled = true;
    recorder.add(sample);
    if (!sample.cancelled) this.#timeline?.add(recorder.startedAt + sample.startMs + sample.e2eMs, sample.ok);
    this.#hooks.onSample?.(recorder, sample);
  }

  #request(requestId: string, mockKey: string): ChatRequest {
    const plan = this.#plan;
    const prompt: Prompt = plan.prompts[this.#prompt++ % plan.prompts.length]!;
    const request: ChatRequest = {
      provider: plan.provider,
      messages: prompt.messages,
      requestId,
      timeoutMs: plan.timeoutMs,
      continuation: plan.maxRounds > 1 ? { maxAttempts: plan.maxRounds } : false,
      signal: this.#stop,
    };
    if (plan.model !== undefined) request.model = plan.model;
    if (prompt.maxOutputTokens !== undefined) request.maxOutputTokens = prompt.maxOutputTokens;
    if (plan.mock !== undefined) {
      // The embedded mock answers with as many words as asked; each level counts its own error pattern.
      const length = prompt.maxOutputTokens !== undefined ? { completionTokens: prompt.maxOutputTokens } : {};
      request.extra = { mock: { ...length, ...plan.mock, key: plan.mock.key ?? mockKey } };
    }
    return request;
  }
}

/** `load-3-17` → 3; warm-up and foreign ids → -1. */
function levelOf(requestId: string): number {
  const match = /^load-(\d+)-\d+$/.exec(requestId);
  return match ? Number(match[1]) : -1;
}
