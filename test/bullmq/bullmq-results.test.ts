// What a producer reads back from Redis: only what a worker host holding the job secret signed.
// Anyone who can write to Redis can XADD to the queue's event stream (`bull:<queue>:events`) what
// BullMQ itself writes there: a job's `completed` event with its return value, and `progress`
// events (the pick-up report, batches of deltas). Here such entries are forged with ioredis, in the
// fields BullMQ's own Lua scripts write (moveToFinished: event, jobId, returnvalue, prev;
// updateProgress: event, jobId, data), against a real producer, worker host and mock provider.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import pino from 'pino';
import { bullmq, createSupervisor, createWorker, startMockProvider, type Supervisor, type WorkerHost } from '../../src/index.ts';
import type { MockProvider } from '../../src/apps/mock/server.ts';
import { JobSigner } from '../../src/transport/bullmq/job-signature.ts';
import { ResultGuard } from '../../src/transport/bullmq/result-guard.ts';
import { ResultSigner } from '../../src/transport/bullmq/result-signature.ts';
import { canonical } from './bullmq-forge.ts';
import { redisMissing, startRedis, type TestRedis } from '../support/redis-helpers.ts';

// Producers and worker hosts of this file share this secret.
const SECRET = 'results-test-job-secret-0123456789abcdef';
process.env['SESSIONPOOL_JOB_SECRET'] = SECRET;
const KEY = 'sk-results-worker-key-0123456789';
let queues = 0;

interface Rig {
  queueName: string;
  supervisor: Supervisor;
  transport: ReturnType<typeof bullmq>;
  /** The producer's warnings, as logged. */
  warnings: Array<Record<string, unknown>>;
  /** Session ids by request id (from the transitions). */
  sessions: Map<string, string>;
  admin: Redis;
  host?: WorkerHost;
  startHost(): Promise<WorkerHost>;
  close(): Promise<void>;
}

async function rig(redis: TestRedis, mock: MockProvider, withHost = true): Promise<Rig> {
  const queueName = `results-${process.pid}-${++queues}`;
  const warnings: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });
  const transport = bullmq({ connection: redis.url, queueName });
  const supervisor = createSupervisor({ transport, logger, retry: { maxRetries: 0 } });
  const sessions = new Map<string, string>();
  supervisor.on('transition', (e) => void sessions.set(e.requestId, e.sessionId));
  const admin = new Redis(redis.url);
  const r: Rig = {
    queueName,
    supervisor,
    transport,
    warnings,
    sessions,
    admin,
    async startHost() {
      const host = createWorker({
        connection: redis.url,
        queueName,
        threads: 1,
        concurrency: 8,
        logger: false,
        providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEY } },
      });
      r.host = host;
      await host.ready();
      return host;
    },
    async close() {
      await supervisor.close({ timeoutMs: 1000 });
      await r.host?.close({ timeoutMs: 1000 });
      admin.disconnect();
    },
  };
  await supervisor.ready();
  if (withHost) await r.startHost();
  return r;
}

const stream = (r: Rig) => `bull:${r.queueName}:events`;

/** XADDs a progress event as BullMQ's updateProgress script writes it. */
function forgeProgress(r: Rig, jobId: string, data: string): Promise<unknown> {
  return r.admin.xadd(stream(r), '*', 'event', 'progress', 'jobId', jobId, 'data', data);
}

/** XADDs a completed event as BullMQ's moveToFinished script writes it. */
function forgeCompleted(r: Rig, jobId: string, returnvalue: string): Promise<unknown> {
  return r.admin.xadd(stream(r), '*', 'event', 'completed', 'jobId', jobId, 'returnvalue', returnvalue, 'prev', 'active');
}

/** The stream's entries of one event kind for one job, as field maps. */
async function entries(r: Rig, event: string, jobId: string): Promise<Array<Record<string, string>>> {
  const all = await r.admin.xrange(stream(r), '-', '+');
  return all
    .map(([, fields]) => Object.fromEntries(Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i], fields[2 * i + 1]])) as Record<string, string>)
    .filter((f) => f['event'] === event && f['jobId'] === jobId);
}

function jobOf(r: Rig, requestId: string): string {
  const sessionId = r.sessions.get(requestId);
  assert.ok(sessionId !== undefined, `a session for ${requestId}`);
  return `${sessionId}.1`;
}

/** The stats field that counts what failed verification (undefined before there was one). */
const forged = (r: Rig) => (r.transport.stats() as unknown as Record<string, unknown>)['forged'];

