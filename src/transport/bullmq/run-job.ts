// One job on a worker host: the provider resolved from this host's own configuration (jobs only
// name it), the deadline from the job, the key's budget from the limiter (shared through Redis),
// then the call on this host's pool. Whatever happens, the job returns a JobResult: how the call
// ended, or that its thread died; it never throws (a thrown job would be BullMQ's retry, not ours).
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { abortError, type AbortReason } from '../../abort/reasons.ts';
import type { Clock } from '../../clock.ts';
import { SessionTimeoutError, type WireError } from '../../errors.ts';
import type { ProviderProfile } from '../../options.ts';
import type { Dispatcher } from '../../pool/pool.ts';
import type { ChatTask, ResolvedProvider } from '../../protocol.ts';
import type { Router } from '../../routing/router.ts';
import type { SessionSpec } from '../../supervisor/session-record.ts';
import type { JobData, JobResult } from './job.ts';
import type { JobIngress } from './job-ingress.ts';
import { ProgressRelay } from './progress-relay.ts';
import { call, failed } from './job-call.ts';
import { runExecuteJob } from './run-execute-job.ts';
import type { RecentAborts } from './worker-aborts.ts';

export interface RunningJob {
  readonly relay: ProgressRelay;
  /** Set by an abort; `wake` ends a wait for budget. */
  stopped?: AbortReason;
  wake?: () => void;
}

export interface JobRunnerDeps {
  host: string;
  providers: Map<string, ProviderProfile>;
  dispatcher: Dispatcher;
  router: Router;
  clock: Clock;
  running: Map<string, RunningJob>;
  aborts: RecentAborts;
  logger: Logger | undefined;
  /** Schema, signature, deadline and replay checks: what Redis hands over is not trusted. */
  ingress: JobIngress;
}

function localProvider(providers: Map<string, ProviderProfile>, name: string, host: string): ResolvedProvider | WireError {
  const profile = providers.get(name);
  const why =
    profile === undefined
      ? `has no provider named "${name}" (it has ${[...providers.keys()].map((p) => `"${p}"`).join(', ')})`
      : profile.apiKey === undefined
        ? `has no API key for provider "${name}"`
        : undefined;
  if (why !== undefined || profile?.apiKey === undefined)
    return { code: 'ERR_INVALID_REQUEST', name: 'InvalidRequestError', message: `Invalid request: the worker host ${host} ${why}` };
  const { keyEnv: _env, ...provider } = profile;
  return { ...provider, apiKey: profile.apiKey };
}

export async function runJob(job: Job, deps: JobRunnerDeps): Promise<JobResult> {
  const admitted = await deps.ingress.admit(job);
  if (!admitted.ok) return failed(deps.host, admitted.error);
  let result: JobResult | undefined;
  try {
    result = await runAdmitted(job, admitted.data, deps);
    return result;
  } finally {
    await deps.ingress.settled(job, result);
  }
}

async function runAdmitted(job: Job, data: JobData, deps: JobRunnerDeps): Promise<JobResult> {
  if (data.task.kind === 'execute') return runExecuteJob(job, { task: data.task, deadline: data.deadline }, deps);
  const queued = data.task;
  const { deadline } = data;
  const { sessionId } = queued;
  const provider = localProvider(deps.providers, queued.provider, deps.host);
  if ('code' in provider) return failed(deps.host, provider);
  const early = deps.aborts.take(sessionId);
  if (early !== undefined) return failed(deps.host, abortError(early, { sessionId }).toJSON());
  if (deadline <= Date.now())
    return failed(deps.host, new SessionTimeoutError('The session reached its deadline before a worker host took it', { sessionId }).toJSON());
  const job$: RunningJob = { relay: new ProgressRelay(job, deps.logger) };
  deps.running.set(sessionId, job$);
  try {
    const task: ChatTask = { ...queued, provider, budgetMs: deadline - Date.now(), run: Math.max(1, job.attemptsStarted) };
    deps.router.plan(sessionId, queued.requestId, [{ provider, call: task.call }]);
    const refused = await budget(deps, job$, task, deadline);
    if (refused !== undefined) return failed(deps.host, refused);
    await job$.relay.picked(deps.host);
    return await call(deps, job$, { ...task, budgetMs: Math.max(1, deadline - Date.now()) });
  } finally {
    deps.running.delete(sessionId);
    deps.router.released(sessionId);
  }
}

/** Waits for the key's budget (at once when the provider is not limited); the error when the session ends first. */
function budget(deps: JobRunnerDeps, job$: RunningJob, task: ChatTask, deadline: number): Promise<WireError | undefined> {
  const { sessionId } = task;
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => end(new SessionTimeoutError("The session reached its deadline waiting for its key's budget", { sessionId }).toJSON()),
      Math.max(0, deadline - Date.now()),
    );
    const end = (error: WireError | undefined) => {
      clearTimeout(timer);
      job$.wake = undefined;
      resolve(error);
    };
    job$.wake = () => end(abortError(job$.stopped ?? 'aborted', { sessionId }).toJSON());
    const at = deps.clock.now() + task.budgetMs;
    deps.router.wait(
      { sessionId } as SessionSpec,
      at,
      () => end(job$.stopped === undefined ? undefined : abortError(job$.stopped, { sessionId }).toJSON()),
      end,
    );
  });
}
