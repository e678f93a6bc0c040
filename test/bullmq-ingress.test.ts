// What a worker host takes from Redis: only jobs a producer holding the job secret signed, in the
// wire schema, not run before, chat tasks only. Faults are real: jobs are written with bullmq's own
// Queue.add (no producer), worker hosts are real `sessionpool worker` processes where it matters.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { bullmq, createSupervisor, createWorker, startMockProvider, type WorkerHost } from '../src/index.ts';
import type { MockProvider } from '../src/mock/server.ts';
import { canonicalJSON } from '../src/transport/bullmq/canonical-json.ts';
import { resolveConnection } from '../src/transport/bullmq/connection.ts';
import { JobClaims } from '../src/transport/bullmq/job-claims.ts';
import { rejection } from './helpers.ts';
import { redisMissing, startRedis, startWorkerProcess, type TestRedis } from './redis-helpers.ts';

// Producers and worker hosts of this file (child processes inherit it) share this secret.
const SECRET = 'ingress-test-job-secret-0123456789abcdef';
process.env['SESSIONPOOL_JOB_SECRET'] = SECRET;
const KEY = 'sk-ingress-worker-key-0123456789';
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
let queues = 0;

/** The documented canonical form: JSON, object keys sorted, no spaces, undefined members left out. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonical(v))).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** Signs job data as a producer does (the wire format in the README), written apart from src/. */
function sign(data: Record<string, unknown>, jobId: string, queueName: string, secret = SECRET): Record<string, unknown> {
  const message = canonical(['sessionpool-job-v1', `bull:${queueName}`, jobId, data]);
  return { ...data, sig: `v1.${createHmac('sha256', secret).update(message).digest('base64url')}` };
}

function chatTask(sessionId: string, prompt = 'forged hello'): Record<string, unknown> {
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

interface JobOutcome {
  host?: string;
  outcome?: { ok: boolean; error?: { code: string; message: string } };
  crashed?: string;
}

/** bullmq's own client, as anyone who can write to Redis has it. */
class Forger {
  readonly queue: Queue;
  readonly events: QueueEvents;
  constructor(redis: TestRedis, queueName: string) {
    this.queue = new Queue(queueName, { connection: { host: '127.0.0.1', port: redis.port } });
    this.events = new QueueEvents(queueName, { connection: { host: '127.0.0.1', port: redis.port } });
  }
  async ready(): Promise<void> {
    await Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]);
  }
  /** Adds a job and waits (bounded) for what the worker host made of it. */
  async run(data: unknown, jobId: string): Promise<JobOutcome> {
    const job = await this.queue.add('chat', data as object, { jobId });
    return (await job.waitUntilFinished(this.events, 20_000)) as JobOutcome;
  }
  async close(): Promise<void> {
    await Promise.all([this.queue.close(), this.events.close()]);
  }
}

async function worker(redis: TestRedis, mock: MockProvider, queueName: string): Promise<WorkerHost> {
  const host = createWorker({
    connection: redis.url,
    queueName,
    threads: 1,
    concurrency: 4,
    logger: false,
    providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEY } },
  });
  await host.ready();
  return host;
}

