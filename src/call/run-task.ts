import { threadId } from 'node:worker_threads';
import type { SessionTask, TaskOutcome } from '../protocol.ts';
import { openWorkerChannel } from './channel.ts';
import { runChat } from './run-call.ts';
import { runExecute } from './run-execute.ts';

// Opened once, when the worker module loads: the pool hands its ports to the supervisor.
const channel = openWorkerChannel();

/** The pool's task function: one session, start to settled. Never throws; failures are outcomes. */
export async function runTask(task: SessionTask): Promise<TaskOutcome> {
  // A handler may block this thread at once: it says where it runs before it starts.
  const blocking = task.kind === 'execute';
  const scope = channel.open(task.sessionId, task.requestId, blocking);
  if (blocking) scope.flush();
  try {
    const outcome = task.kind === 'chat' ? await runChat(task, scope) : await runExecute(task, scope);
    return { ...outcome, threadId };
  } finally {
    channel.close(task.sessionId);
  }
}
