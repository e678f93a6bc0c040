// One measured round: `sessions` sessions through `concurrency` lanes on one side (engine or
// baseline), with the host's main-thread time, latencies and memory recorded around it. Every
// answer is checked after the measurement window (so checking costs neither side), and a round
// with a wrong answer is reported as such: a figure can only come from doing the work.
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { generatedWords } from '../src/apps/mock/answer.ts';
import type { Supervisor } from '../src/index.ts';
import type { Baseline, Outcome } from './baseline.ts';
import { busy, collectGarbage, LoopMeter, MemorySampler } from './measure.ts';
import type { Scenario, SessionKind } from './scenarios.ts';

export type Side = 'engine' | 'baseline';
export type SessionCall = (prompt: string) => Promise<Outcome>;

export interface RoundResult {
  side: Side;
  sessions: number;
  wallMs: number;
  /** Main-thread busy time (ELU active), minus the host's own busy slices. */
  hostMs: number;
  /** Main-thread CPU time (process.threadCpuUsage), minus the host's own busy slices. */
  hostCpuMs: number;
  /**
   * CPU time of the whole process, every thread (process.cpuUsage: the worker threads' HTTP and
   * parsing work too), minus the host's own busy slices. The mock provider is another process.
   */
  processCpuMs: number;
  /** Time the simulated host spent in its own busy slices (blocked-host only). */
  busyMs: number;
  /** Per session, from the call to its result (ms). */
  latencies: Float64Array;
  peakHeap: number;
  peakRss: number;
  /** One line per wrong answer or failed session. */
  wrong: string[];
  /** Main-thread heap used right after a full GC at `probeLiveHeapAtMs` (probe rounds only). */
  liveHeap?: number;
}

const PROVIDER = 'openai';

/** How the engine runs one session of each kind: exactly what a host would write. */
export function engineCall(supervisor: Supervisor, kind: SessionKind): SessionCall {
  const messages = (prompt: string) => [{ role: 'user' as const, content: prompt }];
  if (kind === 'stream') {
    return async (prompt) => {
      let deltas = '';
      let pieces = 0;
      for await (const event of supervisor.stream({ provider: PROVIDER, messages: messages(prompt) })) {
        if (event.type === 'delta') {
          deltas += event.text;
          pieces++;
        } else if (event.type === 'result') {
          return { content: event.result.content, finishReason: event.result.finishReason, deltas, pieces, calls: 1 };
        }
      }
      throw new Error('the stream ended without a result');
    };
  }
  // Continuation is on by default (3 calls at most): the continuing scenario states it anyway.
  const continuation = kind === 'continue' ? { continuation: { maxAttempts: 3 } } : {};
  return async (prompt) => {
    const result = await supervisor.chat({ provider: PROVIDER, messages: messages(prompt), ...continuation });
    return { content: result.content, finishReason: result.finishReason, calls: result.metadata.continuation?.attempts ?? 1 };
  };
}

export function baselineCall(baseline: Baseline, kind: SessionKind): SessionCall {
  if (kind === 'stream') return (prompt) => baseline.stream(prompt);
  if (kind === 'continue') return (prompt) => baseline.continued(prompt, 3);
  return (prompt) => baseline.chat(prompt);
}

/** A unique prompt per session: the mock answers `Answer to "<its first 40 chars>"` and filler. */
export function promptOf(scenario: Scenario, tag: string, index: number): string {
  return `q ${scenario.name} ${tag} #${index} ${scenario.directive}`;
}

export interface RoundSpec {
  scenario: Scenario;
  side: Side;
  call: SessionCall;
  concurrency: number;
  sessions: number;
  /** Makes prompts unique across rounds, e.g. "e3" or "bw" (baseline warm-up). */
  tag: string;
  /** A probe round (never a measured one: the GC pause would count): live heap this long after the start. */
  probeLiveHeapAtMs?: number;
}

