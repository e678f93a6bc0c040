import { toWireError } from '../errors.ts';
import type { ExecuteTask, CallOutcome } from '../protocol.ts';
import type { SessionScope } from './channel.ts';

/** What an `execute` handler receives besides its input. */
export interface HandlerContext {
  sessionId: string;
  requestId: string;
  /** Aborts at the session's deadline, on the caller's abort and on close: pass it on to your I/O. */
  signal: AbortSignal;
}

export type SessionHandler = (input: unknown, context: HandlerContext) => unknown;

export async function runExecute(task: ExecuteTask, scope: SessionScope): Promise<CallOutcome> {
  try {
    const module = (await import(task.handler)) as Record<string, unknown>;
    const handler = module[task.name];
    if (typeof handler !== 'function') {
      const error = { code: 'ERR_INVALID_REQUEST', name: 'InvalidRequestError', message: `Handler module ${task.handler} has no exported function \`${task.name}\`` };
      return { ok: false, error, attempts: 1 };
    }
    const context: HandlerContext = { sessionId: scope.sessionId, requestId: scope.requestId, signal: scope.signal };
    const output = await (handler as SessionHandler)(task.input, context);
    return { ok: true, value: output, attempts: 1 };
  } catch (error) {
    if (scope.signal.aborted) return { ok: false, error: toWireError(scope.signal.reason), attempts: 1 };
    return { ok: false, error: toWireError(error), attempts: 1 };
  }
}
