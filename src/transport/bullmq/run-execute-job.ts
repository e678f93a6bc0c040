// An `execute` job on a worker host: the ingress has checked that its handler is a module this host
// allows. No provider, no key budget: the handler runs on this host's pool until the deadline, and
// its output (JSON: it crosses Redis) is the job's return value.
import type { Job } from 'bullmq';
import { abortError } from '../../abort/reasons.ts';
import { SessionTimeoutError } from '../../errors.ts';
import type { QueuedExecuteTask } from './job.ts';
import { ProgressRelay } from './progress-relay.ts';
import { call, failed } from './job-call.ts';
import type { JobRunnerDeps, RunningJob } from './run-job.ts';
import type { JobResult } from './job.ts';

export async function runExecuteJob(job: Job, data: { task: QueuedExecuteTask; deadline: number }, deps: JobRunnerDeps): Promise<JobResult> {
  const { task, deadline } = data;
  const { sessionId } = task;
  const early = deps.aborts.take(sessionId);
  if (early !== undefined) return failed(deps.host, abortError(early, { sessionId }).toJSON());
  if (deadline <= Date.now())
    return failed(deps.host, new SessionTimeoutError('The session reached its deadline before a worker host took it', { sessionId }).toJSON());
  const job$: RunningJob = { relay: new ProgressRelay(job, deps.logger) };
  deps.running.set(sessionId, job$);
  try {
    await job$.relay.picked(deps.host);
    return await call(deps, job$, { ...task, run: Math.max(1, job.attemptsStarted), budgetMs: Math.max(1, deadline - Date.now()) });
  } finally {
    deps.running.delete(sessionId);
  }
}
