// What a worker host takes from Redis: only jobs a producer holding the job secret signed, in the
// wire schema, not run before, chat tasks only. Faults are real: jobs are written with bullmq's own
// Queue.add (no producer), worker hosts are real `sessionpool worker` processes where it matters.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { bullmq, createSupervisor, startMockProvider, type WorkerHost } from '../../src/index.ts';
import type { MockProvider } from '../../src/apps/mock/server.ts';
import { chatTask, FORGED_PRODUCER, Forger, sign, worker } from './bullmq-forge.ts';
import { redisMissing, startRedis, startWorkerProcess, type TestRedis } from '../support/redis-helpers.ts';

// Producers and worker hosts of this file (child processes inherit it) share this secret.
const SECRET = 'ingress-test-job-secret-0123456789abcdef';
process.env['SESSIONPOOL_JOB_SECRET'] = SECRET;
const KEY = 'sk-ingress-worker-key-0123456789';
let queues = 0;

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
    const host = await worker(redis, mock, queueName, KEY);
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
    const host = await worker(redis, mock, queueName, KEY);
    const forger = new Forger(redis, queueName);
    try {
      await forger.ready();
      const before = mock.totalRequests;
      const deadline = Date.now() + 10_000;
      const signed = sign({ task: chatTask('s-2'), deadline }, 's-2.1', queueName);
      const tampered = { ...signed, task: chatTask('s-2', 'tampered: spend the key on this') };
      const cases: Array<[string, unknown, RegExp]> = [
        ['unsigned', { task: chatTask('s-1'), deadline, producer: FORGED_PRODUCER }, /not signed/],
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
      host = await worker(redis, mock, queueName, KEY);
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
});
