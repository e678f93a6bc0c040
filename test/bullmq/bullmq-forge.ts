// Jobs as anyone who can write to Redis adds them: bullmq's own Queue.add, no producer. Signed (when
// a test wants it) by the documented wire format, written apart from src/ so the tests check it.
import { createHmac } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { createWorker, type WorkerHost } from '../../src/index.ts';
import type { MockProvider } from '../../src/apps/mock/server.ts';
import type { TestRedis } from '../support/redis-helpers.ts';

/** The documented canonical form: JSON, object keys sorted, no spaces, undefined members left out. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonical(v))).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** The producer id that signed forged jobs name: Forger.ready() keeps its liveness key in Redis. */
export const FORGED_PRODUCER = 'forged-producer';

/** Signs job data as a producer does (the wire format in the README), written apart from src/. */
export function sign(
  data: Record<string, unknown>,
  jobId: string,
  queueName: string,
  secret = process.env['SESSIONPOOL_JOB_SECRET'] ?? '',
): Record<string, unknown> {
  // A job names the producer that queued it; a forger that holds the secret plays a live one (Forger.ready()).
  const named = 'producer' in data ? data : { ...data, producer: FORGED_PRODUCER };
  const message = canonical(['sessionpool-job-v1', `bull:${queueName}`, jobId, named]);
  return { ...named, sig: `v1.${createHmac('sha256', secret).update(message).digest('base64url')}` };
}

export function chatTask(sessionId: string, prompt = 'forged hello'): Record<string, unknown> {
  return {
    kind: 'chat',
    sessionId,
    requestId: `r-${sessionId}`,
    run: 1,
    provider: 'kimi',
    call: {
      model: 'kimi-k2-turbo-preview',
      messages: [{ role: 'user', content: prompt }],
      continuation: false,
      stream: false,
      idleTimeoutMs: 60_000,
      maxResponseBytes: 1 << 20,
    },
    retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 5 },
  };
}

export interface JobOutcome {
  host?: string;
  outcome?: { ok: boolean; error?: { code: string; message: string } };
  crashed?: string;
}

/** bullmq's own client, as anyone who can write to Redis has it. */
export class Forger {
  readonly queue: Queue;
  readonly events: QueueEvents;
  readonly #port: number;
  /** A live producer's presence: a connection of its own, named for it, whose client id its liveness key holds. */
  #presence: Redis | undefined;
  constructor(redis: TestRedis, queueName: string) {
    this.#port = redis.port;
    this.queue = new Queue(queueName, { connection: { host: '127.0.0.1', port: redis.port } });
    this.events = new QueueEvents(queueName, { connection: { host: '127.0.0.1', port: redis.port } });
  }
  async ready(): Promise<void> {
    await Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]);
    // The liveness key a producer keeps (fence-keys.ts), holding the client id of the connection it
    // keeps named `sessionpool:producer:<id>`: without both a host refuses the job as orphaned.
    const redis = new Redis({ host: '127.0.0.1', port: this.#port, maxRetriesPerRequest: 1, connectionName: `sessionpool:producer:${FORGED_PRODUCER}` });
    this.#presence = redis;
    const clientId = await redis.client('ID');
    await redis.set(`bull:${this.queue.name}:sessionpool:producer:${FORGED_PRODUCER}`, `c${clientId}`, 'PX', 600_000);
  }
  /** Adds a job and waits (bounded) for what the worker host made of it. */
  async run(data: unknown, jobId: string): Promise<JobOutcome> {
    const job = await this.queue.add('chat', data as object, { jobId });
    return (await job.waitUntilFinished(this.events, 20_000)) as JobOutcome;
  }
  async close(): Promise<void> {
    this.#presence?.disconnect();
    await Promise.all([this.queue.close(), this.events.close()]);
  }
}

export async function worker(redis: TestRedis, mock: MockProvider, queueName: string, key: string): Promise<WorkerHost> {
  const host = createWorker({
    connection: redis.url,
    queueName,
    threads: 1,
    concurrency: 4,
    logger: false,
    providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: key } },
  });
  await host.ready();
  return host;
}
