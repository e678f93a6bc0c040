import { toWireError } from '../../errors/errors.ts';
import type { ExecuteTask, CallOutcome } from '../../wire/protocol.ts';
import type { SessionScope } from './channel.ts';
import { handlerFailure, resultProblem } from './handler-outcome.ts';

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

export async function runExecute(task: ExecuteTask, scope: SessionScope): Promise<CallOutcome> {
  // A session that ended while its task waited for a thread never starts its handler.
  if (scope.signal.aborted) return { ok: false, error: toWireError(scope.signal.reason), attempts: 1 };
  let handler: unknown;
  try {
    handler = ((await import(task.handler)) as Record<string, unknown>)[task.name];
  } catch (error) {
    return { ok: false, error: handlerFailure(error), attempts: 1 };
  }
  if (typeof handler !== 'function') {
    const error = {
      code: 'ERR_INVALID_REQUEST',
      name: 'InvalidRequestError',
      message: `Handler module ${task.handler} has no exported function \`${task.name}\``,
    };
    return { ok: false, error, attempts: 1 };
  }
  const context: HandlerContext = { sessionId: scope.sessionId, requestId: scope.requestId, signal: scope.signal };
  let output: unknown;
  try {
    output = await (handler as SessionHandler)(task.input, context);
  } catch (error) {
    if (scope.signal.aborted) return { ok: false, error: toWireError(scope.signal.reason), attempts: 1 };
    return { ok: false, error: handlerFailure(error), attempts: 1 };
  }
  const problem = resultProblem(output);
  return problem ? { ok: false, error: problem, attempts: 1 } : { ok: true, value: output, attempts: 1 };
}
