// `sessionpool bench hosts [--quick]`: sessions per second and added latency through BullMQ on
// Redis with 1, 2 and 4 worker processes (`sessionpool worker`, one thread each), against the
// in-process pool (2 threads), all against the embedded mock at zero latency. A real redis-server
// on loopback (Debian's package) is started for the run.
import { randomBytes } from 'node:crypto';
import { availableParallelism, cpus } from 'node:os';
import { bullmq, createSupervisor, startMockProvider, type Supervisor, type Transport } from '../src/index.ts';
import type { MockProvider } from '../src/apps/mock/server.ts';
import { redisMissing, startRedis, type TestRedis } from '../test/support/redis-server.ts';
import { startWorkerProcess } from '../test/support/worker-process.ts';

const KEY = 'sk-bench-hosts-0123456789';
const CONCURRENCY = 64;
// The producer signs its jobs with it; the worker processes get it in their config file (never a flag).
const JOB_SECRET = randomBytes(32).toString('hex');

interface Row {
  side: string;
  sessionsPerSecond: number;
  p50: number;
  p99: number;
}

const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))] ?? NaN;

async function measure(supervisor: Supervisor, sessions: number, sequential: number): Promise<Omit<Row, 'side'>> {
  const ask = (i: number) => supervisor.chat({ provider: 'kimi', prompt: `bench ${i}` });
  await Promise.all(Array.from({ length: 50 }, (_, i) => ask(i)));
  const latencies: number[] = [];
  for (let i = 0; i < sequential; i++) {
    const t = performance.now();
    await ask(i);
    latencies.push(performance.now() - t);
  }
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < sessions) await ask(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { sessionsPerSecond: sessions / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

async function side(name: string, mock: MockProvider, sizes: { sessions: number; sequential: number }, transport?: Transport): Promise<Row> {
  const supervisor = createSupervisor({
    logger: false,
    maxConcurrent: CONCURRENCY * 2,
    threads: 2,
    providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEY } },
    ...(transport !== undefined ? { transport } : {}),
  });
  try {
    await supervisor.ready();
    return { side: name, ...(await measure(supervisor, sizes.sessions, sizes.sequential)) };
  } finally {
    await supervisor.close();
  }
}

async function withWorkers(redis: TestRedis, mock: MockProvider, n: number, sizes: { sessions: number; sequential: number }): Promise<Row> {
  const queueName = `bench-${n}`;
  const config = { providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEY } }, threads: 1, concurrency: CONCURRENCY, jobSecret: JOB_SECRET };
  const workers = await Promise.all(Array.from({ length: n }, () => startWorkerProcess(redis.url, queueName, config)));
  try {
    return await side(`bullmq, ${n} worker process${n > 1 ? 'es' : ''}`, mock, sizes, bullmq({ connection: redis.url, queueName, jobSecret: JOB_SECRET }));
  } finally {
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  }
}

export async function main(argv: string[]): Promise<number> {
  if (redisMissing) {
    console.error(`sessionpool bench hosts: ${redisMissing}`);
    return 1;
  }
  const quick = argv.includes('--quick');
  const sizes = quick ? { sessions: 1000, sequential: 100 } : { sessions: 4000, sequential: 300 };
  const redis = await startRedis();
  const mock = await startMockProvider({ apiKey: KEY });
  try {
    const rows = [await side('in-process pool, 2 threads', mock, sizes)];
    for (const n of [1, 2, 4]) rows.push(await withWorkers(redis, mock, n, sizes));
    const base = rows[0] as Row;
    console.log(
      `sessionpool bench hosts${quick ? ' --quick' : ''}: ${sizes.sessions} sessions at ${CONCURRENCY} concurrent, ${sizes.sequential} one at a time, zero-latency mock; ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}\n`,
    );
    console.log('| transport | sessions/s | x in-process | p50 ms one at a time | added p50 ms | p99 ms |');
    console.log('|---|---|---|---|---|---|');
    for (const r of rows) {
      console.log(
        `| ${r.side} | ${r.sessionsPerSecond.toFixed(0)} | ${(r.sessionsPerSecond / base.sessionsPerSecond).toFixed(2)} | ${r.p50.toFixed(2)} | ${(r.p50 - base.p50).toFixed(2)} | ${r.p99.toFixed(2)} |`,
      );
    }
    return 0;
  } finally {
    await mock.close();
    await redis.stop();
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
