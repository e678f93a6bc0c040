// `sessionpool demo --inspect`: the demo's sessions in waves, one wave a second (at most two in
// flight), until SIGINT or SIGTERM, with the Stately inspector attached to every session machine,
// the offline live view and /metrics. On the signal: close the supervisor (running sessions get a
// second, then are aborted), the live view, the inspector and the mock provider, and exit 0.
import { setTimeout as delay } from 'node:timers/promises';
import { pino } from 'pino';
import { startMockProvider } from '../mock/server.ts';
import type { ChatRequest } from '../../api/public.ts';
import { createSupervisor, type Supervisor } from '../../api/public.ts';
import { startLiveView } from './live-view.ts';
import { startStatelyInspector } from './stately.ts';

export interface InspectDemoOptions {
  /** The sessions of one wave (the demo's DEMO_PLAN). */
  plan: ReadonlyArray<{ request: ChatRequest }>;
  verbose?: boolean;
  /** Time between the starts of two waves. @default 1000 */
  intervalMs?: number;
}

export async function runInspectDemo(options: InspectDemoOptions): Promise<number> {
  const stop = stopSignal();
  const mock = await startMockProvider();
  const stately = await startStatelyInspector();
  const supervisor = createSupervisor({
    threads: 2,
    logger: options.verbose ? pino({ level: 'debug' }, pino.destination(2)) : false,
    providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: 'demo-key' }, glm: { baseURL: mock.baseURL('glm'), apiKey: 'demo-key' } },
    inspect: stately.inspect,
  });
  const view = await startLiveView(supervisor);
  console.log(
    `sessionpool demo --inspect: waves of ${options.plan.length} sessions on ${supervisor.stats().pool.threads} worker threads until Ctrl-C (mock provider at ${mock.url})`,
  );
  console.log(`  live view (offline)  ${view.url}`);
  console.log(`  Stately inspector    ${stately.url}   (embeds stately.ai/inspect: needs internet in that browser)`);
  console.log(`  Prometheus metrics   ${view.url}metrics\n`);
  const waves = await runWaves(supervisor, options, stop);
  console.log(`\nstopping after ${waves} waves`);
  const report = await supervisor.close({ timeoutMs: 1000 });
  await view.close();
  await stately.stop();
  await mock.close();
  stop.dispose();
  const s = supervisor.stats();
  console.log(
    `closed: ${report.finishedDuringClose} sessions finished during close, ${report.aborted} aborted; ${s.admitted} sessions in all, ${s.completed} completed, ${s.timedOut} timed out, ${s.failed} failed, ${s.aborted} aborted`,
  );
  return 0;
}

async function runWaves(supervisor: Supervisor, options: InspectDemoOptions, stop: Stop): Promise<number> {
  const { stopped, signal } = stop;
  const inFlight: Array<Promise<void>> = [];
  let wave = 0;
  let done = false;
  void stopped.then(() => (done = true));
  while (!done) {
    // At most two waves at once: a slow machine makes the waves wait rather than pile up.
    if (inFlight.length >= 2) await Promise.race([inFlight.shift(), stopped]);
    if (done) break;
    const started = performance.now();
    const n = ++wave;
    const settled = Promise.allSettled(options.plan.map((p) => supervisor.chat(p.request)));
    inFlight.push(settled.then((results) => (done ? undefined : console.log(waveLine(n, results, performance.now() - started)))));
    await delay(options.intervalMs ?? 1000, undefined, { signal }).catch(() => {});
  }
  return wave;
}

function waveLine(n: number, results: PromiseSettledResult<unknown>[], ms: number): string {
  const codes = results.map((r) => (r.status === 'fulfilled' ? 'completed' : ((r.reason as { code?: string }).code ?? 'error')));
  const count = (code: string) => codes.filter((c) => c === code).length;
  const other = codes.length - count('completed') - count('ERR_SESSION_TIMEOUT');
  return `wave ${n}: ${count('completed')} completed, ${count('ERR_SESSION_TIMEOUT')} timed out, ${other} other (${(ms / 1000).toFixed(2)} s)`;
}

interface Stop {
  stopped: Promise<void>;
  signal: AbortSignal;
  dispose(): void;
}

/** Settles on the first SIGINT or SIGTERM; a second one (while closing) exits at once with 130. */
function stopSignal(): Stop {
  const controller = new AbortController();
  const stopped = new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stopped,
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
