import { threadId } from 'node:worker_threads';
import type { CallOutcome, SessionTask, TaskOutcome } from '../../wire/protocol.ts';
import { openWorkerChannel, type SessionScope } from './channel.ts';

// Opened once, when the worker module loads; the pool hands its ports to the supervisor once the
// thread's entry has its task runner, that is once everything its sessions run was loaded.
const { channel, greet } = openWorkerChannel();

/**
 * The pool's task function for one kind of session: start to settled. It never throws: a task
 * that rejects is what a dead thread looks like to the supervisor, so failures are outcomes.
 * `blocking` sessions (handlers) may hold the thread at once: they say where they run first.
 */
export function taskRunner<T extends SessionTask>(
  run: (task: T, scope: SessionScope) => Promise<CallOutcome>,
  blocking: boolean,
): (task: T) => Promise<TaskOutcome> {
  const runner = async (task: T): Promise<TaskOutcome> => {
    const scope = channel.open(task, blocking);
    if (blocking) scope.flush();
    try {
      return { ...(await run(task, scope)), threadId };
    } catch (error) {
      let message = 'an unexpected error';
      try {
        message = String((error as Error).message);
      } catch {
        // Keep the generic message: this path must not throw.
      }
      return { ok: false, error: { code: 'ERR_HANDLER', name: 'Error', message: `The worker failed to run the session: ${message}` }, attempts: 1, threadId };
    } finally {
      channel.close(task.sessionId);
    }
  };
  // Provider calls also come over the events port, in batches (src/pool/lanes.ts); handlers only as Piscina tasks.
  if (!blocking) channel.serve(runner as (task: SessionTask) => Promise<TaskOutcome>);
  // The thread is up: ready() and the routing's budget count on it, and a session sent now starts at once.
  greet();
  return runner;
}
