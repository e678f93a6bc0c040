/**
 * A CPU-heavy host next to 100 streaming sessions.
 *
 * The main thread runs a simulation that steps every TICK_MS and does WORK_MS of synchronous work
 * per tick, while 100 sessions stream their answers. The provider calls (HTTP, SSE parsing, retries)
 * run on sessionpool's worker threads, so the ticks keep their pace: this thread only gets the text
 * (on a machine with 2 cores the threads still compete with it for CPU, which the numbers show).
 *
 * Run:    node --conditions=sessionpool-source examples/cpu-heavy-host.ts   (in this repo)
 *         node examples/cpu-heavy-host.ts                                   (with sessionpool installed)
 * Keys:   none needed: the embedded mock answers (it serves from this thread too, a remote provider
 *         would not). With MOONSHOT_API_KEY / KIMI_API_KEY or ZHIPUAI_API_KEY / GLM_API_KEY set, the
 *         real Kimi or GLM answers (100 short stories: it costs tokens). MOCK_URL: a mock already
 *         running (`npx sessionpool mock` prints its URL).
 * Prints: ticks achieved vs expected, the event-loop delay while streaming, sessions completed and
 *         characters received; exits 0 when every session completed.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BUILT_IN_PROVIDERS, createSupervisor } from 'sessionpool';
import { BASE_PATHS, startMockProvider } from 'sessionpool/mock';

const SESSIONS = 100;
const TICK_MS = 50;
const WORK_MS = 20;

// Kimi or GLM when its key is set; otherwise a mock that streams 200 words in 10 pieces over ~2 s.
const keyed = ['kimi', 'glm'].find((name) => BUILT_IN_PROVIDERS[name]?.keyEnv.some((variable) => process.env[variable]));
const mock = keyed || process.env.MOCK_URL ? undefined : await startMockProvider({ defaults: { completionTokens: 200, chunks: 10, tokensPerSec: 100 } });
const mockURL = process.env.MOCK_URL || mock?.url;
const provider = mockURL ? 'kimi' : keyed!;
const supervisor = createSupervisor({
  providers: mockURL ? { kimi: { baseURL: mockURL + BASE_PATHS.kimi, apiKey: 'sk-mock' } } : {},
  maxConcurrent: SESSIONS,
  logger: false,
});
await supervisor.ready(); // the worker threads are up before the clock starts

// The host's own work: a particle simulation that takes WORK_MS of this thread every TICK_MS.
const particles = Array.from({ length: 10_000 }, () => ({ x: Math.random(), v: Math.random() - 0.5 }));
let ticks = 0;
function tick(): void {
  const until = performance.now() + WORK_MS;
  while (performance.now() < until) {
    for (const p of particles) {
      p.x += p.v * 0.001;
      if (p.x < 0 || p.x > 1) p.v = -p.v;
    }
  }
  ticks++;
}

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const started = performance.now();
const timer = setInterval(tick, TICK_MS);

let completed = 0;
let characters = 0;
const failures: string[] = [];
await Promise.all(
  Array.from({ length: SESSIONS }, async (_, i) => {
    try {
      const stream = supervisor.stream({ provider, prompt: `Tell story number ${i} in about 150 words.`, maxOutputTokens: 300 });
      for await (const event of stream) {
        if (event.type === 'delta') characters += event.text.length;
        else if (event.type === 'result') completed++;
      }
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
  }),
);

clearInterval(timer);
delay.disable();
const elapsed = performance.now() - started;
const ms = (nanoseconds: number) => (nanoseconds / 1e6).toFixed(1);
console.log(`ticks: ${ticks} of ${Math.floor(elapsed / TICK_MS)} expected in ${Math.round(elapsed)} ms (${WORK_MS} ms of work every ${TICK_MS} ms)`);
console.log(`event-loop delay while streaming: p50 ${ms(delay.percentile(50))} ms, p99 ${ms(delay.percentile(99))} ms, max ${ms(delay.max)} ms`);
console.log(`sessions: ${completed} of ${SESSIONS} completed, ${characters} characters received`);
for (const failure of new Set(failures)) console.log(`failed: ${failure}`);

await supervisor.close();
await mock?.close();
if (completed < SESSIONS) process.exitCode = 1;
