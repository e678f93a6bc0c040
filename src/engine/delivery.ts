// Streamed text on its way to the caller's onDelta: what the caller's callback throws is logged,
// never rethrown, and the text it has seen is counted so that the deltas add up to the answer.
import type { Logger } from 'pino';
import type { SessionRecord } from './session-record.ts';

export function deliver(record: SessionRecord, text: string, logger: Logger | undefined): void {
  record.delivered += text.length;
  try {
    record.spec.onDelta?.(text);
  } catch (error) {
    logger?.warn({ sessionId: record.spec.sessionId, err: error }, 'onDelta threw; the delta was dropped');
  }
}

/**
 * The result and the last delta batch travel on different ports, so the result may come first:
 * hand the caller whatever text it has not seen yet, so that the deltas always add up to the answer.
 */
export function deliverRest(record: SessionRecord, value: unknown, logger: Logger | undefined): void {
  if (record.spec.onDelta === undefined) return;
  const content = (value as { content?: unknown }).content;
  if (typeof content === 'string' && content.length > record.delivered) deliver(record, content.slice(record.delivered), logger);
}
