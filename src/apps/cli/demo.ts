/**
 * `sessionpool demo` (`npm start`): 12 sessions at once against the embedded mock provider — 6 Kimi,
 * 6 GLM, varied latencies, continued answers, two streamed ones, a web search, a context cache, and
 * one that times out on purpose — with live progress and a summary table. No key, no network.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startMockProvider } from '../mock/server.ts';
import { createSupervisor, type ChatRequest, type ChatResult, type Supervisor, type TransitionEvent } from '../../api/internal.ts';
import { runInspectDemo } from '../observe/inspect-demo.ts';
import { formatTable } from './table.ts';

const USAGE = `usage: sessionpool demo [--verbose] [--inspect]

Runs 12 sessions (6 Kimi, 6 GLM) at once on 2 worker threads against the embedded mock provider,
one of them timing out on purpose, then prints a summary. Exits 0 when everything went as planned.
  --verbose  the supervisor's pino logs (debug) on stderr
  --inspect  the same sessions in waves until Ctrl-C, shown live: the offline live view, the Stately
             inspector (needs internet in its browser) and Prometheus /metrics; prints their URLs`;

interface Plan {
  label: string;
  note: string;
  request: ChatRequest;
  /** The one session planned to time out. */
  timesOut?: boolean;
}

const ask = (text: string) => [{ role: 'user' as const, content: text }];

/** Latencies, truncation and the hang are chosen by the `[[mock ...]]` directive in the prompt. */
export const DEMO_PLAN: readonly Plan[] = [
  { label: 's01', note: '', request: { provider: 'kimi', messages: ask('What is a worker thread? [[mock latencyMs=300]]') } },
  { label: 's02', note: 'system prompt', request: { provider: 'glm', prompt: 'Say hi in Portuguese [[mock latencyMs=450]]', systemPrompt: 'Be brief.' } },
  {
    label: 's03',
    note: 'continued',
    request: { provider: 'kimi', messages: ask('Tell a long story [[mock latencyMs=200 lengthRounds=2 completionTokens=12]]') },
  },
  { label: 's04', note: 'streamed', request: { provider: 'glm', prompt: 'Stream a poem [[mock latencyMs=150 chunks=40 chunkDelayMs=10]]' } },
  { label: 's05', note: '', request: { provider: 'kimi', model: 'kimi-k2-turbo-preview', messages: ask('Explain backpressure [[mock latencyMs=900]]') } },
  { label: 's06', note: '', request: { provider: 'glm', model: 'glm-4.6', prompt: 'Define a deadline [[mock latencyMs=150]]' } },
  { label: 's07', note: 'streamed', request: { provider: 'kimi', messages: ask('Stream a list [[mock latencyMs=250 chunks=30 chunkDelayMs=15]]') } },
  { label: 's08', note: 'web search', request: { provider: 'glm', prompt: 'What is new in Node 24? [[mock latencyMs=600]]', webSearch: true } },
  {
    label: 's09',
    note: 'context cache',
    request: { provider: 'kimi', messages: ask('Summarise the cached doc [[mock latencyMs=350]]'), cache: { id: 'cache-demo', resetTtlSeconds: 3600 } },
  },
  { label: 's10', note: 'continued', request: { provider: 'glm', prompt: 'Write an essay [[mock latencyMs=300 lengthRounds=1 completionTokens=10]]' } },
  { label: 's11', note: '', request: { provider: 'kimi', messages: ask('Why supervise sessions? [[mock latencyMs=700]]') } },
  { label: 's12', note: 'times out on purpose', timesOut: true, request: { provider: 'glm', prompt: 'Never answered [[mock hang]]', timeoutMs: 1500 } },
];

/** How long the demo waits, after every call settled, for the last session to be released. */
const RELEASE_WAIT_MS = 10_000;

interface Row {
  plan: Plan;
  requestId: string;
  sessionId?: string;
  model?: string;
  /** The latest state seen in `transition` events. */
  state?: TransitionEvent['to'];
  /** `completed` or `failed`, once the session got there. */
  ended?: 'completed' | 'failed';
  createdAt?: number;
  durationMs?: number;
  attempts?: number;
  result?: ChatResult;
  error?: { code: string; message?: string };
  deltas: number;
}

export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      inspect: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.inspect) return runInspectDemo({ plan: DEMO_PLAN, verbose: values.verbose });
  const started = performance.now();
  const mock = await startMockProvider();
  const supervisor = createSupervisor({
    threads: 2,
    // A default deadline for every session: nothing in the demo may run longer than this.
    timeoutMs: 10_000,
    logger: values.verbose ? pino({ level: 'debug' }, pino.destination(2)) : false,
    providers: {
      kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'demo-key' },
      glm: { baseURL: mock.baseURL('glm'), apiKey: 'demo-key' },
    },
  });
  console.log(`sessionpool demo: ${DEMO_PLAN.length} sessions on ${supervisor.stats().pool.threads} worker threads, mock provider at ${mock.url}\n`);
  const rows = DEMO_PLAN.map((plan): Row => ({ plan, requestId: `demo-${plan.label}`, deltas: 0 }));
  const allReleased = follow(supervisor, rows);
  const progress = showProgress(rows);
  await Promise.all(rows.map((row) => run(supervisor, row)));
  const released = await withinMs(allReleased, RELEASE_WAIT_MS);
  progress.stop();
  printSummary(rows, supervisor, performance.now() - started);
  await supervisor.close();
  await mock.close();
  return verdict(rows, released);
}

