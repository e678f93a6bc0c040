// The GenAI client metrics of the conventions, through the global meter provider: operation
// duration and token usage per session, time to first chunk and time per output chunk per
// streamed provider call (from call records: traced sessions only). The API hands out no proxy
// meter, so the instruments are made again whenever the host registers another provider.
import type { Usage } from '../types/chat.ts';
import type { CallRecord } from '../wire/protocol.ts';
import type { Attributes, Histogram, MeterProvider, OtelApi } from './otel-api.ts';

// The conventions' advised bucket boundaries.
const SECONDS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TOKENS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const CHUNK_SECONDS = [0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5];

interface Instruments {
  duration: Histogram;
  tokens: Histogram;
  firstChunk: Histogram;
  perChunk: Histogram;
}

export class GenAiMetrics {
  readonly #api: OtelApi;
  #provider: MeterProvider | undefined;
  #instruments: Instruments | undefined;

  constructor(api: OtelApi) {
    this.#api = api;
  }

  /** Whether a meter provider is registered (the API's own no-op one does not count). */
  get active(): boolean {
    try {
      return this.#current() !== undefined;
    } catch {
      // A meter provider of the host's that throws (in getMeter, createHistogram): nothing is measured.
      return false;
    }
  }

  /** One session's operation: its duration, and its tokens when it has usage. */
  operation(seconds: number, attributes: Attributes, usage: Usage | undefined): void {
    try {
      const instruments = this.#current();
      if (instruments === undefined) return;
      instruments.duration.record(seconds, attributes);
      if (usage === undefined) return;
      instruments.tokens.record(usage.promptTokens, { ...attributes, 'gen_ai.token.type': 'input' });
      instruments.tokens.record(usage.completionTokens, { ...attributes, 'gen_ai.token.type': 'output' });
    } catch {
      // A meter provider of the host's that throws: the measure is lost, the session goes on.
    }
  }

  /** Streamed calls: time to the first chunk, and the mean time between the chunks after it. */
  calls(records: readonly CallRecord[], attributes: Attributes): void {
    try {
      const instruments = this.#current();
      if (instruments === undefined) return;
      for (const record of records) {
        if (record.firstChunkAt === undefined) continue;
        instruments.firstChunk.record((record.firstChunkAt - record.startedAt) / 1000, attributes);
        const chunks = record.chunks ?? 0;
        if (chunks > 1) instruments.perChunk.record((record.endedAt - record.firstChunkAt) / 1000 / (chunks - 1), attributes);
      }
    } catch {
      // As above.
    }
  }

  #current(): Instruments | undefined {
    const provider = this.#api.metrics.getMeterProvider();
    if (provider !== this.#provider) {
      this.#provider = provider;
      // The API's fallback when nothing is registered; recording into it would only cost time.
      this.#instruments = provider.constructor.name === 'NoopMeterProvider' ? undefined : instrumentsOf(provider);
    }
    return this.#instruments;
  }
}

function instrumentsOf(provider: MeterProvider): Instruments {
  const meter = provider.getMeter('sessionpool');
  const histogram = (name: string, unit: string, description: string, boundaries: number[]) =>
    meter.createHistogram(name, { unit, description, advice: { explicitBucketBoundaries: boundaries } });
  return {
    duration: histogram('gen_ai.client.operation.duration', 's', 'GenAI operation duration (a session, admission to outcome).', SECONDS),
    tokens: histogram('gen_ai.client.token.usage', '{token}', 'Number of input and output tokens used.', TOKENS),
    firstChunk: histogram('gen_ai.client.operation.time_to_first_chunk', 's', 'Time to receive the first chunk of a streamed call.', SECONDS),
    perChunk: histogram('gen_ai.client.operation.time_per_output_chunk', 's', 'Time between the chunks of a streamed call, after the first.', CHUNK_SECONDS),
  };
}
