// `npm run soak`: 100,000 mixed sessions through a mock provider in another process, printing heap,
// RSS and active handles at intervals. They must stay flat: a leak per session shows as a slope.
// Usage: node --expose-gc benchmarks/soak.ts [--sessions N] [--concurrency N] [--every N] [--worker-heap-mb N]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { createSupervisor } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '200' },
    every: { type: 'string', default: '10000' },
    'worker-heap-mb': { type: 'string' },
  },
});
const total = Number(values.sessions);
const concurrency = Number(values.concurrency);
const every = Number(values.every);

const mock = spawn(process.execPath, ['--input-type=module', '-e', "import('./src/apps/cli/mock.ts').then((m) => m.runMockCommand(['--port', '0']))"], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const [line] = (await once(mock.stdout, 'data')) as [Buffer];
const url = /listening on (http:\/\/\S+)/.exec(line.toString())?.[1];
if (!url) throw new Error(`the mock did not start: ${line.toString()}`);

const supervisor = createSupervisor({
  threads: 2,
  maxConcurrent: concurrency,
  logger: false,
  retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1 },
  ...(values['worker-heap-mb'] ? { resourceLimits: { maxOldGenerationSizeMb: Number(values['worker-heap-mb']) } } : {}),
  providers: { kimi: { baseURL: `${url}/kimi/v1`, apiKey: 'soak' }, glm: { baseURL: `${url}/glm/api/paas/v4`, apiKey: 'soak' } },
});

const MIX = ['', '', '', '[[mock chunks=50]]', '[[mock status=401]]', '[[mock lengthRounds=1 completionTokens=4]]', '[[mock hang]]'];
const outcomes = new Map<string, number>();
let started = 0;
let done = 0;
const samples: Array<{ done: number; heapMB: number; rssMB: number; handles: number }> = [];

function sample(): void {
  (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  const row = { done, heapMB: memory.heapUsed / 2 ** 20, rssMB: memory.rss / 2 ** 20, handles: process.getActiveResourcesInfo().length };
  samples.push(row);
  console.log(
    `${String(done).padStart(7)} sessions  heap ${row.heapMB.toFixed(1).padStart(6)} MB  rss ${row.rssMB.toFixed(0).padStart(4)} MB  active handles ${row.handles}  in flight ${supervisor.stats().states.processing}`,
  );
}

async function lane(): Promise<void> {
  while (started < total) {
    const i = started++;
    const directive = MIX[i % MIX.length]!;
    const outcome = await supervisor
      .chat({
        provider: i % 2 ? 'kimi' : 'glm',
        messages: [{ role: 'user', content: `soak ${i} ${directive}` }],
        ...(directive.includes('chunks') ? { onDelta: () => {} } : {}),
        ...(directive.includes('hang') ? { timeoutMs: 50 } : {}),
      })
      .then(
        () => 'completed',
        (e: { code: string }) => e.code,
      );
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    if (++done % every === 0) sample();
  }
}

sample();
await Promise.all(Array.from({ length: concurrency }, lane));
const report = await supervisor.close();
mock.kill();
const stats = supervisor.stats();
console.log(`outcomes ${JSON.stringify(Object.fromEntries(outcomes))}  released ${stats.states.released}/${stats.admitted}  close ${JSON.stringify(report)}`);
// Flat: the second half of the run adds no heap beyond noise (compare the first sample after warm-up with the last).
const warm = samples[Math.min(2, samples.length - 1)]!;
const last = samples.at(-1)!;
const growth = last.heapMB - warm.heapMB;
const flat = growth < 10 && last.handles <= warm.handles + 2 && stats.states.released === total;
console.log(
  `heap ${warm.heapMB.toFixed(1)} → ${last.heapMB.toFixed(1)} MB after warm-up (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB), handles ${warm.handles} → ${last.handles}: ${flat ? 'flat' : 'NOT FLAT'}`,
);
process.exitCode = flat ? 0 : 1;
