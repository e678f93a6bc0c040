// What the engine tells the outside about a session: transition events and the log line at release.
import type { Logger } from 'pino';
import type { SessionRecord } from './session-record.ts';
import type { TransitionEvent } from '../types/session.ts';

/** The `transition` event of a session that just went from `from` to `to`. */
export function transitionEvent(record: SessionRecord, from: TransitionEvent['from'], to: TransitionEvent['to'], at: number): TransitionEvent {
  const { spec } = record;
  const context = record.context;
  const event: TransitionEvent = { sessionId: spec.sessionId, requestId: spec.requestId, from, to, at, kind: spec.kind, attempt: context.attempts };
  if (spec.provider !== undefined) event.provider = spec.provider;
  if (spec.model !== undefined) event.model = spec.model;
  if (record.threadId !== undefined) event.threadId = record.threadId;
  if (context.outcome !== undefined && to !== 'processing') event.outcome = context.outcome;
  if (context.error !== undefined) event.error = { code: context.error.code, message: context.error.message };
  if (spec.metadata !== undefined) event.metadata = spec.metadata;
  return event;
}

/** One line per session, through a child logger bound to the session (built only when the line is written). */
export function logRelease(logger: Logger | undefined, record: SessionRecord, at: number): void {
  const { outcome, attempts, error } = record.context;
  const level = outcome === 'completed' ? 'debug' : 'info';
  if (logger === undefined || !logger.isLevelEnabled(level)) return;
  const { sessionId, requestId, provider, model } = record.spec;
  const child = logger.child({ sessionId, requestId, ...(provider !== undefined ? { provider, model } : {}) });
  const metadata = record.spec.metadata !== undefined ? { metadata: record.spec.metadata } : {};
  child[level](
    { outcome, attempts, durationMs: Math.round(at - record.admittedAt), ...(error ? { code: error.code, err: error.message } : {}), ...metadata },
    'session released',
  );
}
