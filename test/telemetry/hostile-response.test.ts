// A provider's response names its model and id: a provider (or anyone on its path) that sends a
// 1 MB model name, a different one each time, or control characters must not make span attributes
// or metric series of that size (the metrics SDK keeps every attribute set it saw: up to its
// cardinality limit, thousands, each holding the name).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { type HistogramMetricData, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { createSupervisor } from '../../src/index.ts';
import { registerTracing } from './otel-setup.ts';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

test('a 1 MB model name and response id from a provider are clipped in spans and metric attributes', async () => {
  let n = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      n++;
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `chatcmpl-\u0000\r\n${'i'.repeat(1_000_000)}`,
          object: 'chat.completion',
          model: `${n}-${'m'.repeat(1_000_000)}`,
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
        }),
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const tracing = registerTracing();
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  const supervisor = createSupervisor({
    threads: 1,
    logger: false,
    providers: { openai: { baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, apiKey: 'sk-response-test-0123' } },
  });
  try {
    for (let i = 0; i < 3; i++) await supervisor.chat({ provider: 'openai', model: 'gpt-4o-mini', prompt: 'Hello', timeoutMs: 20_000 });
    await tracing.provider.forceFlush();
    const longest = Math.max(
      ...tracing.spans().flatMap((s) => Object.values(s.attributes).map((v) => (typeof v === 'string' ? v.length : JSON.stringify(v).length))),
    );
    assert.ok(longest <= 1024, `a span attribute of ${longest} characters`);
    const { resourceMetrics } = await reader.collect();
    const duration = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'gen_ai.client.operation.duration') as
      | HistogramMetricData
      | undefined;
    assert.ok(duration, 'the duration is measured');
    const attributeSizes = duration.dataPoints.map((p) => JSON.stringify(p.attributes).length);
    assert.ok(Math.max(...attributeSizes) <= 2048, `a metric attribute set of ${Math.max(...attributeSizes)} characters`);
  } finally {
    await supervisor.close();
    await meterProvider.shutdown();
    metrics.disable();
    await tracing.close();
    server.close();
  }
});
