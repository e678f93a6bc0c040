// A host's tracer provider is a callback like any other: one that throws (in startSpan, setAttributes,
// addEvent, setStatus, end) must not break a session. The session still ends exactly once, with its own
// result or typed error, and the supervisor keeps nothing behind for it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { metrics, trace } from '@opentelemetry/api';
import { harness } from '../support/helpers.ts';

type Method = 'startSpan' | 'setAttribute' | 'setAttributes' | 'addEvent' | 'setStatus' | 'end';

/** A tracer provider whose spans record, and whose `failing` methods throw (for spans whose name passes `which`). */
function hostileProvider(failing: Method, which: (spanIndex: number) => boolean = () => true) {
  let spans = 0;
  const thrown: Method[] = [];
  const maybe = (method: Method, index: number) => {
    if (method === failing && which(index)) {
      thrown.push(method);
      throw new Error(`the host's tracer failed in ${method}`);
    }
  };
  const makeSpan = (index: number) => {
    const context = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: 1 };
    const span = {
      spanContext: () => context,
      setAttribute: () => (maybe('setAttribute', index), span),
      setAttributes: () => (maybe('setAttributes', index), span),
      addEvent: () => (maybe('addEvent', index), span),
      addLink: () => span,
      addLinks: () => span,
      setStatus: () => (maybe('setStatus', index), span),
      updateName: () => span,
      end: () => maybe('end', index),
      isRecording: () => true,
      recordException: () => {},
    };
    return span;
  };
  const tracer = {
    startSpan: () => {
      const index = spans++;
      maybe('startSpan', index);
      return makeSpan(index);
    },
    startActiveSpan: () => {
      throw new Error('not used');
    },
  };
  return { provider: { getTracer: () => tracer }, thrown, spans: () => spans };
}

for (const [failing, which, label] of [
  ['startSpan', (i: number) => i === 0, 'the session span'],
  ['startSpan', (i: number) => i > 0, 'a call span'],
  ['setAttributes', () => true, 'every span'],
  ['end', (i: number) => i === 0, 'the session span'],
  ['end', (i: number) => i > 0, 'a call span'],
  ['setStatus', () => true, 'every span'],
] as const) {
  test(`a tracer that throws in ${failing} (${label}) breaks no session: each ends once with its own outcome`, async () => {
    const hostile = hostileProvider(failing, which);
    trace.setGlobalTracerProvider(hostile.provider as never);
    const h = await harness();
    try {
      const ok = await h.supervisor.chat({
        provider: 'kimi',
        prompt: `Hello [[mock failTimes=1 status=500 lengthRounds=1 key=${failing}-${label}]]`,
        timeoutMs: 20_000,
      });
      assert.equal(ok.finishReason, 'stop');
      assert.equal(ok.metadata.continuation?.attempts, 2);
      const failed = await h.supervisor.chat({ provider: 'kimi', prompt: 'No [[mock failTimes=5 status=400]]', maxRetries: 0, timeoutMs: 20_000 }).then(
        () => assert.fail('expected a failure'),
        (error: { code: string }) => error,
      );
      assert.equal(failed.code, 'ERR_PROVIDER', `the session's own error, not the tracer's: ${String(failed)}`);
      assert.ok(hostile.thrown.length > 0, 'the tracer did throw');
      const released = h.transitions.filter((t) => t.to === 'released').length;
      assert.equal(released, 2, 'each session released once');
      assert.equal(h.supervisor.stats().completed, 1);
      assert.equal(h.supervisor.stats().failed, 1);
    } finally {
      await h.close();
      trace.disable();
    }
  });
}

test('a tracer that throws in addEvent (a fallback event) breaks no session', async () => {
  const hostile = hostileProvider('addEvent');
  trace.setGlobalTracerProvider(hostile.provider as never);
  const h = await harness();
  try {
    const result = await h.supervisor.chat({
      provider: 'kimi',
      prompt: 'Falls back [[mock failTimes=1 status=503 key=hostile-fallback]]',
      maxRetries: 0,
      fallbacks: [{ provider: 'glm', model: 'glm-4.6' }],
      timeoutMs: 20_000,
    });
    assert.equal(result.provider, 'glm');
    assert.ok(hostile.thrown.length > 0, 'the tracer did throw');
  } finally {
    await h.close();
    trace.disable();
  }
});

for (const where of ['getMeter', 'record'] as const) {
  test(`a meter provider that throws in ${where} breaks no session`, async () => {
    let thrown = 0;
    const fail = () => {
      thrown++;
      throw new Error(`the host's meter failed in ${where}`);
    };
    const histogram = { record: () => (where === 'record' ? fail() : undefined) };
    const meterProvider = { getMeter: () => (where === 'getMeter' ? fail() : { createHistogram: () => histogram }) };
    metrics.setGlobalMeterProvider(meterProvider as never);
    const h = await harness();
    try {
      const result = await h.supervisor.chat({ provider: 'kimi', prompt: 'Measured', timeoutMs: 20_000 });
      assert.equal(result.finishReason, 'stop');
      const failed = await h.supervisor.chat({ provider: 'kimi', prompt: 'No [[mock failTimes=5 status=400]]', maxRetries: 0, timeoutMs: 20_000 }).then(
        () => assert.fail('expected a failure'),
        (error: { code: string }) => error,
      );
      assert.equal(failed.code, 'ERR_PROVIDER');
      assert.ok(thrown > 0, 'the meter did throw');
    } finally {
      await h.close();
      metrics.disable();
    }
  });
}
