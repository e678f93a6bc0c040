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

test('a fallback target: its first call is a `fallback` span, the decision an event of the session span', async () => {
  const result = await h.supervisor.chat({
    provider: 'kimi',
    prompt: 'Falls back [[mock failTimes=1 status=503 key=fallback]]',
    maxRetries: 0,
    fallbacks: [{ provider: 'glm', model: 'glm-4.6' }],
  });
  assert.equal(result.provider, 'glm');
  await tracing.provider.forceFlush();
  const spans = tracing.spans();
  const session = spans.find((s) => s.attributes['sessionpool.session.id'] === result.metadata.session.sessionId);
  assert.ok(session);
  assert.ok(
    session.events.some((e) => e.name === 'sessionpool.fallback' && e.attributes?.['sessionpool.fallback.to'] === 'glm/glm-4.6'),
    'the fallback is an event',
  );
  const calls = spans.filter((s) => s.parentSpanContext?.spanId === session.spanContext().spanId);
  assert.deepEqual(
    calls.map((s) => [s.attributes['sessionpool.call.kind'], s.attributes['gen_ai.provider.name']]),
    [
      ['first', 'moonshot'],
      ['fallback', 'zhipu'],
    ],
  );
});

test('a stream: its call span marks the first chunk; a session that fails ends its span with error.type', async () => {
  let text = '';
  for await (const event of h.supervisor.stream({ provider: 'glm', prompt: 'Streamed [[mock chunks=8]]' })) if (event.type === 'delta') text += event.text;
  assert.ok(text.length > 0);
  const failed = (await h.supervisor.chat({ provider: 'openai', prompt: 'Refused [[mock status=401]]' }).catch((error: unknown) => error)) as { code: string };
  assert.equal(failed.code, 'ERR_PROVIDER');
  await tracing.provider.forceFlush();
  const spans = tracing.spans();
  const streamed = spans.find((s) => s.attributes['sessionpool.stream'] === true);
  assert.ok(streamed);
  const call = spans.find((s) => s.parentSpanContext?.spanId === streamed.spanContext().spanId);
  assert.ok(
    call?.events.some((e) => e.name === 'gen_ai.first_chunk'),
    'the first chunk is marked',
  );
  const refused = spans.find((s) => s.attributes['gen_ai.provider.name'] === 'openai' && s.attributes['sessionpool.session.id'] !== undefined);
  assert.equal(refused?.attributes['error.type'], 'ERR_PROVIDER');
  assert.equal(refused?.attributes['http.response.status_code'], 401);
  assert.equal(refused?.status.code, SpanStatusCode.ERROR);
});

test('`telemetry: false` records nothing; `recordContent` puts the messages on the span', async () => {
  const off = await harness({ supervisor: { telemetry: false } });
  const content = await harness({ supervisor: { telemetry: { recordContent: true } } });
  try {
    const quiet = await off.supervisor.chat({ provider: 'kimi', prompt: 'Not traced' });
    const said = await content.supervisor.chat({ provider: 'kimi', prompt: 'Traced with content' });
    await tracing.provider.forceFlush();
    const spans = tracing.spans();
    assert.equal(spans.filter((s) => s.attributes['sessionpool.session.id'] === quiet.metadata.session.sessionId).length, 0);
    const session = spans.find((s) => s.attributes['sessionpool.session.id'] === said.metadata.session.sessionId);
    assert.deepEqual(JSON.parse(String(session?.attributes['gen_ai.input.messages'])), [
      { role: 'user', parts: [{ type: 'text', content: 'Traced with content' }] },
    ]);
    assert.equal(JSON.parse(String(session?.attributes['gen_ai.output.messages']))[0].parts[0].content, said.content);
  } finally {
    await off.close();
    await content.close();
  }
});

test('traces are let go: after the outcome and the last run, whichever ends last (a timeout before its run ended, a crash, a refusal)', async () => {
  const { SessionTelemetry } = await import('../../src/telemetry/session-telemetry.ts');
  const telemetry = SessionTelemetry.create(true);
  assert.ok(telemetry);
  const provider = { name: 'kimi', dialect: 'kimi', baseURL: 'http://127.0.0.1:9/v1', apiKey: 'k', defaultModel: 'm' } as const;
  const call = { model: 'm', messages: [], continuation: false, stream: false, idleTimeoutMs: 1, maxResponseBytes: 1 } as const;
  const ends: Array<{ settle(): void; crash(): void }> = [];
  const inner = {
    run: (task: unknown, receiver: { settled(t: unknown, o: unknown): void; crashed(t: unknown, e: unknown): void }) =>
      ends.push({
        settle: () => receiver.settled(task, { ok: true, value: {}, attempts: 1, threadId: 1, calls: [] }),
        crash: () => receiver.crashed(task, new Error('x')),
      }),
  };
  const dispatcher = telemetry.dispatcher(inner as never, (calls) => calls);
  const none = { settled() {}, crashed() {} };
  const start = (sessionId: string) => {
    const trace = telemetry.begin({ sessionId, requestId: sessionId, provider, call: call as never });
    dispatcher.run({ kind: 'chat', sessionId, trace: trace?.traceparent, provider, call } as never, none);
  };
  start('timed-out');
  start('crashed');
  start('completed');
  assert.equal(telemetry.tracing, 3);
  telemetry.finish('timed-out', { error: { code: 'ERR_SESSION_TIMEOUT', message: 'deadline' } });
  assert.equal(telemetry.tracing, 3, 'its run has not ended: the trace waits for its call records');
  ends[0]?.settle();
  ends[1]?.crash();
  telemetry.finish('crashed', { error: { code: 'ERR_WORKER_CRASHED', message: 'crashed' } });
  ends[2]?.settle();
  telemetry.finish('completed', { error: { code: 'ERR_PROVIDER', message: 'x' } });
  telemetry.begin({ sessionId: 'refused', requestId: 'refused', provider, call: call as never });
  telemetry.finish('refused', { error: { code: 'ERR_QUEUE_FULL', message: 'full' } });
  assert.equal(telemetry.tracing, 0);
});
