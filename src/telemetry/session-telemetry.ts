// The supervisor's telemetry: a span per chat session under the caller's active context, a child
// span per provider call (from the records each run returns), span events for the waits and routing
// decisions, and the GenAI client metrics. Through the global `@opentelemetry/api`: a host that
// registers a tracer provider gets spans with no option. When nothing records (no provider, a
// sampled-out span) a session costs one non-recording span and nothing is asked of its worker.
import type { Dispatcher, DispatchGate, RunReceiver, SessionSpec } from '../seam/seam.ts';
import type { TelemetryOptions } from '../types/cost.ts';
import type { CallRecord, ChatTask, SessionTask, TaskOutcome } from '../wire/protocol.ts';
import { passThrough } from '../seam/seam.ts';
import { clip, requestAttributes } from './gen-ai.ts';
import { GenAiMetrics } from './gen-ai-metrics.ts';
import { type Attributes, type Context, guardedTracer, otelApi, type OtelApi, SPAN_KIND_CLIENT, type Tracer } from './otel-api.ts';
import { type SessionEnd, SessionTrace, type TracedRequest } from './session-trace.ts';
import { TRACEPARENT } from './traceparent.ts';

const VERSION = '0.1.0';

export class SessionTelemetry {
  readonly #api: OtelApi;
  readonly #tracer: Tracer;
  readonly #metrics: GenAiMetrics;
  readonly #recordContent: boolean;
  readonly #traces = new Map<string, SessionTrace>();

  /** The supervisor's telemetry, or undefined when it is off (`telemetry: false`) or `@opentelemetry/api` is not installed. */
  static create(options: boolean | TelemetryOptions | undefined): SessionTelemetry | undefined {
    if (options === false) return undefined;
    const api = otelApi();
    return api === undefined ? undefined : new SessionTelemetry(api, options === true || options === undefined ? false : options.recordContent === true);
  }

  constructor(api: OtelApi, recordContent: boolean) {
    this.#api = api;
    // A proxy: it follows whatever tracer provider the host registers, before or after this.
    // Guarded: a tracer provider that throws breaks no session (otel-api.ts).
    this.#tracer = guardedTracer(api.trace.getTracer('sessionpool', VERSION));
    this.#metrics = new GenAiMetrics(api);
    this.#recordContent = recordContent;
  }

  /** Sessions traced now (released ones whose runs have not ended included). */
  get tracing(): number {
    return this.#traces.size;
  }