describe('BullMQ ingress: what a worker host takes from Redis', { skip: redisMissing }, () => {
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

  test('a forged `execute` job (a data: URL handler), signed or not, is refused typed: the handler never runs', async () => {
    const queueName = `ingress-${++queues}`;
    const host = await worker(redis, mock, queueName);
    const forger = new Forger(redis, queueName);
    const marker = join(mkdtempSync(join(tmpdir(), 'sessionpool-ingress-')), 'ran');
    const source = `import { writeFileSync } from 'node:fs'; export default () => writeFileSync(${JSON.stringify(marker)}, 'key: ' + process.env.MOONSHOT_API_KEY);`;
    const task = {
      ...chatTask('exec-1'),
      kind: 'execute',
      handler: `data:text/javascript,${encodeURIComponent(source)}`,
      name: 'default',
      input: null,
    };
    try {
      await forger.ready();
      const data = { task, deadline: Date.now() + 10_000 };
      for (const [jobId, forged] of [
        ['exec-1.1', data],
        ['exec-1.2', sign(data, 'exec-1.2', queueName)],
      ] as const) {
        const result = await forger.run(forged, jobId);
        assert.equal(result.outcome?.ok, false, `${jobId}: refused, got ${JSON.stringify(result)}`);
        assert.equal(result.outcome?.error?.code, 'ERR_INVALID_REQUEST', JSON.stringify(result));
        assert.match(result.outcome?.error?.message ?? '', /chat/);
      }
      assert.equal(existsSync(marker), false, 'the handler never ran');
    } finally {
      await forger.close();
      await host.close({ timeoutMs: 1000 });
    }
  });

  test('unsigned, wrongly signed, tampered or re-queued chat jobs are refused with ERR_TRANSPORT; the provider is never called', async () => {
    const queueName = `ingress-${++queues}`;
    const host = await worker(redis, mock, queueName);
    const forger = new Forger(redis, queueName);
    try {
      await forger.ready();
      const before = mock.totalRequests;
      const deadline = Date.now() + 10_000;
      const signed = sign({ task: chatTask('s-2'), deadline }, 's-2.1', queueName);
      const tampered = { ...signed, task: chatTask('s-2', 'tampered: spend the key on this') };
      const cases: Array<[string, unknown, RegExp]> = [
        ['unsigned', { task: chatTask('s-1'), deadline }, /not signed/],
        ['other-secret', sign({ task: chatTask('s-1'), deadline }, 'other-secret', queueName, 'an-attacker-secret-guessed-0123456789'), /signature/],
        ['tampered', tampered, /signature/],
        // The signature names its queue: a job copied to another queue does not verify.
        ['other-queue', sign({ task: chatTask('s-1'), deadline }, 'other-queue', 'another-queue'), /signature/],
        ['id-changed', signed, /signature/],
      ];
      for (const [jobId, data, why] of cases) {
        const result = await forger.run(data, jobId);
        assert.equal(result.outcome?.ok, false, `${jobId}: ${JSON.stringify(result)}`);
        assert.equal(result.outcome?.error?.code, 'ERR_TRANSPORT', `${jobId}: ${JSON.stringify(result)}`);
        assert.match(result.outcome?.error?.message ?? '', why, jobId);
        assert.ok(!JSON.stringify(result).includes(SECRET), 'the secret is in no result');
      }
      assert.equal(mock.totalRequests, before, 'no provider call for any of them');
      const good = await forger.run(sign({ task: chatTask('s-3', 'signed hello'), deadline }, 's-3.1', queueName), 's-3.1');
      assert.equal(good.outcome?.ok, true, `a job signed with the shared secret runs: ${JSON.stringify(good)}`);
      assert.equal(mock.totalRequests, before + 1);
    } finally {
      await forger.close();
      await host.close({ timeoutMs: 1000 });
    }
  });

  test("a producer's job replayed after it ran (same id, same signed data) is refused; an expired one too; the provider was called once", async () => {
    const queueName = `ingress-${++queues}`;
    const forger = new Forger(redis, queueName);
    const supervisor = createSupervisor({ transport: bullmq({ connection: redis.url, queueName }), logger: false, retry: { maxRetries: 0 } });
    let host: WorkerHost | undefined;
    try {
      await Promise.all([forger.ready(), supervisor.ready()]);
      const waiting = once(forger.events, 'waiting') as Promise<[{ jobId: string }]>;
      const session = supervisor.chat({ provider: 'kimi', prompt: 'pay once', requestId: 'replayed' });
      const [{ jobId }] = await waiting;
      // What an attacker with Redis access copies while the job waits.
      const copy = (await forger.queue.getJob(jobId))?.data as Record<string, unknown>;
      assert.equal(typeof copy.sig, 'string', 'the producer signed its job');
      host = await worker(redis, mock, queueName);
      const before = mock.totalRequests;
      assert.match((await session).content, /pay once/);
      assert.equal(mock.totalRequests, before + 1);
      // Completing the job removed it (removeOnComplete), in the same step that sent the result.
      assert.equal(await forger.queue.getJob(jobId), undefined, 'the job is gone from Redis');
      const replay = await forger.run(copy, jobId);
      assert.equal(replay.outcome?.error?.code, 'ERR_TRANSPORT', JSON.stringify(replay));
      assert.match(replay.outcome?.error?.message ?? '', /ran already/);
      // One who can delete keys removes the claim too: the host that ran the job remembers it.
      const admin = new Redis(redis.url);
      const claims = await admin.keys(`bull:${queueName}:sessionpool:claims:*`);
      assert.ok(claims.length > 0, 'the claims are in Redis');
      await admin.del(...claims);
      admin.disconnect();
      const again = await forger.run(copy, jobId);
      assert.match(again.outcome?.error?.message ?? '', /ran already/, JSON.stringify(again));
      const stale = await forger.run(sign({ task: chatTask('s-old'), deadline: Date.now() - 1 }, 's-old.1', queueName), 's-old.1');
      assert.equal(stale.outcome?.error?.code, 'ERR_SESSION_TIMEOUT', JSON.stringify(stale));
      assert.equal(mock.totalRequests, before + 1, 'one provider call in all');
    } finally {
      await supervisor.close({ timeoutMs: 1000 });
      await forger.close();
      await host?.close({ timeoutMs: 1000 });
    }
  });

  test('malformed jobs are refused typed before any work, free their slots, and the worker process still exits on SIGTERM', async () => {
    const queueName = `ingress-${++queues}`;
    const host = await startWorkerProcess(redis.url, queueName, {
      providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEY } },
      threads: 1,
      concurrency: 2,
    });
    const forger = new Forger(redis, queueName);
    try {
      await forger.ready();
      const before = mock.totalRequests;
      const deadline = Date.now() + 10_000;
      const base = chatTask('m');
      const call = base.call as Record<string, unknown>;
      const malformed: Array<[string, unknown]> = [
        ['session id an object', { task: { ...base, sessionId: { $gt: '' } }, deadline }],
        ['no call', { task: { ...base, call: undefined }, deadline }],
        ['messages a string', { task: { ...base, call: { ...call, messages: 'hi' } }, deadline }],
        ['request id too long', { task: { ...base, requestId: 'r'.repeat(10_000) }, deadline }],
        [
          'too many messages',
          { task: { ...base, call: { ...call, messages: Array.from({ length: 10_001 }, () => ({ role: 'user', content: 'x' })) } }, deadline },
        ],
        ['unknown kind', { task: { ...base, kind: 'shell' }, deadline }],
        ['absurd deadline', { task: base, deadline: Date.now() + 10 * 365 * 86_400_000 }],
        ['deadline a string', { task: base, deadline: 'tomorrow' }],
        ['no task', { deadline }],
        ['unknown field', { task: { ...base, handler: 'data:text/javascript,' }, deadline }],
      ];
      // Signed with the right secret (a buggy producer): the schema, not the signature, refuses them.
      const results = await Promise.all(
        malformed.map(([name, data], i) => forger.run(sign(data as Record<string, unknown>, `m.${i}`, queueName), `m.${i}`).then((r) => [name, r] as const)),
      );
      for (const [name, result] of results) {
        assert.equal(result.outcome?.ok, false, `${name}: ${JSON.stringify(result).slice(0, 300)}`);
        assert.equal(result.outcome?.error?.code, 'ERR_INVALID_REQUEST', `${name}: ${JSON.stringify(result).slice(0, 300)}`);
        assert.match(result.outcome?.error?.message ?? '', /job/, name);
      }
      assert.equal(mock.totalRequests, before, 'no provider call');
      // Two slots: had any malformed job kept one, this one would wait for ever.
      const good = await forger.run(sign({ task: chatTask('m-good', 'still serving'), deadline }, 'm-good.1', queueName), 'm-good.1');
      assert.equal(good.outcome?.ok, true, JSON.stringify(good));
      const exited = once(host.child, 'exit');
      host.child.kill('SIGTERM');
      const bound = setTimeout(() => host.child.kill('SIGKILL'), 20_000);
      const [code, signal] = await exited;
      clearTimeout(bound);
      assert.deepEqual([code, signal], [0, null], 'the worker process exited on SIGTERM, on its own');
    } finally {
      await forger.close();
      await host.kill();
    }
  });

  test("every field a producer's request can carry passes the worker host's wire schema", async () => {
    const queueName = `ingress-${++queues}`;
    const host = await worker(redis, mock, queueName);
    const supervisor = createSupervisor({ transport: bullmq({ connection: redis.url, queueName }), logger: false });
    try {
      await supervisor.ready();
      const result = await supervisor.chat({
        provider: 'kimi',
        model: 'kimi-k2-turbo-preview',
        systemPrompt: 'be brief',
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'part one' }] },
          { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'c1', content: 'tool said' },
        ],
        prompt: 'every field',
        temperature: 0.3,
        maxOutputTokens: 100,
        topP: 0.9,
        stop: ['END'],
        seed: 7,
        user: 'u-1',
        logitBias: { '42': 1 },
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } } as { type: string }],
        toolChoice: 'auto',
        continuation: { maxAttempts: 2, maxTotalTokens: 1000 },
        cache: { id: 'cache-1', resetTtlSeconds: 60 },
        idleTimeoutMs: 30_000,
        maxResponseBytes: 1 << 20,
        maxRetries: 1,
        headers: { 'x-trace': 'abc' },
        extra: { thinking: { type: 'disabled' } },
        timeoutMs: 30_000,
        metadata: { mine: true },
      });
      assert.match(result.content, /every field/);
      const streamed: string[] = [];
      for await (const event of supervisor.stream({ provider: 'kimi', prompt: 'streamed through the schema' }))
        if (event.type === 'delta') streamed.push(event.text);
      assert.match(streamed.join(''), /streamed through the schema/);
    } finally {
      await supervisor.close({ timeoutMs: 1000 });
      await host.close({ timeoutMs: 1000 });
    }
  });

  test('execute across hosts: a host runs an execute session only when its handler is a module the host allowed', async () => {
    const handlers = new URL('./fixtures/handlers.ts', import.meta.url);
    const queueName = `ingress-${++queues}`;
    const supervisor = createSupervisor({ transport: bullmq({ connection: redis.url, queueName }), logger: false });
    const forger = new Forger(redis, queueName);
    const allowing = createWorker({ connection: redis.url, queueName, threads: 1, logger: false, handlers: [handlers] });
    try {
      await Promise.all([supervisor.ready(), forger.ready(), allowing.ready()]);
      const result = await supervisor.execute<{ doubled: number }>({ handler: handlers, name: 'double', input: { n: 21 } });
      assert.deepEqual(result.output, { doubled: 42 });
      assert.equal(result.metadata.session.host, allowing.host);
      const other = new URL('./fixtures/use-and-close.ts', import.meta.url);
      const refused = await rejection(supervisor.execute({ handler: other, input: null }));
      assert.equal(refused.code, 'ERR_INVALID_REQUEST');
      assert.match(refused.message, /does not allow/);
      const notJSON = await rejection(supervisor.execute({ handler: handlers, name: 'double', input: new Map([[1, 2]]) }));
      assert.equal(notJSON.code, 'ERR_INVALID_REQUEST', 'input crosses Redis as JSON');
      const marker = join(mkdtempSync(join(tmpdir(), 'sessionpool-ingress-')), 'ran');
      const source = `import { writeFileSync } from 'node:fs'; export default () => writeFileSync(${JSON.stringify(marker)}, 'ran');`;
      const task = {
        kind: 'execute',
        sessionId: 'x-1',
        requestId: 'x-1',
        run: 1,
        handler: `data:text/javascript,${encodeURIComponent(source)}`,
        name: 'default',
        input: null,
      };
      const forged = await forger.run(sign({ task, deadline: Date.now() + 10_000 }, 'x-1.1', queueName), 'x-1.1');
      assert.equal(forged.outcome?.error?.code, 'ERR_INVALID_REQUEST', JSON.stringify(forged));
      assert.equal(existsSync(marker), false, 'a signed job naming a module the host did not allow never runs');
      await allowing.close({ timeoutMs: 1000 });
      const chatOnly = await worker(redis, mock, queueName);
      try {
        const error = await rejection(supervisor.execute({ handler: handlers, name: 'double', input: { n: 1 } }));
        assert.equal(error.code, 'ERR_INVALID_REQUEST');
        assert.match(error.message, /chat tasks only/);
      } finally {
        await chatOnly.close({ timeoutMs: 1000 });
      }
      assert.throws(() => createWorker({ connection: redis.url, logger: false, handlers: ['data:text/javascript,export default 1'] }), /handlers\[0\].*file/);
    } finally {
      await supervisor.close({ timeoutMs: 1000 });
      await forger.close();
      await allowing.close({ timeoutMs: 1000 });
    }
  });

  test('bullmq() and createWorker() need a job secret of 32 characters or more, never echo it, and it never reaches Redis', async () => {
    const saved = process.env['SESSIONPOOL_JOB_SECRET'];
    delete process.env['SESSIONPOOL_JOB_SECRET'];
    try {
      for (const build of [() => bullmq({ connection: redis.url }), () => createWorker({ connection: redis.url, logger: false })]) {
        assert.throws(
          build,
          (e: { code?: string; message: string }) =>
            e.code === 'ERR_INVALID_REQUEST' && /jobSecret/.test(e.message) && /SESSIONPOOL_JOB_SECRET/.test(e.message),
        );
      }
      const short = 'short-secret-42';
      const error = (() => {
        try {
          bullmq({ connection: redis.url, jobSecret: short });
        } catch (e) {
          return e as Error & { code: string };
        }
      })();
      assert.equal(error?.code, 'ERR_INVALID_REQUEST');
      assert.match(error?.message ?? '', /at least 32 characters/);
      assert.ok(!error?.message.includes(short), 'the secret is not echoed');
      process.env['SESSIONPOOL_JOB_SECRET'] = short;
      assert.throws(() => createWorker({ connection: redis.url, logger: false }), /SESSIONPOOL_JOB_SECRET.*at least 32 characters/);
    } finally {
      process.env['SESSIONPOOL_JOB_SECRET'] = saved;
    }
    const queueName = `ingress-${++queues}`;
    const base = new Redis(redis.url);
    const monitor = await base.monitor();
    const commands: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => commands.push(args.join(' ')));
    const host = await worker(redis, mock, queueName);
    const supervisor = createSupervisor({ transport: bullmq({ connection: redis.url, queueName }), logger: false });
    try {
      await supervisor.ready();
      const result = await supervisor.chat({ provider: 'kimi', prompt: 'where is the secret?' });
      assert.match(result.content, /where is the secret/);
      const failed = await rejection(supervisor.chat({ provider: 'kimi', prompt: '[[mock status=401]]' }));
      assert.ok(!JSON.stringify(result).includes(SECRET) && !String(failed.message).includes(SECRET));
      assert.ok(
        commands.some((c) => c.includes('where is the secret?')),
        'the monitor saw the session',
      );
      assert.ok(!commands.some((c) => c.includes(SECRET)), 'the job secret is in no Redis command');
    } finally {
      monitor.disconnect();
      base.disconnect();
      await supervisor.close({ timeoutMs: 1000 });
      await host.close({ timeoutMs: 1000 });
    }
  });
});