function assertQuietLogs(r: Rig, ...forbidden: string[]): void {
  const text = JSON.stringify(r.warnings);
  for (const word of [SECRET, ...forbidden]) assert.ok(!text.includes(word), `no ${word === SECRET ? 'secret' : JSON.stringify(word)} in the logs`);
}

describe('BullMQ results: what a producer reads back from Redis', { skip: redisMissing }, () => {
  let redis: TestRedis;
  let mock: MockProvider;
  before(async () => {
    redis = await startRedis();
    mock = await startMockProvider({ apiKey: KEY });
  });
  after(async () => {
    await mock?.close();
    await redis?.stop();
  });

  test('what hosts send back is signed as the README documents, under a key derived from the secret (not the secret itself)', async () => {
    const r = await rig(redis, mock);
    try {
      await r.supervisor.chat({ provider: 'kimi', prompt: 'documented [[mock chunks=5 chunkDelayMs=5]]', requestId: 'doc', onDelta: () => {} });
      const jobId = jobOf(r, 'doc');
      const sessionId = r.sessions.get('doc') as string;
      const scope = `bull:${r.queueName}`;
      const resultKey = createHmac('sha256', SECRET).update('sessionpool-results-key-v1').digest();
      const mac = (key: string | Buffer, text: string) => `v1.${createHmac('sha256', key).update(text).digest('base64url')}`;
      const progress = await entries(r, 'progress', jobId);
      assert.ok(progress.length >= 2, `a pick-up and deltas (${progress.length})`);
      for (const [i, entry] of progress.entries()) {
        const message = JSON.parse(entry['data'] as string) as { run: number; seq: number; body: string; sig: string };
        assert.deepEqual(Object.keys(message).sort(), ['body', 'run', 'seq', 'sig']);
        assert.deepEqual([message.run, message.seq], [1, i + 1], 'run 1, numbered from 1 in stream order');
        const signed = JSON.stringify(['sessionpool-progress-v1', scope, jobId, sessionId, message.run, message.seq]) + message.body;
        assert.equal(message.sig, mac(resultKey, signed));
        assert.notEqual(message.sig, mac(SECRET, signed));
      }
      assert.deepEqual(Object.keys(JSON.parse((JSON.parse(progress[0]?.['data'] as string) as { body: string }).body)), ['picked'], 'the pick-up first');
      const [completed] = await entries(r, 'completed', jobId);
      const { sig, ...value } = JSON.parse(completed?.['returnvalue'] as string) as Record<string, unknown>;
      assert.ok('outcome' in value && 'host' in value, 'the return value keeps its shape');
      const text = canonical(['sessionpool-result-v1', scope, jobId, sessionId, value]);
      assert.equal(sig, mac(resultKey, text));
      assert.notEqual(sig, mac(SECRET, text));
      assert.equal(forged(r), 0);
    } finally {
      await r.close();
    }
  });

  test('a forged `completed` event (a genuine result with its text changed) does not complete a running session: the real answer does', async () => {
    const r = await rig(redis, mock);
    try {
      // A genuine result to copy the shape of.
      const warm = await r.supervisor.chat({ provider: 'kimi', prompt: 'warm up', requestId: 'warm' });
      const [genuine] = await entries(r, 'completed', jobOf(r, 'warm'));
      assert.ok(genuine?.['returnvalue'] !== undefined, 'the genuine result is in the stream');
      mock.reset();
      const session = r.supervisor.chat({ provider: 'kimi', prompt: 'the real question [[mock latencyMs=1500]]', requestId: 'real' });
      await mock.waitForRequests(1);
      // The call is on its way; the forged result lands in the stream before the real one.
      const fake = genuine['returnvalue'].replace(JSON.stringify(warm.content).slice(1, -1), 'FORGED ANSWER');
      assert.match(fake, /FORGED ANSWER/);
      await forgeCompleted(r, jobOf(r, 'real'), fake);
      // The other job's genuine result as it is, a signature that does not match, and a value that is not an object.
      await forgeCompleted(r, jobOf(r, 'real'), genuine['returnvalue']);
      await forgeCompleted(r, jobOf(r, 'real'), JSON.stringify({ ...JSON.parse(fake), sig: `v1.${'A'.repeat(43)}` }));
      await forgeCompleted(r, jobOf(r, 'real'), '"FORGED ANSWER"');
      const result = await session;
      assert.match(result.content, /the real question/, 'the real answer');
      assert.doesNotMatch(result.content, /FORGED/);
      assert.equal(result.metadata.session.host, r.host?.host);
      assert.equal(forged(r), 4, 'counted as forged');
      assert.equal(r.transport.stats().duplicates, 0, 'the real result is no duplicate');
      assert.ok(
        r.warnings.some((w) => w['kind'] === 'result'),
        `a warning for the kind: ${JSON.stringify(r.warnings)}`,
      );
      assert.equal(r.warnings.filter((w) => w['kind'] === 'result').length, 1, 'logged once per kind');
      assertQuietLogs(r, 'FORGED');
    } finally {
      await r.close();
    }
  });

  test('forged deltas (a signature-less batch, a replay of a genuine one) never reach the stream', async () => {
    const r = await rig(redis, mock);
    try {
      const parts: string[] = [];
      let content: string | undefined;
      let forging: Promise<void> | undefined;
      for await (const event of r.supervisor.stream({ provider: 'kimi', prompt: '[[mock chunks=30 chunkDelayMs=40]] stream it', requestId: 'streamed' })) {
        if (event.type === 'delta') parts.push(event.text);
        if (event.type === 'result') content = event.result.content;
        // At the first delta the stream still has ~1 s to go: the forgeries land before the result.
        forging ??= (async () => {
          const jobId = jobOf(r, 'streamed');
          const sessionId = r.sessions.get('streamed') as string;
          // The genuine messages so far (the stream keeps them), sent again as they are after the injection.
          const genuine = await entries(r, 'progress', jobId);
          assert.ok(genuine.length >= 2, `a pick-up and a batch so far (${genuine.length})`);
          await forgeProgress(r, jobId, JSON.stringify({ events: [{ type: 'delta', sessionId, text: 'INJECTED' }] }));
          for (const entry of genuine.slice(0, 2)) await forgeProgress(r, jobId, entry['data'] as string);
        })();
      }
      await forging;
      assert.equal(parts.join(''), content, 'the streamed text is the answer, nothing else');
      assert.ok(!parts.join('').includes('INJECTED'));
      assert.equal(forged(r), 3, 'the injected batch and both replays are counted');
      assertQuietLogs(r, 'INJECTED');
    } finally {
      await r.close();
    }
  });

  test('a forged pick-up (no host yet) leaves the session queued: it goes to processing with the real one', async () => {
    const r = await rig(redis, mock, false);
    try {
      const session = r.supervisor.chat({ provider: 'kimi', prompt: 'wait for a real host', requestId: 'queued' });
      await waitFor(() => r.sessions.has('queued') && r.transport.stats().queued === 1, 'the job is queued');
      await forgeProgress(r, jobOf(r, 'queued'), JSON.stringify({ picked: { host: 'evil:666' } }));
      await r.startHost();
      const result = await session;
      assert.equal(result.metadata.session.host, r.host?.host);
      const stats = r.transport.stats();
      assert.equal(stats.picked, 1, 'only the real pick-up counts');
      assert.equal(stats.hosts, 1, 'no host named by the forgery');
      assert.equal(forged(r), 1);
      assertQuietLogs(r, 'evil');
    } finally {
      await r.close();
    }
  });

  test('a forged `failed` event for a job a host still runs is dropped: no second call, the real answer settles the session', async () => {
    const r = await rig(redis, mock);
    try {
      mock.reset();
      const session = r.supervisor.chat({ provider: 'kimi', prompt: 'not failed [[mock latencyMs=1000]]', requestId: 'failed' });
      await mock.waitForRequests(1);
      // As BullMQ's moveToFinished writes it; the job itself is still active in Redis.
      await r.admin.xadd(
        stream(r),
        '*',
        'event',
        'failed',
        'jobId',
        jobOf(r, 'failed'),
        'failedReason',
        'job stalled more than allowable limit',
        'prev',
        'active',
      );
      const result = await session;
      assert.match(result.content, /not failed/);
      assert.equal(mock.totalRequests, 1, 'the session was not run again');
      const stats = r.transport.stats();
      assert.equal(stats.duplicates, 0, 'its real result was not taken for a second one');
      assert.equal(stats.lost, 0);
      assert.equal(forged(r), 1);
    } finally {
      await r.close();
    }
  });

  test('entries that are not JSON (progress data, a return value) are dropped: the producer goes on reading the stream', async () => {
    const r = await rig(redis, mock);
    try {
      mock.reset();
      const session = r.supervisor.chat({ provider: 'kimi', prompt: 'still heard [[mock latencyMs=500]]', requestId: 'garbled', timeoutMs: 5000 });
      await mock.waitForRequests(1);
      // BullMQ's own QueueEvents JSON.parses these inside its read loop: one of them ends the loop for good.
      await forgeProgress(r, jobOf(r, 'garbled'), 'not json {');
      await forgeCompleted(r, jobOf(r, 'garbled'), 'not json either {');
      await forgeProgress(r, 'someone-else.1', '{');
      const result = await session;
      assert.match(result.content, /still heard/);
      assert.equal(forged(r), 2, 'the two entries for its job are counted');
      const next = await r.supervisor.chat({ provider: 'kimi', prompt: 'and after', timeoutMs: 5000 });
      assert.match(next.content, /and after/);
    } finally {
      await r.close();
    }
  });

  test('a genuine progress message of another job (its pick-up, its deltas), replayed into a job, is dropped', async () => {
    const r = await rig(redis, mock);
    try {
      await r.supervisor.chat({ provider: 'kimi', prompt: '[[mock chunks=10 chunkDelayMs=5]] first', requestId: 'first', onDelta: () => {} });
      const copied = await entries(r, 'progress', jobOf(r, 'first'));
      assert.ok(copied.length >= 2, `the first job's pick-up and deltas (${copied.length})`);
      // The second session waits without a host: the replayed pick-up would let it go to processing.
      await r.host?.close({ timeoutMs: 1000 });
      const session = r.supervisor.chat({ provider: 'kimi', prompt: 'second', requestId: 'second' });
      await waitFor(() => r.sessions.has('second') && r.transport.stats().queued === 2, 'the second job is queued');
      for (const entry of copied) await forgeProgress(r, jobOf(r, 'second'), entry['data'] as string);
      await r.startHost();
      const result = await session;
      assert.match(result.content, /second/);
      const stats = r.transport.stats();
      assert.equal(stats.picked, 2, 'the two real pick-ups only');
      assert.equal(forged(r), copied.length, 'every replayed message is counted');
    } finally {
      await r.close();
    }
  });
});

