// One job on a worker host: the provider resolved from this host's own configuration (jobs only
// name it), the deadline from the job, the key's budget from the limiter (shared through Redis),
// then the call on this host's pool. Whatever happens, the job returns a JobResult: how the call
// ended, or that its thread died; it never throws (a thrown job would be BullMQ's retry, not ours).
// Before anything is sent, the producer's verdict (job-fence.ts): a job of a session that ended, or
// of a producer that is gone, ends here without a call. A session's older run on this host is
// stopped and waited for first (host-runs.ts). What goes back (progress, the return value) is
// signed for the job (result-signature.ts): the producer takes nothing else from Redis.
import type { Job } from 'bullmq';
import { abortError } from '../../errors/abort-reasons.ts';
import { SessionTimeoutError, TransportError } from '../../errors/errors.ts';
import type { WireError } from '../../types/errors.ts';
import type { ProviderProfile } from '../../request/providers.ts';
import type { ChatTask, ResolvedProvider } from '../../wire/protocol.ts';
import type { SessionSpec } from '../../seam/seam.ts';
import { RunningJob } from './host-runs.ts';
import type { JobData, JobResult } from './job.ts';
import type { FencedJob } from './job-fence.ts';
import { ProgressRelay } from './progress-relay.ts';
import { CanonicalJSONError } from './canonical-json.ts';
import { type SignedJobResult, sessionOfJob } from './result-signature.ts';
import { call, failed } from './job-call.ts';
import { runExecuteJob } from './run-execute-job.ts';
import type { JobRunnerDeps } from './job-call.ts';

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

export async function runJob(job: Job, deps: JobRunnerDeps): Promise<SignedJobResult> {
  const jobId = String(job.id);
  const admitted = await deps.ingress.admit(job);
  // A refused job's session is the one its id names (a producer's job ids are `<sessionId>.<n>`).
  if (!admitted.ok) return signed(deps, jobId, sessionOfJob(jobId), failed(deps.host, admitted.error));
  let result: JobResult | undefined;
  try {
    result = await runAdmitted(job, admitted.data, admitted.starts, deps);
  } finally {
    await deps.ingress.settled(job, result);
  }
  return signed(deps, jobId, admitted.data.task.sessionId, result);
}

/** The return value signed; one that is not JSON (an execute handler's BigInt) could not cross Redis anyway: a typed error instead. */
function signed(deps: JobRunnerDeps, jobId: string, sessionId: string, result: JobResult): SignedJobResult {
  try {
    return deps.results.signResult(jobId, sessionId, result);
  } catch (error) {
    if (!(error instanceof CanonicalJSONError || error instanceof RangeError)) throw error;
    const why = new TransportError(`The session's result could not be sent back from ${deps.host}: it is not JSON`, { sessionId });
    return deps.results.signResult(jobId, sessionId, failed(deps.host, why.toJSON()));
  }
}

async function runAdmitted(job: Job, data: JobData, starts: number, deps: JobRunnerDeps): Promise<JobResult> {
  const { task: queued, deadline } = data;
  const { sessionId } = queued;
  const provider = queued.kind === 'chat' ? localProvider(deps.providers, queued.provider, deps.host) : undefined;
  if (provider !== undefined && 'code' in provider) return failed(deps.host, provider);
  if (deadline <= Date.now())
    return failed(deps.host, new SessionTimeoutError('The session reached its deadline before a worker host took it', { sessionId }).toJSON());
  // A start after the first needs the producer's word (the fence): counted by the claim too, since BullMQ's own
  // count (`ats` in the job's hash) is anyone's to reset, and a job put back in `wait` while it ran then passed as a first start.
  const fenced: FencedJob = {
    sessionId,
    jobId: String(job.id),
    producer: data.producer,
    picks: Math.max(Number.isSafeInteger(job.attemptsStarted) ? job.attemptsStarted : 0, starts),
  };
  const refused = (await deps.fence?.admit(fenced, deadline, () => deps.aborts.has(sessionId))) ?? abortedEarly(deps, sessionId);
  if (refused !== undefined) return failed(deps.host, refused);
  const run = new RunningJob(fenced, new ProgressRelay(job, deps.results.sealer(fenced.jobId, sessionId, job.attemptsStarted), deps.logger));
  const older = deps.running.add(run);
  try {
    for (const previous of older) deps.stop(previous, 'aborted');
    const waited = await afterOlder(run, older, deadline);
    const budgetMs = deadline - Date.now();
    const runNo = Math.max(1, job.attemptsStarted);
    const result =
      waited !== undefined
        ? failed(deps.host, waited)
        : queued.kind === 'execute'
          ? await runExecuteJob(deps, run, { ...queued, budgetMs, run: runNo }, deadline)
          : await planned(deps, run, { ...queued, provider: provider as ResolvedProvider, budgetMs, run: runNo }, deadline);
    // Let go by a host that closed: not the session's end, a crash (the producer runs it again once, if it may).
    return run.letGo ? { host: deps.host, crashed: 'the worker host closed before the call ended' } : result;
  } finally {
    deps.running.delete(run);
    run.end();
  }
}