  /**
   * Starts a chat session's span under the caller's active context (call it where the caller
   * called); undefined when nothing records it. The trace's `traceparent` goes in the task.
   */
  begin(request: TracedRequest): SessionTrace | undefined {
    const startedAt = Date.now();
    let active: Context;
    try {
      active = this.#api.context.active();
    } catch {
      // A context manager of the host's that throws: the session is not traced.
      return undefined;
    }
    const span = this.#tracer.startSpan(`chat ${request.call.model}`, { kind: SPAN_KIND_CLIENT, startTime: startedAt }, active);
    if (!span.isRecording()) return undefined;
    span.setAttributes(SessionTrace.attributes(requestAttributes(request.provider, request.call), request, this.#recordContent));
    const trace = new SessionTrace(this.#api, this.#tracer, span, { ...request, startedAt, recordContent: this.#recordContent });
    // A span context that makes no W3C traceparent (a tracer of the host's that misbehaves) would make
    // a task a worker host refuses: that session is not traced.
    if (!TRACEPARENT.test(trace.traceparent)) {
      span.end(Date.now());
      return undefined;
    }
    this.#traces.set(request.sessionId, trace);
    return trace;
  }

  /** The session's caller was told its outcome: the span ends, the operation is measured. */
  finish(sessionId: string, end: SessionEnd): void {
    const trace = this.#traces.get(sessionId);
    if (trace === undefined || trace.ended) return;
    trace.end(end);
    if (this.#metrics.active)
      this.#metrics.operation((Date.now() - trace.startedAt) / 1000, metricAttributes(trace, end), 'result' in end ? end.result.usage : undefined);
    if (trace.runs === 0) this.#traces.delete(sessionId);
  }

  /** Measures a session that was not traced (the metrics alone are on), from its admission time. */
  measure(startedAt: number, attributes: Attributes, end: SessionEnd): void {
    if (!this.#metrics.active) return;
    if ('error' in end) attributes['error.type'] = end.error.code;
    else attributes['gen_ai.response.model'] = clip(end.result.model);
    this.#metrics.operation((Date.now() - startedAt) / 1000, attributes, 'result' in end ? end.result.usage : undefined);
  }

  /** Whether untraced sessions should be measured (a meter provider is registered). */
  get measuring(): boolean {
    return this.#metrics.active;
  }

  /** A span event on the session's span, when it is traced. */
  event(sessionId: string, name: string, attributes: Attributes): void {
    this.#traces.get(sessionId)?.event(name, attributes);
  }

  /**
   * The dispatcher under routing's fallbacks: it sees every target's run of a traced session and
   * turns the call records of each into child spans (a new target's first call is a `fallback`).
   */
  dispatcher(inner: Dispatcher, scrub: (calls: CallRecord[]) => CallRecord[]): Dispatcher {
    const spans: RunReceiver = {
      settled: (task, outcome) => this.#ran(task, outcome?.calls === undefined ? outcome : { ...outcome, calls: scrub(outcome.calls) }),
      crashed: (task) => this.#ran(task, undefined),
    };
    return passThrough(inner, {
      run: (task, receiver) => {
        const trace = task.kind === 'chat' && task.trace !== undefined ? this.#traces.get(task.sessionId) : undefined;
        if (trace === undefined) return inner.run(task, receiver);
        trace.runs++;
        inner.run(task, {
          // The spans never stand between a run and its session: whatever they throw, the receiver is told.
          settled: (sent, outcome) => {
            quietly(() => spans.settled(sent, outcome));
            receiver.settled(sent, outcome);
          },
          crashed: (sent, error) => {
            quietly(() => spans.crashed(sent, error));
            receiver.crashed(sent, error);
          },
        });
      },
    });
  }

  #ran(task: SessionTask, outcome: TaskOutcome | undefined): void {
    const trace = this.#traces.get(task.sessionId);
    if (trace === undefined) return;
    trace.runs--;
    const chat = task as ChatTask;
    if (outcome?.calls !== undefined) {
      trace.calls(outcome.calls, chat.provider);
      if (chat.call.stream && this.#metrics.active)
        this.#metrics.calls(outcome.calls, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': chat.call.model });
    }
    if (trace.ended && trace.runs === 0) this.#traces.delete(task.sessionId);
  }

  /**
   * Routing's gate with the waits marked on traced sessions' spans: the queue wait ends when the
   * gate is asked (the session has its slot), the budget wait when it lets the session go.
   */
  gate(inner: DispatchGate): DispatchGate {
    return {
      wait: (spec: SessionSpec, deadlineAt, go, fail) => {
        const trace = this.#traces.get(spec.sessionId);
        if (trace === undefined) return inner.wait(spec, deadlineAt, go, fail);
        const slotAt = Date.now();
        // Events cost the host's thread (the SDK copies their attributes): only for a wait there was.
        if (slotAt > trace.startedAt) trace.event('sessionpool.queue.wait', { 'sessionpool.wait_ms': slotAt - trace.startedAt });
        const going = () => {
          const waited = Date.now() - slotAt;
          if (waited > 0) trace.event('sessionpool.budget.wait', { 'sessionpool.wait_ms': waited });
          go();
        };
        inner.wait(spec, deadlineAt, going, fail);
      },
      released: (sessionId) => inner.released(sessionId),
    };
  }
}

/** Runs telemetry's part of a session's path; what it throws (a host's meter or context manager) is dropped. */
function quietly(f: () => void): void {
  try {
    f();
  } catch {
    // Telemetry is lost, the session goes on.
  }
}

function metricAttributes(trace: SessionTrace, end: SessionEnd): Attributes {
  const attributes: Attributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': trace.provider,
    'gen_ai.request.model': trace.model,
    'server.address': trace.server,
  };
  if ('error' in end) attributes['error.type'] = end.error.code;
  else attributes['gen_ai.response.model'] = clip(end.result.model);
  return attributes;
}
