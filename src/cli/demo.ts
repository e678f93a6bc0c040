/**
 * `sessionpool demo` (`npm start`): 12 sessions at once against the embedded mock provider — 6 Kimi,
 * 6 GLM, varied latencies, a continued answer, two streamed ones, a web search, a context cache, and
 * one that times out on purpose — with live progress and a summary table. No key, no network.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createSupervisor, startMockProvider, type ChatRequest, type ChatResult, type Supervisor, type TransitionEvent } from '../index.ts';
import { formatTable } from './table.ts';

interface Plan {
  label: string;
  note: string;
  request: ChatRequest;
  /** The one session planned to time out. */
  timesOut?: boolean;
}

const ask = (text: string) => [{ role: 'user' as const, content: text }];

export const DEMO_PLAN: readonly Plan[] = [
  { label: 's01', note: '', request: { provider: 'kimi', messages: ask('What is a worker thread? [[mock latencyMs=300]]') } },
  { label: 's02', note: 'system prompt', request: { provider: 'glm', prompt: 'Say hi in Portuguese [[mock latencyMs=450]]', systemPrompt: 'Be brief.' } },
  { label: 's03', note: 'continued', request: { provider: 'kimi', messages: ask('Tell a long story [[mock latencyMs=200 lengthRounds=2 completionTokens=12]]') } },
  { label: 's04', note: 'streamed', request: { provider: 'glm', prompt: 'Stream a poem [[mock latencyMs=150 chunks=40 chunkDelayMs=10]]' } },
  { label: 's05', note: '', request: { provider: 'kimi', model: 'kimi-k2-turbo-preview', messages: ask('Explain backpressure [[mock latencyMs=900]]') } },
  { label: 's06', note: '', request: { provider: 'glm', model: 'glm-4.6', prompt: 'Define a deadline [[mock latencyMs=150]]' } },
  { label: 's07', note: 'streamed', request: { provider: 'kimi', messages: ask('Stream a list [[mock latencyMs=250 chunks=30 chunkDelayMs=15]]') } },
  { label: 's08', note: 'web search', request: { provider: 'glm', prompt: 'What is new in Node 24? [[mock latencyMs=600]]', webSearch: true } },
  { label: 's09', note: 'context cache', request: { provider: 'kimi', messages: ask('Summarise the cached doc [[mock latencyMs=350]]'), cache: { id: 'cache-demo', resetTtlSeconds: 3600 } } },
  { label: 's10', note: 'continued', request: { provider: 'glm', prompt: 'Write an essay [[mock latencyMs=300 lengthRounds=1 completionTokens=10]]' } },
  { label: 's11', note: '', request: { provider: 'kimi', messages: ask('Why supervise sessions? [[mock latencyMs=700]]') } },
  { label: 's12', note: 'times out on purpose', timesOut: true, request: { provider: 'glm', prompt: 'Never answered [[mock hang]]', timeoutMs: 1500 } },
];

interface Row {
  plan: Plan;
  sessionId?: string;
  result?: ChatResult;
  error?: { code: string };
  deltas: number;
  state?: string;
  durationMs?: number;
}

export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { verbose: { type: 'boolean', default: false } } });
  const started = performance.now();
  const mock = await startMockProvider();
  const supervisor = createSupervisor({
    threads: 2,
    logger: values.verbose ? pino({ level: 'debug' }, pino.destination(2)) : false,
    providers: {
      kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'demo-key' },
      glm: { baseURL: mock.baseURL('glm'), apiKey: 'demo-key' },
    },
  });
  console.log(`sessionpool demo: ${DEMO_PLAN.length} sessions on ${supervisor.stats().pool.threads} worker threads, mock provider at ${mock.url}\n`);
  const rows = DEMO_PLAN.map((plan): Row => ({ plan, deltas: 0 }));
  const allReleased = watch(supervisor, rows);
  const progress = showProgress(supervisor, rows);
  await Promise.all(rows.map((row) => run(supervisor, row)));
  await allReleased;
  progress.stop();
  printSummary(rows, supervisor, performance.now() - started);
  await supervisor.close();
  await mock.close();
  return verdict(rows);
}

async function run(supervisor: Supervisor, row: Row): Promise<void> {
  const streamed = row.plan.note === 'streamed';
  const request = streamed ? { ...row.plan.request, onDelta: () => void row.deltas++ } : row.plan.request;
  try {
    row.result = await supervisor.chat(request);
  } catch (error) {
    row.error = error as { code: string };
  }
}