function abortedEarly(deps: JobRunnerDeps, sessionId: string): WireError | undefined {
  const early = deps.aborts.take(sessionId);
  return early === undefined ? undefined : abortError(early, { sessionId }).toJSON();
}

/** Waits for the session's older runs on this host to let go (they were stopped); the error when this one ends first. */
async function afterOlder(run: RunningJob, older: RunningJob[], deadline: number): Promise<WireError | undefined> {
  if (older.length === 0) return undefined;
  const { sessionId } = run;
  let timer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    Promise.all(older.map((o) => o.ended)).then(() => undefined),
    new Promise<WireError>((resolve) => {
      timer = setTimeout(
        () => resolve(new SessionTimeoutError('The session reached its deadline while an older job of it ended on this host', { sessionId }).toJSON()),
        Math.max(0, deadline - Date.now()),
      );
      run.wake = () => resolve(abortError(run.stopped ?? 'aborted', { sessionId }).toJSON());
    }),
  ]);
  clearTimeout(timer);
  run.wake = undefined;
  return ended ?? (run.stopped === undefined ? undefined : abortError(run.stopped, { sessionId }).toJSON());
}

/** The run with its route planned (and let go at the end): budget, the pick-up report, the call. */
async function planned(deps: JobRunnerDeps, run: RunningJob, task: ChatTask, deadline: number): Promise<JobResult> {
  const { sessionId } = task;
  deps.router.plan(sessionId, task.requestId, [{ provider: task.provider, call: task.call }]);
  try {
    const refused = await budget(deps, run, task, deadline);
    if (refused !== undefined) return failed(deps.host, refused);
    await run.relay.picked(deps.host);
    // Stopped while the pick-up was on its way: nothing is sent.
    if (run.stopped !== undefined) return failed(deps.host, abortError(run.stopped, { sessionId }).toJSON());
    return await call(deps, run, { ...task, budgetMs: Math.max(1, deadline - Date.now()) });
  } finally {
    deps.router.released(sessionId);
  }
}

/** Waits for the key's budget (at once when the provider is not limited); the error when the session ends first. */
function budget(deps: JobRunnerDeps, run: RunningJob, task: ChatTask, deadline: number): Promise<WireError | undefined> {
  const { sessionId } = task;
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => end(new SessionTimeoutError("The session reached its deadline waiting for its key's budget", { sessionId }).toJSON()),
      Math.max(0, deadline - Date.now()),
    );
    const end = (error: WireError | undefined) => {
      clearTimeout(timer);
      run.wake = undefined;
      resolve(error);
    };
    run.wake = () => end(abortError(run.stopped ?? 'aborted', { sessionId }).toJSON());
    const at = deps.clock.now() + task.budgetMs;
    deps.router.wait({ sessionId } as SessionSpec, at, () => end(run.stopped === undefined ? undefined : abortError(run.stopped, { sessionId }).toJSON()), end);
  });
}
