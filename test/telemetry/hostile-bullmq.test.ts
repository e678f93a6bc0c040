// A worker host's own tracer provider is its host's code: one that throws when the host's
// `sessionpool.job` span starts or ends must not fail the job, nor make a call that answered look
// like a crashed run (which the producer would run again: a second provider call).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { bullmq, createSupervisor, createWorker, startMockProvider } from '../../src/index.ts';
import type { MockProvider } from '../../src/apps/mock/server.ts';
import { redisMissing, startRedis, type TestRedis } from '../support/redis-helpers.ts';
import { registerTracing } from './otel-setup.ts';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

process.env['SESSIONPOOL_JOB_SECRET'] ??= 'test-job-secret-shared-by-producer-and-hosts';
const KEY = 'sk-worker-only-key-0123456789';

/** Spans that record; the worker host's `sessionpool.job` span throws in `method`. */
function jobSpanThrows(method: 'end' | 'startSpan') {
  const thrown: string[] = [];
  const tracer = {
    startSpan(name: string) {
      if (name === 'sessionpool.job' && method === 'startSpan') {
        thrown.push(name);
        throw new Error('the worker host tracer failed in startSpan');
      }
      const context = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: 1 };
      const span = {
        spanContext: () => context,
        setAttribute: () => span,
        setAttributes: () => span,
        addEvent: () => span,
        setStatus: () => span,
        updateName: () => span,
        isRecording: () => true,
        recordException: () => {},
        end: () => {
          if (name === 'sessionpool.job' && method === 'end') {
            thrown.push(name);
            throw new Error('the worker host tracer failed in end');
          }
        },
      };
      return span;
    },
  };
  return { provider: { getTracer: () => tracer }, thrown };
}

describe('a worker host whose tracer throws', { skip: redisMissing }, () => {
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

  for (const method of ['end', 'startSpan'] as const) {
    test(`in ${method} of its sessionpool.job span: the job completes once, one provider call`, async () => {
      const hostile = jobSpanThrows(method);
      trace.setGlobalTracerProvider(hostile.provider as never);
      const queueName = `hostile${method}${process.pid}`;
      const worker = createWorker({
        connection: redis.url,
        queueName,
        threads: 1,
        logger: false,
        providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEY } },
      });
      const supervisor = createSupervisor({ transport: bullmq({ connection: redis.url, queueName }), logger: false });
      try {
        await Promise.all([worker.ready(), supervisor.ready()]);
        const before = mock.totalRequests;
        const result = await supervisor.chat({ provider: 'kimi', prompt: `Once [[mock key=hostile-${method}]]`, timeoutMs: 30_000 });
        assert.equal(result.finishReason, 'stop');
        assert.ok(hostile.thrown.length > 0, 'the host tracer did throw');
        assert.equal(mock.totalRequests - before, 1, 'one provider call: the session did not run twice');
        assert.equal(supervisor.stats().crashed, 0, 'no run counted as crashed');
      } finally {
        await supervisor.close({ timeoutMs: 2000 });
        await worker.close();
        trace.disable();
      }
    });
  }
});

describe('a provider that echoes a worker host key into its response id and model', { skip: redisMissing }, () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  test('the key (known to the worker host only) reaches no span of the producer', async () => {
    const key = 'sk-echoed-worker-key-0123456789';
    const evil = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const echoed = String(request.headers.authorization ?? '');
        response.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id: `chatcmpl-${echoed}`,
            object: 'chat.completion',
            model: `gpt-4o-mini ${echoed}`,
            choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
          }),
        );
      });
    });
    evil.listen(0, '127.0.0.1');
    await once(evil, 'listening');
    const baseURL = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/v1`;
    const tracing = registerTracing();
    const queueName = `echo${process.pid}`;
    const worker = createWorker({ connection: redis.url, queueName, threads: 1, logger: false, providers: { openai: { baseURL, apiKey: key } } });
    const supervisor = createSupervisor({ transport: bullmq({ connection: redis.url, queueName }), logger: false });
    try {
      await Promise.all([worker.ready(), supervisor.ready()]);
      const result = await supervisor.chat({ provider: 'openai', model: 'gpt-4o-mini', prompt: 'Echo', timeoutMs: 30_000 });
      assert.ok(!JSON.stringify(result).includes(key), 'the result is scrubbed');
      await tracing.provider.forceFlush();
      const spans = tracing.spans();
      assert.ok(spans.length >= 2, 'the session span and its call span');
      const seen = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })));
      assert.ok(!seen.includes(key), `the worker host's key is in a span: ${seen.slice(seen.indexOf(key) - 80, seen.indexOf(key) + 40)}`);
    } finally {
      await supervisor.close({ timeoutMs: 2000 });
      await worker.close();
      await tracing.close();
      evil.close();
    }
  });
});
