/** What an `execute` handler receives besides its input. */
export interface HandlerContext {
  sessionId: string;
  requestId: string;
  /**
   * Aborts at the session's deadline, on the caller's abort and on close: pass it on to your I/O.
   * Its `reason` is a SessionTimeoutError or SessionAbortedError (`code` ERR_SESSION_TIMEOUT or ERR_SESSION_ABORTED).
   */
  signal: AbortSignal;
}

export type SessionHandler = (input: unknown, context: HandlerContext) => unknown;
