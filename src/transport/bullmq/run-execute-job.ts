// An `execute` job on a worker host, once admitted and fenced (run-job.ts): the ingress has checked
// that its handler is a module this host allows. No provider, no key budget: the handler runs on
// this host's pool until the deadline, and its output (JSON: it crosses Redis) is the job's return value.
import { abortError } from '../../errors/abort-reasons.ts';
import type { ExecuteTask } from '../../wire/protocol.ts';
import type { RunningJob } from './host-runs.ts';
import { call, failed } from './job-call.ts';
import type { JobResult } from './job.ts';
import type { JobRunnerDeps } from './job-call.ts';

export async function runExecuteJob(deps: JobRunnerDeps, run: RunningJob, task: ExecuteTask, deadline: number): Promise<JobResult> {
  await run.relay.picked(deps.host);
  // Stopped while the pick-up was on its way: nothing runs.
  if (run.stopped !== undefined) return failed(deps.host, abortError(run.stopped, { sessionId: task.sessionId }).toJSON());
  return call(deps, run, { ...task, budgetMs: Math.max(1, deadline - Date.now()) });
}