export async function runRound(spec: RoundSpec): Promise<RoundResult> {
  const { scenario, sessions } = spec;
  const prompts = Array.from({ length: sessions }, (_, i) => promptOf(scenario, spec.tag, i));
  const outcomes: Array<Outcome | Error | undefined> = new Array(sessions);
  const latencies = new Float64Array(sessions);
  const meter = new LoopMeter();
  const memory = new MemorySampler();
  collectGarbage();
  memory.start();
  meter.start();
  const processCpu = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < sessions) {
      const i = next++;
      const t0 = performance.now();
      try {
        outcomes[i] = await spec.call(prompts[i]!);
      } catch (error) {
        outcomes[i] = error instanceof Error ? error : new Error(String(error));
      }
      latencies[i] = performance.now() - t0;
    }
  };
  const lanes = Promise.all(Array.from({ length: Math.min(spec.concurrency, sessions) }, lane));
  let liveHeap: number | undefined;
  const probe =
    spec.probeLiveHeapAtMs === undefined
      ? undefined
      : setTimeout(() => {
          collectGarbage();
          liveHeap = process.memoryUsage().heapUsed;
        }, spec.probeLiveHeapAtMs);
  const host = scenario.hostSliceMs === undefined ? { wallMs: 0, cpuMs: 0 } : await blockHost(lanes, scenario.hostSliceMs);
  await lanes;
  clearTimeout(probe);
  const wallMs = performance.now() - started;
  const activeMs = meter.activeMs();
  const cpuMs = meter.cpuMs();
  const processUsage = process.cpuUsage(processCpu);
  memory.stop();
  const wrong: string[] = [];
  for (let i = 0; i < sessions; i++) {
    const problem = check(scenario, spec.side, prompts[i]!, outcomes[i]);
    if (problem !== undefined) wrong.push(`${scenario.name} ${spec.side} ${spec.tag} #${i}: ${problem}`);
  }
  return {
    side: spec.side,
    sessions,
    wallMs,
    hostMs: activeMs - host.wallMs,
    hostCpuMs: cpuMs - host.cpuMs,
    processCpuMs: (processUsage.user + processUsage.system) / 1000 - host.cpuMs,
    busyMs: host.wallMs,
    latencies,
    peakHeap: memory.peakHeap,
    peakRss: memory.peakRss,
    wrong,
    ...(liveHeap !== undefined ? { liveHeap } : {}),
  };
}

/** A CPU-heavy host: synchronous slices of work until `until` settles, one event-loop turn between. */
async function blockHost(until: Promise<unknown>, sliceMs: number): Promise<{ wallMs: number; cpuMs: number }> {
  let finished = false;
  void until.then(
    () => (finished = true),
    () => (finished = true),
  );
  const spent = { wallMs: 0, cpuMs: 0 };
  while (!finished) {
    const slice = busy(sliceMs);
    spent.wallMs += slice.wallMs;
    spent.cpuMs += slice.cpuMs;
    await nextTurn();
  }
  return spent;
}

/** What the mock must have answered for this prompt, and what the caller must have seen. */
export function check(scenario: Scenario, side: Side, prompt: string, outcome: Outcome | Error | undefined): string | undefined {
  if (outcome === undefined) return 'no outcome (the session never settled)';
  if (outcome instanceof Error) return `failed: ${(outcome as { code?: string }).code ?? outcome.name}: ${outcome.message}`;
  const expected = generatedWords(prompt, scenario.words).join(' ');
  if (outcome.content !== expected) {
    return `content differs: expected ${scenario.words} words starting ${JSON.stringify(expected.slice(0, 60))}, got ${outcome.content.split(' ').length} words starting ${JSON.stringify(outcome.content.slice(0, 60))}`;
  }
  if (outcome.finishReason !== 'stop') return `finishReason ${JSON.stringify(outcome.finishReason)}, expected "stop"`;
  if (outcome.calls !== scenario.calls) return `${outcome.calls} provider calls, expected ${scenario.calls}`;
  if (scenario.kind === 'stream') {
    if (outcome.deltas !== outcome.content) return 'the concatenated deltas differ from the result content';
    if (!(outcome.pieces !== undefined && outcome.pieces >= 1)) return 'no delta reached the caller';
    // The SDK hands over every chunk; the engine batches them (fewer, larger deltas, same text).
    if (side === 'baseline' && outcome.pieces !== scenario.chunks) return `${outcome.pieces} content chunks, expected ${scenario.chunks}`;
  }
  return undefined;
}

export interface TraceSession {
  sessionId: string;
  createdAt: number;
  processingAt?: number;
  startedAt?: number;
  threadId?: number;
  endedAt?: number;
  outcome?: string;
}

/**
 * Runs `body` with the supervisor's `transition` and `started` events recorded (times relative to
 * the start). Only for the report's timeline: listening costs the main thread, so a traced round is
 * an extra round, never a measured one.
 */
export async function traced(supervisor: Supervisor, body: () => Promise<unknown>): Promise<{ sessions: TraceSession[]; durationMs: number }> {
  const sessions = new Map<string, TraceSession>();
  const origin = performance.now();
  const onTransition = (e: { sessionId: string; to: string; at: number; outcome?: string }) => {
    const at = e.at - origin;
    if (e.to === 'created') sessions.set(e.sessionId, { sessionId: e.sessionId, createdAt: at });
    const s = sessions.get(e.sessionId);
    if (s === undefined) return;
    if (e.to === 'processing') s.processingAt = at;
    if (e.to === 'completed' || e.to === 'failed') {
      s.endedAt = at;
      s.outcome = e.outcome ?? e.to;
    }
  };
  const onStarted = (e: { sessionId: string; threadId: number; at: number }) => {
    const s = sessions.get(e.sessionId);
    if (s === undefined) return;
    s.startedAt = e.at - origin;
    s.threadId = e.threadId;
  };
  supervisor.on('transition', onTransition);
  supervisor.on('started', onStarted);
  try {
    await body();
  } finally {
    supervisor.off('transition', onTransition);
    supervisor.off('started', onStarted);
  }
  return { sessions: [...sessions.values()], durationMs: performance.now() - origin };
}
