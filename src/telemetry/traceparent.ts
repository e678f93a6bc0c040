// W3C Trace Context `traceparent` (version 00): how a session's span travels in a task and a job.
import type { SpanContext } from './otel-api.ts';

/** `00-{trace-id}-{parent-id}-{flags}`, lowercase hex; all-zero ids are invalid. */
export const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The span context a `traceparent` names (remote), or undefined when it is not one. */
export function parseTraceparent(value: string): (SpanContext & { isRemote: true }) | undefined {
  if (!TRACEPARENT.test(value)) return undefined;
  const [, traceId = '', spanId = '', flags = '00'] = value.split('-');
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true };
}