describe('BullMQ ingress: the parts', { skip: redisMissing }, () => {
  test('claims: a job may start twice (BullMQ re-runs it once after its host died), never a third time, never after it finished', async () => {
    const redis = await startRedis();
    const [a, b] = await Promise.all(['host-a', 'host-b'].map((host) => JobClaims.open(resolveConnection(redis.url), 'bull', 'claims', host)));
    try {
      assert.ok(a !== undefined && b !== undefined);
      const deadline = Date.now() + 60_000.5;
      assert.deepEqual(await a.claim('j.1', deadline), { ok: true }, 'the first start');
      assert.deepEqual(await b.claim('j.1', deadline), { ok: true }, 'the re-run after a stall, on another host');
      assert.deepEqual(await a.claim('j.1', deadline), { ok: false, why: 'started', starts: 2 }, 'no third start');
      assert.deepEqual(await a.claim('j.2', deadline), { ok: true });
      await b.finished('j.2', deadline);
      assert.deepEqual(await a.claim('j.2', deadline), { ok: false, why: 'ran' }, 'finished on another host: Redis says so');
      const admin = new Redis(redis.url);
      const ttl = await admin.pttl('bull:claims:sessionpool:claims:j.2');
      assert.ok(ttl > 60_000 && ttl <= 60_000 + 10 * 60_000 + 1000, `the claim lapses after the deadline (${ttl} ms)`);
      await admin.flushall();
      admin.disconnect();
      assert.deepEqual(await b.claim('j.2', deadline), { ok: false, why: 'ran' }, 'Redis forgot; the host that finished it did not');
    } finally {
      a?.close();
      b?.close();
      await redis.stop();
    }
  });
});

