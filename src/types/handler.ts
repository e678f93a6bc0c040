/** What an `execute` handler receives besides its input. */
export interface HandlerContext {
  /** The engine's id of the session running the handler. */
  sessionId: string;
  /** The request's `requestId` (yours, or the UUID given to it). */
  requestId: string;
  /**
   * Aborts at the session's deadline, on the caller's abort and on close: pass it on to your I/O.
   * Its `reason` is a SessionTimeoutError or SessionAbortedError (`code` ERR_SESSION_TIMEOUT or ERR_SESSION_ABORTED).
   */
  signal: AbortSignal;
}

/**
 * The shape of the function an `execute()` handler module exports: called on a thread of the
 * handler pool with the request's `input` (structured-cloned) and a HandlerContext. What it returns
 * (or resolves with) is the result's `output` and must survive `structuredClone` (else
 * ERR_HANDLER_RESULT); what it throws comes back as a HandlerError.
 */
export type SessionHandler = (input: unknown, context: HandlerContext) => unknown;