/** Follows every session to `released` (the timed-out one too, once its worker confirmed the abort). */
function watch(supervisor: Supervisor, rows: Row[]): Promise<void> {
  let next = 0;
  const byId = new Map<string, Row>();
  return new Promise((resolve) => {
    supervisor.on('transition', (e: TransitionEvent) => {
      // Sessions are admitted in plan order, so the n-th `created` is the n-th row.
      if (e.to === 'created') byId.set(e.sessionId, rows[next++]!);
      const row = byId.get(e.sessionId);
      if (row === undefined) return;
      if (e.to === 'completed' || e.to === 'failed') row.state = e.to;
      if (e.to !== 'released') return;
      row.sessionId = e.sessionId;
      row.durationMs = e.at - (row.durationMs ?? 0);
      if (!process.stdout.isTTY) console.log(`released  ${row.plan.label}  ${e.provider?.padEnd(4)}  ${(e.outcome ?? '').padEnd(9)}  ${Math.round(row.durationMs)} ms`);
      if (rows.every((r) => r.sessionId !== undefined)) resolve();
    });
    supervisor.on('transition', (e) => {
      if (e.to === 'created') byId.get(e.sessionId)!.durationMs = e.at;
    });
  });
}

/** On a terminal, one line redrawn in place with the state counts; elsewhere nothing (lines come from watch). */
function showProgress(supervisor: Supervisor, rows: Row[]): { stop(): void } {
  if (!process.stdout.isTTY) return { stop() {} };
  const draw = () => {
    const s = supervisor.stats().states;
    const deltas = rows.reduce((n, r) => n + r.deltas, 0);
    process.stdout.write(`\r\x1b[2Kcreated ${s.created}  processing ${s.processing}  completed ${s.completed}  failed ${s.failed}  released ${s.released}/${rows.length}  deltas ${deltas}`);
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
  const bits = [row.plan.note];
  if (r.metadata.continuation) bits[0] = `continued: ${r.metadata.continuation.attempts} rounds, ${r.metadata.continuation.totalTokens} tokens`;
  if (row.deltas > 0) bits[0] = `streamed: ${row.deltas} deltas`;
  if (r.webSearch) bits[0] = `web search: ${r.webSearch.length} source(s)`;
  if (r.metadata.cache) bits[0] = `cache ${r.metadata.cache.id}: ${r.usage.cachedTokens ?? 0} cached tokens`;
  return bits.join('');
}

function printSummary(rows: Row[], supervisor: Supervisor, wallMs: number): void {
  const table = rows.map((row) => [
    `${row.plan.label} ${row.sessionId?.slice(0, 8) ?? ''}`,
    row.plan.request.provider,
    row.result?.model ?? row.plan.request.model ?? (row.plan.request.provider === 'kimi' ? 'moonshot-v1-8k' : 'glm-4.5-flash'),
    row.state ?? '?',
    row.error?.code ?? row.result?.finishReason ?? '',
    row.result?.metadata.session.attempts ?? (row.error ? 1 : 0),
    Math.round(row.durationMs ?? 0),
    describeRow(row),
  ]);
  console.log(`\n${formatTable(['session', 'provider', 'model', 'state', 'outcome', 'attempts', 'ms', 'notes'], table)}\n`);
  const stats = supervisor.stats();
  const latency = Object.entries(stats.latencyMs.byProvider)
    .map(([name, l]) => `${name} p50 ${Math.round(l.p50)} ms, p95 ${Math.round(l.p95)} ms`)
    .join('; ');
  console.log(`${rows.length} sessions: ${stats.completed} completed, ${stats.timedOut} timed out, ${stats.failed} failed, ${stats.states.released} released, wall ${Math.round(wallMs)} ms`);
  console.log(`latency ${latency}`);
}

/** 0 when everything went as planned: all completed but the one planned timeout. */
function verdict(rows: Row[]): number {
  const wrong = rows.filter((row) => (row.plan.timesOut ? row.error?.code !== 'ERR_SESSION_TIMEOUT' : row.result === undefined));
  for (const row of wrong) console.error(`unexpected: ${row.plan.label} ended with ${row.error?.code ?? 'a result'}`);
  return wrong.length === 0 ? 0 : 1;
}
