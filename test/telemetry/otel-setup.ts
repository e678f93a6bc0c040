// An OpenTelemetry SDK registered as a host would: a tracer provider whose spans go to an in-memory
// exporter, and the AsyncLocalStorage context manager (so that `context.active()` follows awaits).
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

export interface Tracing {
  exporter: InMemorySpanExporter;
  provider: TracerProvider;
  /** The finished spans so far. */
  spans(): ReadableSpan[];
  close(): Promise<void>;
}

export function registerTracing(): Tracing {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  trace.setGlobalTracerProvider(provider);
  return {
    exporter,
    provider,
    spans: () => exporter.getFinishedSpans(),
    async close() {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}

/** The span tree as lines: `name [kind] parent=… attributes`, children indented under their parent. */
export function printTree(spans: readonly ReadableSpan[], keys: readonly string[]): string {
  const byParent = new Map<string | undefined, ReadableSpan[]>();
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId;
    const key = parent !== undefined && ids.has(parent) ? parent : undefined;
    byParent.set(key, [...(byParent.get(key) ?? []), span]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    const children = (byParent.get(parent) ?? []).sort((a, b) => hr(a.startTime) - hr(b.startTime));
    for (const span of children) {
      const attributes = keys.filter((k) => span.attributes[k] !== undefined).map((k) => `${k}=${JSON.stringify(span.attributes[k])}`);
      lines.push(
        `${'  '.repeat(depth)}${span.name} (span ${span.spanContext().spanId}, parent ${span.parentSpanContext?.spanId ?? '-'}) ${attributes.join(' ')}`,
      );
      for (const event of span.events) lines.push(`${'  '.repeat(depth + 1)}event ${event.name} ${JSON.stringify(event.attributes ?? {})}`);
      walk(span.spanContext().spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines.join('\n');
}

const hr = (time: [number, number]) => time[0] * 1e9 + time[1];
