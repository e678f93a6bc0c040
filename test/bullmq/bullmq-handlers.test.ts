// Through the BullMQ transport, what producers send passes the worker host's ingress: every request
// field, execute sessions for the handler modules a host allows (and no other), and the job secret
// both ends need, which never reaches Redis.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { bullmq, createSupervisor, createWorker, startMockProvider } from '../../src/index.ts';
import type { MockProvider } from '../../src/apps/mock/server.ts';
import { rejection } from '../support/helpers.ts';
import { Forger, sign, worker } from './bullmq-forge.ts';
import { redisMissing, startRedis, type TestRedis } from '../support/redis-helpers.ts';

// Producers and worker hosts of this file (child processes inherit it) share this secret.
const SECRET = 'handlers-test-job-secret-0123456789abcdef';
process.env['SESSIONPOOL_JOB_SECRET'] = SECRET;
const KEY = 'sk-handlers-worker-key-0123456789';
let queues = 0;

describe('BullMQ ingress: what producers send, and the job secret', { skip: redisMissing }, () => {
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

  test("every field a producer's request can carry passes the worker host's wire schema", async () => {
    const queueName = `handlers-${++queues}`;
    const host = await worker(redis, mock, queueName, KEY);
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
      // A JSON schema answer, the re-asks it may take and the caller's query parameters travel too.
      const city = {
        type: 'json_schema' as const,
        json_schema: {
          name: 'city',
          strict: true,
          schema: {
            type: 'object',
            properties: { city: { type: 'string' }, population: { type: 'integer' } },
            required: ['city', 'population'],
            additionalProperties: false,
          },
        },
      };
      const structured = await supervisor.chat({ provider: 'kimi', prompt: 'a city', responseFormat: city, structuredRetries: 1, query: { tag: 'bull' } });
      assert.deepEqual(structured.parsed, { city: 'mock', population: 1 });
      assert.deepEqual(mock.requests.at(-1)?.query, { tag: 'bull' });
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
    const handlers = new URL('../fixtures/handlers.ts', import.meta.url);
    const queueName = `handlers-${++queues}`;
    const supervisor = createSupervisor({ transport: bullmq({ connection: redis.url, queueName }), logger: false });
    const forger = new Forger(redis, queueName);
    const allowing = createWorker({ connection: redis.url, queueName, threads: 1, logger: false, handlers: [handlers] });
    try {
      await Promise.all([supervisor.ready(), forger.ready(), allowing.ready()]);
      const result = await supervisor.execute<{ doubled: number }>({ handler: handlers, name: 'double', input: { n: 21 } });
      assert.deepEqual(result.output, { doubled: 42 });
      assert.equal(result.metadata.session.host, allowing.host);
      const other = new URL('../fixtures/use-and-close.ts', import.meta.url);
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
      const chatOnly = await worker(redis, mock, queueName, KEY);
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
    const queueName = `handlers-${++queues}`;
    const base = new Redis(redis.url);
    const monitor = await base.monitor();
    const commands: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => commands.push(args.join(' ')));
    const host = await worker(redis, mock, queueName, KEY);
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
