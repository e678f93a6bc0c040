// The first session of a fresh supervisor, reported apart from the rounds: created and called at
// once, it waits for its thread to boot (createSupervisor starts the threads at once, so a host
// that creates the supervisor early never waits). The SDK's first call on a fresh client is beside it.
import { performance } from 'node:perf_hooks';
import { createSupervisor } from '../src/index.ts';
import { Baseline } from './baseline.ts';

export interface FirstSession {
  /** From createSupervisor() to the first result, the call made at once (ms). */
  engineColdMs: number;
  /** From createSupervisor() until ready() (every thread up, ms). */
  readyMs: number;
  /** The second session, right after the first (ms). */
  engineSecondMs: number;
  /** The first call of a fresh SDK client (ms). */
  sdkFirstMs: number;
}

export async function firstSession(baseURL: string, apiKey: string, threads: number): Promise<FirstSession> {
  const prompt = 'first [[mock latencyMs=0]]';
  const started = performance.now();
  const supervisor = createSupervisor({ threads, logger: false, retry: { maxRetries: 0 }, providers: { openai: { baseURL, apiKey } } });
  let readyMs = Number.NaN;
  const ready = supervisor.ready().then(() => (readyMs = performance.now() - started));
  try {
    await supervisor.chat({ provider: 'openai', messages: [{ role: 'user', content: prompt }] });
    const engineColdMs = performance.now() - started;
    const second = performance.now();
    await supervisor.chat({ provider: 'openai', messages: [{ role: 'user', content: prompt }] });
    const engineSecondMs = performance.now() - second;
    await ready;
    const sdk = performance.now();
    await new Baseline(baseURL, apiKey).chat(prompt);
    return { engineColdMs, readyMs, engineSecondMs, sdkFirstMs: performance.now() - sdk };
  } finally {
    await supervisor.close({ timeoutMs: 5000 });
  }
}

export function firstSessionLine(f: FirstSession): string {
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  return `first session (fresh supervisor, called at once): ${ms(f.engineColdMs)} to its result (threads ready at ${ms(f.readyMs)}), the next ${ms(f.engineSecondMs)}; the SDK's first call on a fresh client ${ms(f.sdkFirstMs)}`;
}