test('canonical JSON: a value and its JSON round trip have one form, whatever the key order', () => {
  const value = {
    b: [1, undefined, () => 1, -0, Number.NaN, 'a\u2028\ud800'],
    a: { z: new Date(0), y: undefined, x: { '': null, __proto__x: true } },
    é: 1e21,
  };
  const reordered = { é: 1e21, a: { x: { __proto__x: true, '': null }, z: new Date(0) }, b: value.b };
  const form = canonicalJSON(value);
  assert.equal(form, canonicalJSON(JSON.parse(JSON.stringify(value))));
  assert.equal(form, canonicalJSON(reordered));
  assert.equal(form, '{"a":{"x":{"":null,"__proto__x":true},"z":"1970-01-01T00:00:00.000Z"},"b":[1,null,null,0,null,"a\u2028\\ud800"],"é":1e+21}');
  assert.equal(form, canonical(JSON.parse(JSON.stringify(value))), "the test's own reading of the format agrees");
  let deep: unknown = 1;
  for (let i = 0; i < 300; i++) deep = [deep];
  assert.throws(() => canonicalJSON(deep), /nested at most 256/);
});

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `sessionpool worker` with these arguments and environment, until it exits on its own (bounded). */
async function workerCommand(args: string[], env: Record<string, string | undefined>, boundMs = 30_000): Promise<Exit> {
  const child = spawn(process.execPath, [MAIN, 'worker', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const bound = setTimeout(() => child.kill('SIGKILL'), boundMs);
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(bound);
  assert.equal(signal, null, `sessionpool worker ${args.join(' ')} did not exit within ${boundMs} ms; stderr: ${stderr}`);
  return { code, stdout, stderr };
}

describe('sessionpool worker: credentials and fatal errors', { skip: redisMissing }, () => {
  const password = 'redis-pass/with:odd@chars-7f1c';
  let guarded: TestRedis;
  let dir: string;
  before(async () => {
    guarded = await startRedis({ password });
    dir = mkdtempSync(join(tmpdir(), 'sessionpool-credentials-'));
  });
  after(async () => {
    await guarded?.stop();
  });

  test('a wrong Redis password: exits non-zero at once with one line, no stack, no password', async () => {
    const wrong = `wrong-${password}`;
    const { code, stderr } = await workerCommand(['--redis', `redis://127.0.0.1:${guarded.port}`], { REDIS_PASSWORD: wrong });
    const lines = stderr.trim().split('\n');
    assert.notEqual(code, 0);
    assert.equal(lines.length, 1, `one line, got:\n${stderr}`);
    assert.match(lines[0] ?? '', /^sessionpool worker: .*Redis/);
    assert.ok(!stderr.includes(wrong) && !stderr.includes(encodeURIComponent(wrong)), stderr);
    assert.ok(!/\n\s+at /.test(stderr), 'no stack');
  });

  test('no job secret: exits 2 with one line naming SESSIONPOOL_JOB_SECRET and --job-secret-file', async () => {
    const { code, stderr } = await workerCommand(['--redis', `redis://127.0.0.1:${guarded.port}`], { SESSIONPOOL_JOB_SECRET: undefined });
    assert.equal(code, 2, stderr);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr, /SESSIONPOOL_JOB_SECRET/);
    assert.match(stderr, /--job-secret-file/);
  });

  test('the Redis password and the job secret come from files (or REDIS_PASSWORD), never the command line; sessions run', async () => {
    const passwordFile = join(dir, 'redis-password');
    const secretFile = join(dir, 'job-secret');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    const mock = await startMockProvider({ apiKey: KEY });
    const queueName = `creds-${++queues}`;
    const config = { providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEY } }, threads: 1 };
    const saved = process.env['SESSIONPOOL_JOB_SECRET'];
    // The worker process gets the secret from its file only.
    delete process.env['SESSIONPOOL_JOB_SECRET'];
    const fromFiles = await startWorkerProcess(`redis://127.0.0.1:${guarded.port}`, queueName, config, [
      '--redis-password-file',
      passwordFile,
      '--job-secret-file',
      secretFile,
    ]).finally(() => {
      process.env['SESSIONPOOL_JOB_SECRET'] = saved;
    });
    const supervisor = createSupervisor({ transport: bullmq({ connection: guarded.url, queueName, jobSecret: SECRET }), logger: false });
    try {
      assert.ok(!fromFiles.child.spawnargs.some((a) => a.includes(password) || a.includes(SECRET)), 'no secret on the command line');
      await supervisor.ready();
      const result = await supervisor.chat({ provider: 'kimi', prompt: 'credentials from files' });
      assert.equal(result.metadata.session.host, fromFiles.host);
      await fromFiles.kill('SIGTERM');
      const fromEnv = spawn(process.execPath, [MAIN, 'worker', '--redis', `redis://127.0.0.1:${guarded.port}`, '--queue', queueName], {
        env: { ...process.env, REDIS_PASSWORD: password },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const [line] = (await once(fromEnv.stdout.setEncoding('utf8'), 'data')) as [string];
      assert.match(line, /taking sessions/, 'REDIS_PASSWORD is read');
      fromEnv.kill('SIGTERM');
      assert.deepEqual(await once(fromEnv, 'exit'), [0, null]);
    } finally {
      await supervisor.close({ timeoutMs: 1000 });
      await fromFiles.kill();
      await mock.close();
    }
  });
});
