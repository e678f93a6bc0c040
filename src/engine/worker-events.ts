// What the engine does with each event a worker reports about a session it runs.
import type { AbortRouter } from './abort-router.ts';
import type { SessionEvent as WorkerEvent } from '../wire/protocol.ts';
import type { SessionEvent } from './session/machine.ts';
import { deliver } from './delivery.ts';
import { deliverPart } from './parts.ts';
import type { EngineDeps } from './engine-deps.ts';
import { metadataField, stateOf, type SessionRecord } from './session-record.ts';
import type { RetryEvent } from '../types/session.ts';
import type { WireError } from '../types/errors.ts';

export interface WorkerEventContext {
  deps: EngineDeps;
  aborts: AbortRouter;
  send(record: SessionRecord, event: SessionEvent): void;
}

export function applyWorkerEvent(context: WorkerEventContext, record: SessionRecord, event: WorkerEvent, threadId: number, at: number): void {
  const { deps } = context;
  const { sessionId, requestId, provider } = record.spec;
  switch (event.type) {
    case 'started':
      context.aborts.started(record, threadId, event.run);
      if (event.run === record.run) reportStart(deps, record, threadId, at);
      break;
    case 'retry':
      deps.metrics.retried++;
      context.send(record, { type: 'RETRY', at, attempt: event.attempt, error: event.error });
      if (deps.listening('retry')) {
        const asked = event.retryAfterMs === undefined ? {} : { retryAfterMs: event.retryAfterMs };
        deps.emit('retry', {
          sessionId,
          requestId,
          provider,
          attempt: event.attempt,
          delayMs: event.delayMs,
          ...asked,
          error: retryError(event.error),
          at,
          ...metadataField(record),
        });
      }
      break;
    case 'delta':
      record.streamed = true;
      if (stateOf(record) === 'processing') deliver(record, event.text, deps.logger);
      break;
    case 'continuation':
      deps.logger?.debug({ sessionId, round: event.round }, 'continuation round');
      break;
    default:
      if (event.type !== 'usage' && event.type !== 'response') record.streamed = true;
      if (stateOf(record) === 'processing') deliverPart(record, event, deps.logger);
  }
}

/**
 * Emits `started` once per run. The worker's report travels on the events channel and the run's
 * outcome on the pool's port; the two are not ordered, so the engine also calls this when the
 * outcome arrives first (a short handler, a fast mock) and the start then carries the outcome's thread.
 */
export function reportStart(deps: EngineDeps, record: SessionRecord, threadId: number, at: number): void {
  if (record.reportedRun === record.run) return;
  record.reportedRun = record.run;
  if (!deps.listening('started')) return;
  const { sessionId, requestId } = record.spec;
  deps.emit('started', { sessionId, requestId, threadId, at, attempt: record.context.attempts, ...metadataField(record) });
}

/** What a retry event says of the failed attempt (the status and provider code tell a 429 from a 503). */
function retryError(error: WireError): RetryEvent['error'] {
  const out: RetryEvent['error'] = { code: error.code, message: error.message };
  if (error.status !== undefined) out.status = error.status;
  if (error.providerCode !== undefined) out.providerCode = error.providerCode;
  return out;
}
