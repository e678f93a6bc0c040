// The routing demo (`npm run routing-demo`): 500 sessions against a Kimi mock that throttles at
// 20 requests/s, with a 20/s limit configured (no 429 may reach the provider) and without one
// (all must still complete, through retries); then a Kimi taken down mid-run, whose sessions must
// go to the GLM fallback within one breaker window. The mock runs in a child process.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createSupervisor, type SupervisorOptions } from '../src/index.ts';
import type { CircuitEvent } from '../src/index.ts';
import type { RoutingMockConfig } from './routing-mock.ts';

const SESSIONS = Number(process.env['SESSIONS'] ?? 500);
const RATE = 20;
const BREAKER_WINDOW_MS = 10_000;

interface Mock {
  child: ChildProcess;
  kimi: string;
  glm: string;
  counts(): Promise<{ rejected: number; accepted: number; kimiRequests: number; afterDown: number; total: number }>;
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
      : { maxConcurrent, retry: { maxRetries: 20, baseDelayMs: 100, maxDelayMs: 2000 } },
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
    scenario: `${limited ? 'limit 20/s' : 'no limit, maxRetries 20'}, provider ${mode}, maxConcurrent ${maxConcurrent}`,
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

const which = process.argv.slice(2);
const all: Record<string, () => Promise<object>> = {
  limited: () => throttled('sliding', true),
  'limited-bucket': () => throttled('bucket', true),
  unlimited: () => throttled('sliding', false),
  'unlimited-20': () => throttled('sliding', false, 20),
  outage,
};
const rows = [];
for (const name of which.length > 0 ? which : Object.keys(all)) rows.push(await (all[name] as () => Promise<object>)());
for (const row of rows) console.log(JSON.stringify(row));
