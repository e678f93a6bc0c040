// What the fault scenarios share: the secrets they must never see printed, the mock provider with a
// key, a worker host's configuration, Redis inspection through BullMQ's own API, and a teardown
// that stops every part within bounds (a part that does not stop is a finding, not a hang).
import { Queue } from 'bullmq';
import { startMockProvider } from '../../src/index.ts';
import type { MockProvider, MockProviderOptions } from '../../src/apps/mock/server.ts';
import { DOCUMENTED_CODES, Ledger, type LedgerOptions } from './invariants.ts';
import { within } from './waits.ts';

export const JOB_SECRET = 'test-job-secret-0123456789abcdef0123456789abcdef';
export const PROVIDER_KEY = 'sk-faults-provider-key-5f0c1d2e3b4a';
/** With a `/` and a `+`: a URL carries it percent-encoded, and both spellings must stay hidden. */
export const REDIS_PASSWORD = 'redis/faults+pw-7d1e9c3b';

/** Every scenario sets the job secret first (child processes inherit it). */
export function useJobSecret(): void {
  process.env['SESSIONPOOL_JOB_SECRET'] = JOB_SECRET;
}

/** The failures a session may end with when Redis or a host fails under it. */
export const TRANSPORT_FAULT_CODES = ['ERR_TRANSPORT', 'ERR_WORKER_CRASHED', 'ERR_SESSION_TIMEOUT'] as const;

export function ledgerFor(options: Partial<LedgerOptions> = {}): Ledger {
  return new Ledger({
    secrets: [PROVIDER_KEY, REDIS_PASSWORD, encodeURIComponent(REDIS_PASSWORD), JOB_SECRET],
    codes: DOCUMENTED_CODES,
    maxRetries: 0,
    ...options,
  });
}

export function startMock(options: MockProviderOptions = {}): Promise<MockProvider> {
  return startMockProvider({ apiKey: PROVIDER_KEY, ...options });
}

/** A worker host's configuration (its key stays on the host); short locks so dead hosts are found in seconds. */
export function workerConfig(mock: MockProvider, extra: Record<string, unknown> = {}) {
  return {
    providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: PROVIDER_KEY } },
    threads: 1,
    concurrency: 20,
    lockDurationMs: 2000,
    stalledIntervalMs: 500,
    abortGraceMs: 1000,
    ...extra,
  };
}

/** A BullMQ Queue handle to look at (or write hostile jobs into) the scenario's queue. */
export function queueOf(redisURL: string, queueName: string): Queue {
  const url = new URL(redisURL);
  const queue = new Queue(queueName, {
    connection: {
      host: url.hostname,
      port: Number(url.port),
      ...(url.password !== '' ? { password: decodeURIComponent(url.password) } : {}),
      maxRetriesPerRequest: 1,
    },
    prefix: 'bull',
  });
  queue.on('error', () => {});
  return queue;
}

/** Runs each step bounded and in order, even when one fails; returns what failed (the test's teardown). */
export async function teardown(ledger: Ledger, steps: Array<[string, () => Promise<unknown> | unknown, number?]>): Promise<void> {
  for (const [what, step, ms = 20_000] of steps) {
    try {
      await within(Promise.resolve().then(step), ms, what);
    } catch (error) {
      ledger.problem(`teardown: ${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** Waits (bounded) until the queue holds no waiting, delayed, prioritized or active job; a queue that does not drain is a violation. */
export async function drained(ledger: Ledger, redisURL: string, queueName: string, ms: number): Promise<Record<string, number>> {
  const queue = queueOf(redisURL, queueName);
  let counts: Record<string, number> = {};
  try {
    const open = async () => {
      counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'waiting-children');
      return Object.values(counts).every((n) => n === 0);
    };
    await ledger.wait(
      (async () => {
        while (!(await open())) await new Promise((resolve) => setTimeout(resolve, 100));
      })(),
      ms,
      `queue "${queueName}" drained (still ${JSON.stringify(counts)})`,
    );
  } finally {
    await queue.close();
  }
  return counts;
}
