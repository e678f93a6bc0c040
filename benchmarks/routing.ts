// The routing demo (`npm run routing-demo`): 500 sessions against a Kimi mock that throttles at
// 20 requests/s, with a 20/s limit configured (no 429 may reach the provider) and without one
// (all must still complete, through retries); then a Kimi taken down mid-run, whose sessions must
// go to the GLM fallback within one breaker window. The `auto-*` rows run with no configuration at
// all against throttles of every shape (issue 25): what the provider refused over the whole run and
// after its first 5 s, and the wall time against the ideal one (the throttle's capacity alone).
// The mock runs in a child process.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createSupervisor, type SupervisorOptions } from '../src/index.ts';
import type { CircuitEvent } from '../src/index.ts';
import type { MockCounts, RoutingMockConfig } from './routing-mock.ts';
import { AUTO, type AutoScenario } from './throttles.ts';

const SESSIONS = Number(process.env['SESSIONS'] ?? 500);
const RATE = 20;
const BREAKER_WINDOW_MS = 10_000;

interface Mock {
  child: ChildProcess;
  kimi: string;
  glm: string;
  counts(): Promise<MockCounts>;
  close(): Promise<void>;
}

async function startMock(config: RoutingMockConfig): Promise<Mock> {
  const child = fork(new URL('./routing-mock.ts', import.meta.url), [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [hello] = (await once(child, 'message')) as [{ kimi: string; glm: string }];
  return {
    child,
    ...hello,
    async counts() {
      child.send({ type: 'counts' });
      for (;;) {
        const [message] = (await once(child, 'message')) as [{ type: string }];
        if (message.type === 'counts') return message as never;
      }
    },
    async close() {
      child.send({ type: 'close' });
      await once(child, 'exit');
    },
  };
}

function supervisorFor(mock: Mock, options: SupervisorOptions & { kimi?: object }) {
  const { kimi, ...rest } = options;
  return createSupervisor({
    threads: 2,
    logger: false,
    ...rest,
    providers: { kimi: { baseURL: mock.kimi, apiKey: 'sk-demo-kimi', ...kimi }, glm: { baseURL: mock.glm, apiKey: 'sk-demo-glm' } },
  });
}

async function throttled(mode: 'bucket' | 'sliding', limited: boolean, maxConcurrent = 64) {
  const mock = await startMock({ limit: RATE, mode });
  const supervisor = supervisorFor(
    mock,
    limited
      ? { maxConcurrent, kimi: { limits: { requestsPerSecond: RATE } } }
      : { maxConcurrent, routing: false, retry: { maxRetries: 20, baseDelayMs: 100, maxDelayMs: 2000 } },
  );
  await supervisor.ready();
  const started = performance.now();
  const settled = await Promise.allSettled(
    Array.from({ length: SESSIONS }, (_, i) => supervisor.chat({ provider: 'kimi', messages: [{ role: 'user', content: `question ${i}` }] })),
  );
  const wallS = (performance.now() - started) / 1000;
  const stats = supervisor.stats();
  await supervisor.close();
  const counts = await mock.counts();
  await mock.close();
  const completed = settled.filter((s) => s.status === 'fulfilled').length;
  return {
    scenario: `${limited ? 'limit 20/s' : 'routing: false, maxRetries 20'}, provider ${mode}, maxConcurrent ${maxConcurrent}`,
    sessions: SESSIONS,
    completed,
    provider429s: counts.rejected,
    retried: stats.retried,
    wallS: Number(wallS.toFixed(1)),
    rate: Number((completed / wallS).toFixed(1)),
  };
}

async function outage() {
  const mock = await startMock({ limit: 1000, mode: 'bucket', downAfter: 100 });
  const supervisor = supervisorFor(mock, {
    kimi: { limits: { requestsPerSecond: 50 }, fallbacks: [{ provider: 'glm' }] },
    routing: { breaker: { failures: 5, windowMs: BREAKER_WINDOW_MS, cooldownMs: 60_000 } },
  });
  await supervisor.ready();
  let downAt = 0;
  mock.child.on('message', (m: { type: string }) => {
    if (m.type === 'down') downAt = performance.now();
  });
  let opened: CircuitEvent | undefined;
  supervisor.on('circuit', (e) => (opened ??= e.to === 'open' ? e : undefined));
  const results = await Promise.all(
    Array.from({ length: 300 }, (_, i) => supervisor.chat({ provider: 'kimi', messages: [{ role: 'user', content: `q${i}` }] })),
  );
  const first = results.map((r) => (r.metadata['route'] as Array<{ outcome: string }>)[0]?.outcome);
  await supervisor.close();
  const counts = await mock.counts();
  await mock.close();
  return {
    scenario: 'kimi down after 100 requests, fallback glm',
    sessions: results.length,
    completed: results.length,
    viaKimi: first.filter((o) => o === 'completed').length,
    failedOverFromKimi: first.filter((o) => o === 'failed').length,
    sentStraightToGlm: first.filter((o) => o === 'circuit_open').length,
    kimiRequestsWhileDown: counts.afterDown,
    msFromDownToOpen: opened && downAt > 0 ? Math.round(opened.at - downAt) : null,
    breakerWindowMs: BREAKER_WINDOW_MS,
  };
}

const pct = (part: number, whole: number) => (whole === 0 ? 0 : Number(((100 * part) / whole).toFixed(1)));

/** No configuration at all: the default options against one throttle. */
async function auto(name: string) {
  const scenario = AUTO[name] as AutoScenario;
  const idealS = scenario.idealS(SESSIONS);
  const mock = await startMock({ limit: scenario.limit, mode: scenario.mode, ...(scenario.latencyMs ? { latencyMs: scenario.latencyMs } : {}) });
  const supervisor = supervisorFor(mock, {});
  await supervisor.ready();
  const filler = ' word'.repeat(Math.max(0, (scenario.words ?? 2) - 2));
  const started = performance.now();
  // TRACE=1 prints the key's learned state every second (to see how it converges).
  const trace =
    process.env['TRACE'] === undefined
      ? undefined
      : setInterval(
          () => console.error(((performance.now() - started) / 1000).toFixed(1), JSON.stringify(Object.values(supervisor.stats().routing?.keys ?? {})[0])),
          1000,
        );
  const settled = await Promise.allSettled(
    Array.from({ length: SESSIONS }, (_, i) => supervisor.chat({ provider: 'kimi', messages: [{ role: 'user', content: `question ${i}${filler}` }] })),
  );
  clearInterval(trace);
  const wallS = (performance.now() - started) / 1000;
  const key = Object.values(supervisor.stats().routing?.keys ?? {})[0];
  await supervisor.close();
  const counts = await mock.counts();
  await mock.close();
  const failed = settled.filter((s) => s.status === 'rejected').map((s) => (s.reason as { code?: string }).code);
  return {
    scenario: `no configuration, provider ${scenario.describe}`,
    sessions: SESSIONS,
    completed: settled.length - failed.length,
    ...(failed.length > 0 ? { failed: [...new Set(failed)].join(',') } : {}),
    requests: counts.kimiRequests,
    refused: counts.rejected,
    refusedPct: pct(counts.rejected, counts.kimiRequests),
    refusedAfter5sPct: pct(counts.rejectedLate, counts.requestsLate),
    wallS: Number(wallS.toFixed(1)),
    idealS: Number(idealS.toFixed(1)),
    wallVsIdeal: idealS > 0 ? Number((wallS / idealS).toFixed(2)) : null,
    learned: key?.learned ?? null,
  };
}

/** A provider that is down from the start, no configuration (or a fallback): calls it costs, how fast sessions end. */
async function autoDown(withFallback: boolean) {
  const mock = await startMock({ limit: 1000, mode: 'none', downAfter: 0 });
  const supervisor = supervisorFor(mock, withFallback ? { kimi: { fallbacks: [{ provider: 'glm' }] } } : {});
  await supervisor.ready();
  const started = performance.now();
  const settled = await Promise.allSettled(
    Array.from({ length: 100 }, (_, i) => supervisor.chat({ provider: 'kimi', messages: [{ role: 'user', content: `q${i}` }] })),
  );
  const wallS = (performance.now() - started) / 1000;
  await supervisor.close();
  const counts = await mock.counts();
  await mock.close();
  const codes: Record<string, number> = {};
  for (const s of settled) {
    const code = s.status === 'fulfilled' ? `ok via ${s.value.provider}` : String((s.reason as { code?: string }).code);
    codes[code] = (codes[code] ?? 0) + 1;
  }
  return {
    scenario: `no configuration, kimi down from the start${withFallback ? ', fallback glm configured' : ''}`,
    sessions: 100,
    kimiRequests: counts.kimiRequests,
    outcomes: codes,
    wallS: Number(wallS.toFixed(2)),
  };
}

const which = process.argv.slice(2);
const all: Record<string, () => Promise<object>> = {
  limited: () => throttled('sliding', true),
  'limited-bucket': () => throttled('bucket', true),
  unlimited: () => throttled('sliding', false),
  'unlimited-20': () => throttled('sliding', false, 20),
  outage,
  ...Object.fromEntries(Object.keys(AUTO).map((name) => [name, () => auto(name)])),
  'auto-down': () => autoDown(false),
  'auto-down-fallback': () => autoDown(true),
};
const rows = [];
for (const name of which.length > 0 ? which : Object.keys(all)) rows.push(await (all[name] as () => Promise<object>)());
for (const row of rows) console.log(JSON.stringify(row));
