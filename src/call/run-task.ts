import type { SessionTask, TaskOutcome } from '../protocol.ts';
import { openWorkerChannel } from './channel.ts';
import { runChat } from './run-call.ts';
import { runExecute } from './run-execute.ts';

// Opened once, when the worker module loads: the pool hands its ports to the supervisor.
const channel = openWorkerChannel();

/** The pool's task function: one session, start to settled. Never throws; failures are outcomes. */
export async function runTask(task: SessionTask): Promise<TaskOutcome> {
  const scope = channel.open(task.sessionId, task.requestId);
  // A handler may block this thread at once: say where the session runs before it starts.
  if (task.kind === 'execute') scope.flush();
  try {
    return task.kind === 'chat' ? await runChat(task, scope) : await runExecute(task, scope);
  } finally {
    channel.close(task.sessionId);
  }
}
