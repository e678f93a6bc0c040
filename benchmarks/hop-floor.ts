// `node benchmarks/hop-floor.ts [--gap MS,...] [--count N]`
//
// The floor under the engine's added latency one call at a time: a message to an idle worker
// thread and its answer back, nothing else (no engine, no SDK). Each round trip starts after
// `gap` ms of idleness, as a session does in latency-1 (the provider takes 20 ms): both threads
// are asleep in the event loop when the message leaves, so the figure includes two wake-ups.
// Payloads: a tiny one, and one shaped like a chat task out and a result back (~1.5 KB each).
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { MessageChannel, Worker } from 'node:worker_threads';

const ECHO = `
const { parentPort } = require('node:worker_threads');
parentPort.once('message', (port) => port.on('message', (m) => port.postMessage(m)));
`;

const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');
const TASK_SHAPED = {
  type: 'task',
  task: {
    kind: 'chat',
    sessionId: '7f0c1d52-0b8e-4d7b-9d43-0a4d1f1e2c3b',
    requestId: '1b9f7e0a-8c2d-4e5f-a6b7-c8d9e0f1a2b3',
    budgetMs: 119_999.5,
    run: 1,
    provider: { name: 'openai', baseURL: 'http://127.0.0.1:4010/v1', apiKey: 'sk-0000000000', profile: { dialect: 'openai', maxResponseBytes: 8_388_608 } },
    call: { model: 'mock-model', messages: [{ role: 'user', content: words(40) }], continuation: { maxAttempts: 3 }, stream: false },
    retry: { maxRetries: 2, baseDelayMs: 500, maxDelayMs: 8000 },
  },
  content: words(120),
};

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { gap: { type: 'string', default: '0,1,20' }, count: { type: 'string', default: '300' } } });
  const gaps = values.gap.split(',').map(Number);
  const count = Number(values.count);
  const worker = new Worker(ECHO, { eval: true });
  const { port1, port2 } = new MessageChannel();
  worker.postMessage(port2, [port2]);
  const roundTrip = (payload: unknown) =>
    new Promise<number>((resolve) => {
      const start = performance.now();
      port1.once('message', () => resolve(performance.now() - start));
      port1.postMessage(payload);
    });
  for (let i = 0; i < 50; i++) await roundTrip(TASK_SHAPED); // warm-up: code compiled, ports up
  console.log('round trip to an idle worker thread and back (ms), after an idle gap');
  for (const [name, payload] of [
    ['tiny', { n: 1 }],
    ['task-shaped (~1.5 KB)', TASK_SHAPED],
  ] as const) {
    for (const gap of gaps) {
      const times: number[] = [];
      for (let i = 0; i < count; i++) {
        if (gap > 0) await delay(gap);
        times.push(await roundTrip(payload));
      }
      times.sort((a, b) => a - b);
      console.log(
        `${name.padEnd(22)} gap ${String(gap).padStart(3)} ms: p50 ${quantile(times, 0.5).toFixed(3)}  p95 ${quantile(times, 0.95).toFixed(3)}  p99 ${quantile(times, 0.99).toFixed(3)}`,
      );
    }
  }
  port1.close();
  await worker.terminate();
}

await main();
