// Traces across the BullMQ transport: the producer's host sees the session span under its own span
// and a child span per provider call (built from the records the job returns), although the calls
// ran on a worker host; the job carries the session span's traceparent, and a worker host with a
// tracer provider parents its `sessionpool.job` span on it. The job schema refuses any other `trace`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SpanKind, trace } from '@opentelemetry/api';
import { bullmq, createSupervisor, createWorker, startMockProvider } from '../../src/index.ts';
import type { MockProvider } from '../../src/apps/mock/server.ts';
import { parseJobData } from '../../src/transport/bullmq/job-schema.ts';
import { redisMissing, startRedis, type TestRedis } from '../support/redis-helpers.ts';
import { printTree, registerTracing, type Tracing } from './otel-setup.ts';

process.env['SESSIONPOOL_JOB_SECRET'] ??= 'test-job-secret-shared-by-producer-and-hosts';
const KEY = 'sk-worker-only-key-0123456789';

describe('traces across BullMQ', { skip: redisMissing }, () => {
  let redis: TestRedis;
  let mock: MockProvider;
  let tracing: Tracing;
  before(async () => {
    tracing = registerTracing();
    redis = await startRedis();
    mock = await startMockProvider({ apiKey: KEY });
  });
  after(async () => {
    await mock?.close();
    await redis?.stop();
    await tracing?.close();
  });

  test('one session span under the caller span, a span per provider call, the worker host span under the session span', async () => {
    const queueName = `otel${process.pid}`;
    const worker = createWorker({
      connection: redis.url,
      queueName,
      threads: 1,
      logger: false,
      providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEY } },
    });
    const supervisor = createSupervisor({ transport: bullmq({ connection: redis.url, queueName }), logger: false, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    try {
      await Promise.all([worker.ready(), supervisor.ready()]);
      const result = await trace.getTracer('host').startActiveSpan('host request', async (span) => {
        try {
          return await supervisor.chat({ provider: 'kimi', prompt: 'Across hosts [[mock failTimes=1 status=503 key=bullmq-traced lengthRounds=1]]' });
        } finally {
          span.end();
        }
      });
      await tracing.provider.forceFlush();
      const spans = tracing.spans();
      console.log(printTree(spans, ['gen_ai.provider.name', 'gen_ai.response.finish_reasons', 'error.type', 'sessionpool.call.kind', 'sessionpool.host']));
      const host = spans.find((s) => s.name === 'host request');
      const session = spans.find((s) => s.attributes['sessionpool.session.id'] === result.metadata.session.sessionId && s.name.startsWith('chat '));
      assert.ok(host && session);
      assert.equal(session.parentSpanContext?.spanId, host.spanContext().spanId);
      assert.equal(session.kind, SpanKind.CLIENT);
      assert.equal(session.attributes['gen_ai.provider.name'], 'moonshot');
      const children = spans.filter((s) => s.parentSpanContext?.spanId === session.spanContext().spanId);
      const calls = children.filter((s) => s.name.startsWith('chat '));
      assert.deepEqual(
        calls.map((s) => s.attributes['sessionpool.call.kind']),
        ['first', 'retry', 'continuation'],
      );
      assert.equal(calls[0]?.attributes['error.type'], '503');
      const job = children.find((s) => s.name === 'sessionpool.job');
      assert.ok(job, "the worker host's span is a child of the session span (the traceparent travelled in the job)");
      assert.equal(job.kind, SpanKind.CONSUMER);
      assert.equal(job.spanContext().traceId, host.spanContext().traceId);
    } finally {
      await supervisor.close({ timeoutMs: 1000 });
      await worker.close({ timeoutMs: 1000 });
    }
  });
});

test('the job schema takes a W3C traceparent in `task.trace` and refuses anything else', () => {
  const job = (trace: unknown) => ({
    task: {
      kind: 'chat',
      sessionId: 's1',
      requestId: 'r1',
      run: 1,
      provider: 'kimi',
      call: { model: 'm', messages: [{ role: 'user', content: 'hi' }], continuation: false, stream: false, idleTimeoutMs: 1000, maxResponseBytes: 1000 },
      retry: { maxRetries: 0, baseDelayMs: 0, maxDelayMs: 0 },
      ...(trace === undefined ? {} : { trace }),
    },
    deadline: Date.now() + 1000,
    producer: 'p1',
  });
  const none = new Set<string>();
  assert.equal(parseJobData(job(undefined), Date.now(), none).ok, true);
  assert.equal(parseJobData(job('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'), Date.now(), none).ok, true);
  for (const hostile of [
    'x'.repeat(10_000),
    '00-00000000000000000000000000000000-b7ad6b7169203331-01',
    '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01',
    42,
    { a: 1 },
  ]) {
    const parsed = parseJobData(job(hostile), Date.now(), none);
    assert.equal(parsed.ok, false, `refused: ${JSON.stringify(hostile).slice(0, 40)}`);
    if (!parsed.ok) assert.match(parsed.issues.join(' '), /task\.trace/);
  }
});
