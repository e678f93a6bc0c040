// The spans as a collector receives them: the OTLP/HTTP exporter (JSON) sends to a receiver inside
// the test, which decodes each export; the session span and its call spans arrive with their
// parents and attributes, in the caller's trace.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { harness } from '../support/helpers.ts';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Array<{ key: string; value: OtlpValue }>;
}

/** An OTLP/HTTP receiver: every `POST /v1/traces` body decoded (JSON), its spans kept. */
async function startReceiver() {
  const spans: OtlpSpan[] = [];
  const paths: string[] = [];
  const server = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    paths.push(`${request.method} ${request.url} ${request.headers['content-type']}`);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
    };
    for (const resource of body.resourceSpans) for (const scope of resource.scopeSpans) spans.push(...scope.spans);
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/v1/traces`, spans, paths, close: () => new Promise((resolve) => server.close(resolve)) };
}

const decoded = (v: OtlpValue | undefined): unknown =>
  v === undefined
    ? undefined
    : (v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue ?? v.arrayValue?.values.map(decoded))));
const attr = (span: OtlpSpan | undefined, key: string) => decoded(span?.attributes.find((a) => a.key === key)?.value);

test('OTLP/HTTP: the session span and one span per provider call reach a collector, parented and attributed', async () => {
  const receiver = await startReceiver();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: receiver.url }) })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  const h = await harness();
  try {
    const result = await trace.getTracer('host').startActiveSpan('host job', async (span) => {
      try {
        return await h.supervisor.chat({ provider: 'glm', prompt: 'Exported [[mock failTimes=1 status=502 key=otlp lengthRounds=1]]' });
      } finally {
        span.end();
      }
    });
    await provider.forceFlush();
    assert.match(receiver.paths[0] ?? '', /^POST \/v1\/traces application\/json/);
    const host = receiver.spans.find((s) => s.name === 'host job');
    const session = receiver.spans.find((s) => attr(s, 'sessionpool.session.id') === result.metadata.session.sessionId);
    assert.ok(host && session, 'both spans were received');
    assert.equal(session.parentSpanId, host.spanId);
    assert.equal(session.traceId, host.traceId);
    assert.equal(session.kind, 3, 'SPAN_KIND_CLIENT in OTLP');
    assert.equal(session.name, `chat ${result.model}`);
    assert.equal(attr(session, 'gen_ai.provider.name'), 'zhipu');
    assert.equal(attr(session, 'gen_ai.usage.output_tokens'), result.usage.completionTokens);
    assert.deepEqual(attr(session, 'gen_ai.response.finish_reasons'), ['stop']);
    const calls = receiver.spans.filter((s) => s.parentSpanId === session.spanId);
    assert.deepEqual(
      calls.map((s) => attr(s, 'sessionpool.call.kind')),
      ['first', 'retry', 'continuation'],
    );
    assert.equal(attr(calls[0], 'http.response.status_code'), 502);
  } finally {
    await h.close();
    await provider.shutdown();
    trace.disable();
    context.disable();
    await receiver.close();
  }
});
