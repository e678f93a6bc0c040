// The abort protocol, shared by both sides (see router.ts for the supervisor's end, worker-aborts.ts
// for the worker's): why a session is stopped, and the one definition of the errors that say so.
import { SessionAbortedError, SessionTimeoutError, type SessionPoolError } from './errors.ts';
import type { SessionIds, WireError } from '../types/errors.ts';
import type { AbortReason } from '../types/session.ts';

const MESSAGES: Record<AbortReason, string> = {
  timeout: 'The session reached its deadline',
  aborted: 'The session was aborted by its caller',
  closed: 'The session was aborted because the supervisor closed',
};

/** The error of a stopped session: what its caller gets, and the `reason` of the signal its worker aborts. */
export function abortError(reason: AbortReason, ids: SessionIds, timeoutMs?: number): SessionPoolError {
  if (reason !== 'timeout') return new SessionAbortedError(MESSAGES[reason], ids);
  return new SessionTimeoutError(timeoutMs === undefined ? MESSAGES.timeout : `${MESSAGES.timeout} of ${timeoutMs} ms`, ids);
}

/** A worker that ends a call on its own does so only at the deadline: such an outcome is a timeout. */
export function isWorkerTimeout(error: WireError): boolean {
  return error.code === 'ERR_SESSION_TIMEOUT' && error.handler !== true;
}
