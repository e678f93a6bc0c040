// A worker host's own span for a job whose producer traced the session: parented on the producer's
// session span through the job's `traceparent`, so that a worker host that registers a tracer
// provider of its own shows where and how long the job ran (the provider calls are the producer's
// spans, built from the records the job returns). Nothing when the host records nothing.
import { guardedTracer, otelApi, type Span, SPAN_KIND_CONSUMER, STATUS_ERROR } from './otel-api.ts';
import { parseTraceparent } from './traceparent.ts';

export interface HostSpan {
  end(error?: { code: string; message: string }): void;
}

/** Starts `sessionpool.job` under the producer's span named by `traceparent`; undefined when not recorded. */
export function startHostSpan(traceparent: string | undefined, attributes: Record<string, string | number>): HostSpan | undefined {
  if (traceparent === undefined) return undefined;
  const api = otelApi();
  const parent = parseTraceparent(traceparent);
  if (api === undefined || parent === undefined) return undefined;
  // Guarded: a tracer provider of the host's that throws must not fail the job, nor make a call that
  // answered look like a crash (which the producer would run again).
  let span: Span;
  try {
    const context = api.trace.setSpanContext(api.ROOT_CONTEXT, parent);
    span = guardedTracer(api.trace.getTracer('sessionpool')).startSpan(
      'sessionpool.job',
      { kind: SPAN_KIND_CONSUMER, startTime: Date.now(), attributes },
      context,
    );
  } catch {
    return undefined;
  }
  if (!span.isRecording()) return undefined;
  return {
    end(error) {
      if (error !== undefined) {
        span.setAttribute('error.type', error.code);
        span.setStatus({ code: STATUS_ERROR, message: error.message });
      }
      span.end(Date.now());
    },
  };
}
