// Small helpers of the engine for what sessions carry besides text: stream parts handed to the
// caller, response headers scrubbed of secrets, and the caller's abort reason kept as `cause`.
import type { Logger } from 'pino';
import { scrub } from '../util/log.ts';
import type { StreamPartEvent } from '../wire/protocol.ts';
import type { SessionRecord } from './session-record.ts';

/** Hands a stream part to the session's listener; a listener that throws loses only that part. */
export function deliverPart(record: SessionRecord, event: StreamPartEvent, logger: Logger | undefined): void {
  try {
    record.spec.onEvent?.(event);
  } catch (error) {
    logger?.warn({ sessionId: record.spec.sessionId, err: error }, 'a stream listener threw; the event was dropped');
  }
}

// Headers that carry credentials are dropped outright; every other value is scrubbed of the secrets.
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api-key']);

export function scrubHeaders(headers: Record<string, string>, secrets: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (!SECRET_HEADERS.has(name.toLowerCase())) out[name] = scrub(value, secrets);
  return out;
}

/** Sets `cause` (the caller's abort reason, as the openai SDK's APIUserAbortError does) when there is one. */
export function withCause<E extends Error>(error: E, cause: unknown): E {
  if (cause !== undefined) Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
  return error;
}
