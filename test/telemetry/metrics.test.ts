// The GenAI client metrics through the OpenTelemetry metrics API: a host that registers a meter
// provider gets operation duration and token usage per session, and time to first chunk and time
// per output chunk per streamed call (traced sessions: the call records carry the chunk times).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { type HistogramMetricData, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { harness, type Harness } from '../support/helpers.ts';
import { registerTracing, type Tracing } from './otel-setup.ts';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

let tracing: Tracing;
let reader: TestReader;
let meterProvider: MeterProvider;
let h: Harness;

before(async () => {
  tracing = registerTracing();
  reader = new TestReader();
  meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  h = await harness();
});

after(async () => {
  await h.close();
  await meterProvider.shutdown();
  metrics.disable();
  await tracing.close();
});

test('gen_ai.client.* histograms: duration and tokens per session, first chunk and chunk pace per streamed call', async () => {
  const result = await h.supervisor.chat({ provider: 'kimi', prompt: 'Measured' });
  for await (const _event of h.supervisor.stream({ provider: 'glm', prompt: 'Streamed [[mock chunks=10 chunkDelayMs=2]]' }));
  await h.supervisor.chat({ provider: 'kimi', prompt: 'Fails [[mock status=400]]' }).catch(() => undefined);
  const { resourceMetrics } = await reader.collect();
  const all = resourceMetrics.scopeMetrics.filter((s) => s.scope.name === 'sessionpool').flatMap((s) => s.metrics) as HistogramMetricData[];
  const named = (name: string) => all.find((m) => m.descriptor.name === name);
  const duration = named('gen_ai.client.operation.duration');
  assert.equal(duration?.descriptor.unit, 's');
  const points = duration?.dataPoints ?? [];
  assert.equal(
    points.reduce((n, p) => n + p.value.count, 0),
    3,
    'three operations',
  );
  const failed = points.find((p) => p.attributes['error.type'] === 'ERR_PROVIDER');
  assert.equal(failed?.attributes['gen_ai.provider.name'], 'moonshot');
  const tokens = named('gen_ai.client.token.usage')?.dataPoints ?? [];
  const input = tokens.find((p) => p.attributes['gen_ai.token.type'] === 'input' && p.attributes['gen_ai.provider.name'] === 'moonshot');
  assert.equal(input?.value.sum, result.usage.promptTokens);
  assert.deepEqual(input?.value.buckets.boundaries.slice(0, 3), [1, 4, 16], "the conventions' advised buckets");
  const first = named('gen_ai.client.operation.time_to_first_chunk')?.dataPoints ?? [];
  assert.equal(
    first.reduce((n, p) => n + p.value.count, 0),
    1,
    'one streamed call',
  );
  const perChunk = named('gen_ai.client.operation.time_per_output_chunk')?.dataPoints ?? [];
  assert.equal(
    perChunk.reduce((n, p) => n + p.value.count, 0),
    1,
  );
  assert.ok((perChunk[0]?.value.sum ?? 0) > 0);
});
