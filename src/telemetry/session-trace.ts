// One traced session: its span (CLIENT, `chat {model}`, started at admission under the caller's
// context) and a child span per provider call, built from the call records the worker (or the
// worker host) sends back with each run's outcome. All times are explicit epoch milliseconds:
// the calls happened on another thread or host, and their spans are made when the records arrive.
import type { ChatResult } from '../types/chat.ts';
import type { CallRecord, ChatCall, ResolvedProvider } from '../wire/protocol.ts';
import { callAttributes, clip, genAiProvider, inputMessages, outputMessages, serverOf } from './gen-ai.ts';
import { type Attributes, type Context, type OtelApi, type Span, type Tracer, SPAN_KIND_CLIENT, STATUS_ERROR } from './otel-api.ts';
import { formatTraceparent } from './traceparent.ts';

/** What a session's span needs of its request, and what it is told about its end. */
export interface TracedRequest {
  sessionId: string;
  requestId: string;
  provider: ResolvedProvider;
  call: ChatCall;
}

/** How a session ended, as its span shows it. */
export type SessionEnd = { result: ChatResult } | { error: { code: string; message: string; status?: number } };

const MAX_CALLS_PER_RUN = 256;

export class SessionTrace {
  readonly span: Span;
  readonly traceparent: string;
  readonly startedAt: number;
  /** `gen_ai.provider.name`, the model asked and `server.address` of the request (for the metrics). */
  readonly provider: string;
  readonly model: string;
  readonly server: string;
  /** Runs sent and not yet ended (a fallback or a crash's rerun sends another). */
  runs = 0;
  ended = false;
  /** Calls seen so far, and the target of the last run: a run of another target is a fallback. */
  #calls = 0;
  #target: string | undefined;
  readonly #tracer: Tracer;
  readonly #recordContent: boolean;
  readonly #api: OtelApi;
  /** The context its call spans start in (made when the first records come). */
  #parent: Context | undefined;

  constructor(api: OtelApi, tracer: Tracer, span: Span, request: TracedRequest & { startedAt: number; recordContent: boolean }) {
    const { startedAt, recordContent } = request;
    this.provider = genAiProvider(request.provider.dialect);
    this.model = request.call.model;
    this.server = serverOf(request.provider.baseURL).address;
    this.#tracer = tracer;
    this.span = span;
    this.startedAt = startedAt;
    this.#recordContent = recordContent;
    this.traceparent = formatTraceparent(span.spanContext());
    this.#api = api;
  }

  /** The session span's attributes at its start: `attributes` (the request's) with the session's added. */
  static attributes(attributes: Attributes, request: TracedRequest, recordContent: boolean): Attributes {
    attributes['sessionpool.session.id'] = request.sessionId;
    attributes['sessionpool.request.id'] = request.requestId;
    if (recordContent) attributes['gen_ai.input.messages'] = inputMessages(request.call);
    return attributes;
  }

  /** A span event now (queue wait, budget wait, a fallback or circuit decision). */
  event(name: string, attributes: Attributes): void {
    if (!this.ended) this.span.addEvent(name, attributes, Date.now());
  }

  /** The call records of one run of `provider`'s target: a child span each. */
  calls(records: readonly CallRecord[] | undefined, provider: ResolvedProvider): void {
    // A run makes a few calls (retries, rounds); records that are not an array, or more than any
    // run could make (from a host that misbehaves), make no spans beyond the bound.
    if (!Array.isArray(records)) return;
    if (records.length > MAX_CALLS_PER_RUN) records = records.slice(0, MAX_CALLS_PER_RUN);
    const target = `${provider.name}\u0000${records[0]?.model ?? ''}`;
    const fallback = this.#target !== undefined && this.#target !== target;
    this.#target = target;
    this.#parent ??= this.#api.trace.setSpan(this.#api.ROOT_CONTEXT, this.span);
    for (let index = 0; index < records.length; index++) {
      const record = records[index] as CallRecord;
      this.#calls++;
      this.#callSpan(record, provider, fallback && index === 0 ? 'fallback' : record.kind, this.#parent);
    }
  }

  #callSpan(record: CallRecord, provider: ResolvedProvider, kind: string, parent: Context): void {
    const attributes = callAttributes(provider, record.model);
    attributes['sessionpool.call.kind'] = kind;
    attributes['sessionpool.call.index'] = this.#calls;
    attributes['sessionpool.provider'] = provider.name;
    if (record.responseModel !== undefined) attributes['gen_ai.response.model'] = clip(String(record.responseModel));
    if (record.responseId !== undefined) attributes['gen_ai.response.id'] = clip(String(record.responseId));
    if (record.finishReason !== undefined) attributes['gen_ai.response.finish_reasons'] = [clip(String(record.finishReason))];
    if (record.inputTokens !== undefined) attributes['gen_ai.usage.input_tokens'] = record.inputTokens;
    if (record.outputTokens !== undefined) attributes['gen_ai.usage.output_tokens'] = record.outputTokens;
    if (record.cachedTokens !== undefined) attributes['gen_ai.usage.cache_read.input_tokens'] = record.cachedTokens;
    if (record.status !== undefined) attributes['http.response.status_code'] = record.status;
    if (record.errorType !== undefined) attributes['error.type'] = clip(String(record.errorType));
    // Attributes set after the start: the SDK copies those given to startSpan (measured: slower).
    const span = this.#tracer.startSpan(`chat ${record.model}`, { kind: SPAN_KIND_CLIENT, startTime: record.startedAt }, parent);
    span.setAttributes(attributes);
    if (record.firstChunkAt !== undefined) span.addEvent('gen_ai.first_chunk', { 'sessionpool.chunks': record.chunks ?? 0 }, record.firstChunkAt);
    if (record.errorType !== undefined) span.setStatus({ code: STATUS_ERROR, message: clip(String(record.errorType)) });
    span.end(Math.max(record.endedAt, record.startedAt));
  }

  /** The session's outcome: the response's attributes (or the error's), then the span ends now. */
  end(end: SessionEnd): void {
    if (this.ended) return;
    this.ended = true;
    const { span } = this;
    if ('result' in end) {
      const { result } = end;
      const cost = result.metadata.cost;
      const attributes: Attributes = {
        'gen_ai.response.model': clip(result.model),
        'gen_ai.response.finish_reasons': [clip(result.finishReason)],
        'gen_ai.usage.input_tokens': result.usage.promptTokens,
        'gen_ai.usage.output_tokens': result.usage.completionTokens,
        'sessionpool.session.attempts': result.metadata.session.attempts,
      };
      if (result.id !== undefined) attributes['gen_ai.response.id'] = clip(result.id);
      if (result.usage.cachedTokens !== undefined) attributes['gen_ai.usage.cache_read.input_tokens'] = result.usage.cachedTokens;
      if (result.metadata.continuation !== undefined) attributes['sessionpool.continuation.rounds'] = result.metadata.continuation.attempts;
      if (cost !== undefined) [attributes['sessionpool.cost.amount'], attributes['sessionpool.cost.currency']] = [cost.amount, cost.currency];
      if (this.#recordContent) attributes['gen_ai.output.messages'] = outputMessages(result.content, result.finishReason);
      span.setAttributes(attributes);
    } else {
      span.setAttribute('error.type', end.error.code);
      if (end.error.status !== undefined) span.setAttribute('http.response.status_code', end.error.status);
      span.setStatus({ code: STATUS_ERROR, message: end.error.message });
    }
    span.end(Date.now());
  }
}
