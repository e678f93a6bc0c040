// Traces on one host: a host that registers a tracer provider sees, for a chat session with a retry
// and a continuation, one session span under its own span with the GenAI conventions' attributes,
// and one child span per provider call, although the calls ran on a worker thread.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { harness, type Harness } from '../support/helpers.ts';
import { printTree, registerTracing, type Tracing } from './otel-setup.ts';

let tracing: Tracing;
let h: Harness;

before(async () => {
  tracing = registerTracing();
  h = await harness();
});

after(async () => {
  await h.close();
  await tracing.close();
});

const KEYS = [
  'gen_ai.operation.name',
  'gen_ai.provider.name',
  'gen_ai.request.model',
  'gen_ai.response.model',
  'gen_ai.response.id',
  'gen_ai.response.finish_reasons',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'server.address',
  'error.type',
  'http.response.status_code',
  'sessionpool.call.kind',
  'sessionpool.cost.amount',
];

test('a session span under the caller span, a child span per provider call (retry, continuation)', async () => {
  const tracer = trace.getTracer('host');
  const result = await tracer.startActiveSpan('host request', async (span) => {
    try {
      return await h.supervisor.chat({
        provider: 'kimi',
        temperature: 0.3,
        maxOutputTokens: 64,
        prompt: 'Traced [[mock failTimes=1 status=500 key=traced lengthRounds=1]]',
      });
    } finally {
      span.end();
    }
  });
  assert.equal(result.metadata.continuation?.attempts, 2);
  await tracing.provider.forceFlush();
  const spans = tracing.spans();
  console.log(printTree(spans, KEYS));

  const host = spans.find((s) => s.name === 'host request');
  const session = spans.find((s) => s.attributes['sessionpool.session.id'] === result.metadata.session.sessionId);
  assert.ok(host && session, 'the host span and the session span were exported');
  assert.equal(session.parentSpanContext?.spanId, host.spanContext().spanId, 'the caller span is the parent');
  assert.equal(session.spanContext().traceId, host.spanContext().traceId);
  assert.equal(session.name, `chat ${result.model}`);
  assert.equal(session.kind, SpanKind.CLIENT);
  assert.equal(session.attributes['gen_ai.operation.name'], 'chat');
  assert.equal(session.attributes['gen_ai.provider.name'], 'moonshot');
  assert.equal(session.attributes['gen_ai.request.model'], 'moonshot-v1-8k');
  assert.equal(session.attributes['gen_ai.request.temperature'], 0.3);
  assert.equal(session.attributes['gen_ai.request.max_tokens'], 64);
  assert.equal(session.attributes['gen_ai.response.model'], result.model);
  assert.equal(session.attributes['gen_ai.response.id'], result.id);
  assert.deepEqual(session.attributes['gen_ai.response.finish_reasons'], ['stop']);
  assert.equal(session.attributes['gen_ai.usage.input_tokens'], result.usage.promptTokens);
  assert.equal(session.attributes['gen_ai.usage.output_tokens'], result.usage.completionTokens);
  assert.equal(session.attributes['server.address'], '127.0.0.1');
  assert.equal(session.attributes['gen_ai.input.messages'], undefined, 'no content unless asked');

  const calls = spans.filter((s) => s.parentSpanContext?.spanId === session.spanContext().spanId);
  assert.deepEqual(
    calls.map((s) => s.attributes['sessionpool.call.kind']),
    ['first', 'retry', 'continuation'],
  );
  const [failed, retried, continued] = calls;
  assert.equal(failed?.attributes['http.response.status_code'], 500);
  assert.equal(failed?.attributes['error.type'], '500');
  assert.equal(failed?.status.code, SpanStatusCode.ERROR);
  assert.deepEqual(retried?.attributes['gen_ai.response.finish_reasons'], ['length']);
  assert.deepEqual(continued?.attributes['gen_ai.response.finish_reasons'], ['stop']);
  for (const call of calls) {
    assert.equal(call.kind, SpanKind.CLIENT);
    assert.equal(call.name, 'chat moonshot-v1-8k');
    assert.ok(hrMs(call.startTime) >= hrMs(session.startTime) - 1, 'a call starts within its session');
    assert.ok(hrMs(call.endTime) <= hrMs(session.endTime) + 1, 'and ends within it');
  }
  assert.equal(
    (retried?.attributes['gen_ai.usage.output_tokens'] as number) + (continued?.attributes['gen_ai.usage.output_tokens'] as number),
    result.usage.completionTokens,
  );
});

const hrMs = (time: [number, number]) => time[0] * 1000 + time[1] / 1e6;
