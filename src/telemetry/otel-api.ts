// The part of `@opentelemetry/api` (an optional peer) that sessionpool uses, typed here so that the
// package's types never name the peer: a host without it still type-checks. The peer is loaded
// synchronously (its CommonJS build) the first time a supervisor asks; the API keeps its registry
// on globalThis, so this copy sees the tracer and meter providers the host registered through its own.
import { requirePeer } from '../errors/optional-peer.ts';

export type Attributes = Record<string, string | number | boolean | string[] | undefined>;

export interface SpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

export interface Span {
  spanContext(): SpanContext;
  setAttribute(key: string, value: string | number | boolean | string[]): Span;
  setAttributes(attributes: Attributes): Span;
  addEvent(name: string, attributes?: Attributes, time?: number): Span;
  setStatus(status: { code: number; message?: string }): Span;
  end(endTime?: number): void;
  isRecording(): boolean;
}

export interface SpanOptions {
  kind?: number;
  attributes?: Attributes;
  startTime?: number;
}

/** An OpenTelemetry context: opaque here. */
export type Context = object;

export interface Tracer {
  startSpan(name: string, options?: SpanOptions, context?: Context): Span;
}

export interface Histogram {
  record(value: number, attributes?: Attributes): void;
}

export interface Meter {
  createHistogram(name: string, options?: { description?: string; unit?: string; advice?: { explicitBucketBoundaries?: number[] } }): Histogram;
}

export interface MeterProvider {
  getMeter(name: string, version?: string): Meter;
}

export interface OtelApi {
  trace: {
    getTracer(name: string, version?: string): Tracer;
    setSpan(context: Context, span: Span): Context;
    setSpanContext(context: Context, spanContext: SpanContext): Context;
  };
  context: { active(): Context };
  metrics: { getMeterProvider(): MeterProvider };
  ROOT_CONTEXT: Context;
}

/** OpenTelemetry's SpanKind.CLIENT and SpanStatusCode.ERROR (numbers in every version of the API). */
export const SPAN_KIND_CLIENT = 2;
export const SPAN_KIND_CONSUMER = 4;
export const STATUS_ERROR = 2;

/**
 * The host's tracer with every call guarded: a tracer provider is the host's code, and one that
 * throws (in startSpan, setAttributes, addEvent, setStatus, end, anywhere) must never break a session.
 * What throws is dropped; a span that could not be started is a non-recording one.
 */
export function guardedTracer(tracer: Tracer): Tracer {
  return {
    startSpan(name, options, context) {
      try {
        const span = tracer.startSpan(name, options, context);
        // A span that records nothing (no provider registered, sampled out) is not kept, nor wrapped.
        return span.isRecording() === true ? new GuardedSpan(span) : NON_RECORDING;
      } catch {
        return NON_RECORDING;
      }
    },
  };
}

const INVALID_CONTEXT: SpanContext = { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 };

/** A span that records nothing: what a tracer that threw in startSpan gives. */
const NON_RECORDING: Span = {
  spanContext: () => INVALID_CONTEXT,
  setAttribute: () => NON_RECORDING,
  setAttributes: () => NON_RECORDING,
  addEvent: () => NON_RECORDING,
  setStatus: () => NON_RECORDING,
  end: () => {},
  isRecording: () => false,
};

class GuardedSpan implements Span {
  readonly #span: Span;

  constructor(span: Span) {
    this.#span = span;
  }

  spanContext(): SpanContext {
    try {
      return this.#span.spanContext();
    } catch {
      return INVALID_CONTEXT;
    }
  }

  setAttribute(key: string, value: string | number | boolean | string[]): Span {
    try {
      this.#span.setAttribute(key, value);
    } catch {
      // The host's tracer threw: the attribute is lost, the session goes on.
    }
    return this;
  }

  setAttributes(attributes: Attributes): Span {
    try {
      this.#span.setAttributes(attributes);
    } catch {
      // As above.
    }
    return this;
  }

  addEvent(name: string, attributes?: Attributes, time?: number): Span {
    try {
      this.#span.addEvent(name, attributes, time);
    } catch {
      // As above.
    }
    return this;
  }

  setStatus(status: { code: number; message?: string }): Span {
    try {
      this.#span.setStatus(status);
    } catch {
      // As above.
    }
    return this;
  }

  end(endTime?: number): void {
    try {
      this.#span.end(endTime);
    } catch {
      // As above.
    }
  }

  isRecording(): boolean {
    try {
      return this.#span.isRecording() === true;
    } catch {
      return false;
    }
  }
}

let loaded: OtelApi | null | undefined;

/** `@opentelemetry/api`, or undefined when it is not installed (then nothing is traced or measured). */
export function otelApi(): OtelApi | undefined {
  if (loaded === undefined) loaded = requirePeer<OtelApi>('@opentelemetry/api') ?? null;
  return loaded ?? undefined;
}