/** Polls a condition every 10 ms, failing with `what` after 10 s. */
async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("result guard, without Redis: the order of a job's progress messages", () => {
  test('taken in increasing (run, seq) order with gaps; replays, reorders, other jobs and other queues dropped; a re-run after a stall starts over', () => {
    const signer = new ResultSigner(new JobSigner(SECRET, { prefix: 'bull', queueName: 'q' }));
    const elsewhere = new ResultSigner(new JobSigner(SECRET, { prefix: 'bull', queueName: 'other' }));
    const counts = { forged: 0 };
    const guard = new ResultGuard(signer, counts, undefined);
    const entry = { sessionId: 's' };
    const first = signer.sealer('s.1', 's', 1);
    const [m1, m2, m3, m4] = [1, 2, 3, 4].map((i) => first.seal({ events: [{ type: 'delta', sessionId: 's', text: `t${i}` }] }));
    const rerun = signer.sealer('s.1', 's', 2).seal({ picked: { host: 'h2' } });
    const take = (message: unknown, jobId = 's.1') => guard.progress(jobId, entry, message) !== undefined;
    assert.equal(take(m1), true);
    assert.equal(take(m3), true, 'a gap is taken (m2 lost)');
    assert.equal(take(m2), false, 'then m2 is a reorder');
    assert.equal(take(m3), false, 'a replay');
    assert.equal(take(rerun), true, 'the run BullMQ started again after a stall');
    assert.equal(take(m4), false, "the stalled run's later message");
    assert.equal(take(signer.sealer('s.2', 's', 1).seal({ picked: { host: 'h' } })), false, "another job's message");
    assert.equal(take(elsewhere.sealer('s.1', 's', 1).seal({ picked: { host: 'h' } })), false, "another queue's");
    assert.equal(take({ ...m1, run: 9, seq: 9 }), false, 'renumbered');
    assert.equal(counts.forged, 6);
    // A new job of the session starts its own order.
    assert.equal(take(signer.sealer('s.2', 's', 1).seal({ picked: { host: 'h' } }), 's.2'), true);
    // Results: bound to their job; a job signature is no result signature.
    const result = signer.signResult('s.1', 's', { host: 'h', crashed: 'x' });
    assert.deepEqual(guard.result('s.1', 's', result), { host: 'h', crashed: 'x' });
    assert.equal(guard.result('s.2', 's', result), undefined);
    const { sig: _sig, ...plain } = result;
    const jobSig = new JobSigner(SECRET, { prefix: 'bull', queueName: 'q' }).sign('s.1', plain);
    assert.equal(guard.result('s.1', 's', { ...plain, sig: jobSig }), undefined);
  });
});
