import { toWireError } from '../../errors/errors.ts';
import type { ExecuteTask, CallOutcome } from '../../wire/protocol.ts';
import type { SessionScope } from './channel.ts';
import { handlerFailure, resultProblem } from './handler-outcome.ts';
import type { HandlerContext, SessionHandler } from '../../types/handler.ts';

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