async function run(supervisor: Supervisor, row: Row): Promise<void> {
  const streamed = row.plan.note === 'streamed';
  const request: ChatRequest = { ...row.plan.request, requestId: row.requestId, ...(streamed ? { onDelta: () => void row.deltas++ } : {}) };
  try {
    row.result = await supervisor.chat(request);
  } catch (error) {
    row.error = error as Row['error'];
  }
}

/** Follows every session to `released` (the timed-out one too, once its worker confirmed the abort). */
function follow(supervisor: Supervisor, rows: Row[]): Promise<void> {
  const byRequestId = new Map(rows.map((row) => [row.requestId, row]));
  return new Promise((resolve) => {
    supervisor.on('transition', (e: TransitionEvent) => {
      const row = byRequestId.get(e.requestId);
      if (row === undefined) return;
      row.sessionId = e.sessionId;
      row.model ??= e.model;
      row.state = e.to;
      row.attempts = e.attempt;
      if (e.to === 'created') row.createdAt = e.at;
      if (e.to === 'completed' || e.to === 'failed') row.ended = e.to;
      if (e.to !== 'released') return;
      row.durationMs = e.at - (row.createdAt ?? e.at);
      if (!process.stdout.isTTY)
        console.log(`released  ${row.plan.label}  ${(e.provider ?? '').padEnd(4)}  ${(e.outcome ?? '').padEnd(9)}  ${Math.round(row.durationMs)} ms`);
      if (rows.every((r) => r.state === 'released')) resolve();
    });
  });
}

/** Resolves true when `promise` settles within `ms`, false otherwise (and leaves no timer behind). */
async function withinMs(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([promise.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** On a terminal, one line redrawn in place about every 100 ms; elsewhere nothing (`follow` prints a line per release). */
function showProgress(rows: Row[]): { stop(): void } {
  if (!process.stdout.isTTY) return { stop() {} };
  const count = (test: (row: Row) => boolean) => rows.filter(test).length;
  const draw = () => {
    const deltas = rows.reduce((n, r) => n + r.deltas, 0);
    process.stdout.write(
      `\r\x1b[2Kcreated ${count((r) => r.state === 'created')}  processing ${count((r) => r.state === 'processing')}  ` +
        `completed ${count((r) => r.ended === 'completed')}  failed ${count((r) => r.ended === 'failed')}  ` +
        `released ${count((r) => r.state === 'released')}/${rows.length}  deltas ${deltas}`,
    );
  };
  const timer = setInterval(draw, 100);
  draw();
  return {
    stop() {
      clearInterval(timer);
      draw();
      process.stdout.write('\n');
    },
  };
}

function describeRow(row: Row): string {
  const r = row.result;
  if (r === undefined) return row.plan.note;
  if (r.metadata.continuation) return `continued: ${r.metadata.continuation.attempts} rounds, ${r.metadata.continuation.totalTokens} tokens`;
  if (row.deltas > 0) return `streamed: ${row.deltas} deltas`;
  if (r.webSearch) return `web search: ${r.webSearch.length} source(s)`;
  if (r.metadata.cache) return `cache ${r.metadata.cache.id}: ${r.usage.cachedTokens ?? 0} cached tokens`;
  return row.plan.note;
}

function printSummary(rows: Row[], supervisor: Supervisor, wallMs: number): void {
  const table = rows.map((row) => [
    `${row.plan.label} ${row.sessionId?.slice(0, 8) ?? '?'}`,
    row.plan.request.provider,
    row.result?.model ?? row.model ?? '?',
    row.ended ?? row.state ?? '?',
    row.error?.code ?? row.result?.finishReason ?? '',
    row.attempts ?? 0,
    Math.round(row.durationMs ?? 0),
    describeRow(row),
  ]);
  console.log(`\n${formatTable(['session', 'provider', 'model', 'state', 'outcome', 'attempts', 'ms', 'notes'], table)}\n`);
  const stats = supervisor.stats();
  const latency = Object.entries(stats.latencyMs.byProvider)
    .map(([name, l]) => `${name} p50 ${Math.round(l.p50)} ms, p95 ${Math.round(l.p95)} ms`)
    .join('; ');
  console.log(
    `${rows.length} sessions: ${stats.completed} completed, ${stats.timedOut} timed out, ${stats.failed} failed, ${stats.states.released} released, wall ${Math.round(wallMs)} ms`,
  );
  console.log(`latency ${latency}`);
}

/** 0 when everything went as planned: all completed but the one planned timeout, and all released. */
function verdict(rows: Row[], released: boolean): number {
  const problems = rows.flatMap((row) => {
    const expected = row.plan.timesOut ? 'ERR_SESSION_TIMEOUT' : 'a result';
    const got = row.error ? `${row.error.code}${row.error.message ? ` (${row.error.message})` : ''}` : row.result ? 'a result' : 'nothing';
    const wrong = row.plan.timesOut ? row.error?.code !== 'ERR_SESSION_TIMEOUT' : row.result === undefined;
    return wrong ? [`${row.plan.label} expected ${expected}, got ${got}`] : [];
  });
  if (!released) {
    const stuck = rows.filter((row) => row.state !== 'released').map((row) => `${row.plan.label} (${row.state ?? 'never created'})`);
    problems.push(`not released ${RELEASE_WAIT_MS} ms after every call settled: ${stuck.join(', ')}`);
  }
  for (const problem of problems) console.error(`sessionpool demo: unexpected: ${problem}`);
  return problems.length === 0 ? 0 : 1;
}
