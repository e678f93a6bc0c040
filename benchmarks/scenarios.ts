// The named scenarios: one definition each. A scenario says what the provider does (a mock
// directive), how each side calls it (chat, stream, continuation), how many sessions at once, and
// what the right answer is. The runner (round.ts) does the rest the same way for every scenario.
// inflight-10k runs last by default, in a process of its own: the RSS it leaves behind (a process
// high-water mark) would otherwise show in every scenario after it, and its peak heap would count
// the plain SDK's modules and what the scenarios before it left.

/** How a session calls the provider; the engine and the baseline each have one way per kind. */
export type SessionKind = 'chat' | 'stream' | 'continue';

export interface ScenarioSize {
  /** Sessions in flight at once (lanes that each run sessions back to back). */
  concurrency: number;
  /** Sessions per measured round. */
  sessions: number;
  /** Sessions of each warm-up round. */
  warmup: number;
}

export interface Scenario {
  name: string;
  title: string;
  kind: SessionKind;
  /** The `[[mock ...]]` directive appended to every prompt. */
  directive: string;
  /** Words of the full answer (all rounds); with `chunks`, one SSE chunk per word. */
  words: number;
  /** Provider calls a session needs (continuation rounds). */
  calls: number;
  /** Streams: content chunks the provider sends. */
  chunks?: number;
  /** No baseline: the figure is the engine's alone. */
  engineOnly?: boolean;
  /** One extra engine round measures the main thread's live heap (after a GC) with everything in flight. */
  probeLiveHeap?: boolean;
  /** Runs in a child process of its own (engine-only scenarios): its heap figures count nothing another scenario loaded or left. */
  ownProcess?: boolean;
  /** The host's main thread is busy in slices of this many ms while the sessions run. */
  hostSliceMs?: number;
  /** Measured rounds when --rounds is not given. */
  rounds(quick: boolean): number;
  size(quick: boolean): ScenarioSize;
}

const rounds = (full: number, quick: number) => (q: boolean) => (q ? quick : full);

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'nonstream-100',
    title: '100 concurrent non-streaming calls, 20 ms provider latency',
    kind: 'chat',
    directive: '[[mock latencyMs=20]]',
    words: 16,
    calls: 1,
    rounds: rounds(5, 2),
    size: (q) => ({ concurrency: 100, sessions: q ? 300 : 1000, warmup: 500 }),
  },
  {
    name: 'stream-500',
    title: '100 concurrent streams of 500 chunks, deltas consumed by the caller',
    kind: 'stream',
    directive: '[[mock chunks=500]]',
    words: 500,
    chunks: 500,
    calls: 1,
    rounds: rounds(5, 2),
    size: (q) => ({ concurrency: 100, sessions: q ? 100 : 300, warmup: q ? 100 : 200 }),
  },
  {
    name: 'latency-1',
    title: 'one call at a time, 20 ms provider latency (added latency = engine - baseline)',
    kind: 'chat',
    directive: '[[mock latencyMs=20]]',
    words: 16,
    calls: 1,
    rounds: rounds(5, 2),
    size: (q) => ({ concurrency: 1, sessions: q ? 40 : 100, warmup: 20 }),
  },
  {
    name: 'latency-10',
    title: '10 concurrent calls, 50 ms provider latency (added latency = engine - baseline)',
    kind: 'chat',
    directive: '[[mock latencyMs=50]]',
    words: 16,
    calls: 1,
    rounds: rounds(5, 2),
    size: (q) => ({ concurrency: 10, sessions: q ? 60 : 200, warmup: q ? 20 : 50 }),
  },
  {
    name: 'blocked-host',
    title: 'host main thread busy in 200 ms slices; 10 sessions of 3 continuation rounds, 20 ms latency',
    kind: 'continue',
    directive: '[[mock latencyMs=20 lengthRounds=2]]',
    words: 48,
    calls: 3,
    hostSliceMs: 200,
    rounds: rounds(5, 2),
    size: () => ({ concurrency: 10, sessions: 10, warmup: 10 }),
  },
  {
    name: 'throughput',
    title: 'zero-latency provider, as many sessions per second as possible (engine: 2 threads)',
    kind: 'chat',
    directive: '[[mock latencyMs=0]]',
    words: 16,
    calls: 1,
    rounds: rounds(5, 2),
    size: (q) => ({ concurrency: 200, sessions: q ? 1000 : 2000, warmup: 1000 }),
  },
  {
    name: 'inflight-10k',
    title: 'sessions all in flight at once against a 1 s provider (engine only)',
    kind: 'chat',
    directive: '[[mock latencyMs=1000]]',
    words: 16,
    calls: 1,
    engineOnly: true,
    probeLiveHeap: true,
    ownProcess: true,
    rounds: rounds(3, 1),
    size: (q) => (q ? { concurrency: 1000, sessions: 1000, warmup: 200 } : { concurrency: 10_000, sessions: 10_000, warmup: 1000 }),
  },
];

export function findScenarios(names: readonly string[]): Scenario[] {
  if (names.length === 0) return [...SCENARIOS];
  return names.map((name) => {
    const scenario = SCENARIOS.find((s) => s.name === name);
    if (scenario === undefined) throw new Error(`unknown scenario "${name}"; expected one of: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    return scenario;
  });
}
