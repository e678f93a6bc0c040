// `--trace`: what a host that traces pays. Registers an OpenTelemetry tracer provider as a host
// would (the AsyncLocalStorage context manager, a batch span processor) whose exporter counts the
// spans and drops them, so that the figures are sessionpool's spans and the SDK's processing, not
// a collector's network. The SDK is a dev dependency: loaded only when asked.
export interface BenchTracing {
  /** Spans exported so far. */
  readonly exported: () => number;
  close(): Promise<void>;
}

export async function startTracing(): Promise<BenchTracing> {
  const [{ context, trace }, { AsyncLocalStorageContextManager }, { BatchSpanProcessor, TracerProvider }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/sdk-trace'),
  ]).catch((error: unknown) => {
    // An installed package has none of them (dev dependencies here): say what to install.
    throw new Error(
      `--trace needs the OpenTelemetry SDK: npm install @opentelemetry/api @opentelemetry/sdk-trace @opentelemetry/context-async-hooks (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
    );
  });
  let exported = 0;
  const exporter = {
    export(spans: unknown[], done: (result: { code: 0 }) => void) {
      exported += spans.length;
      done({ code: 0 });
    },
    shutdown: async () => {},
  };
  const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter, maxQueueSize: 65_536, maxExportBatchSize: 4096 })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return {
    exported: () => exported,
    async close() {
      await provider.forceFlush();
      await provider.shutdown();
    },
  };
}
