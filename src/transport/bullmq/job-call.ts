// The end of every job on a worker host: the call on this host's pool, its events drained to the
// producer before the result, and the job's return value (how the call ended, or that its thread died).
import type { WireError } from '../../types/errors.ts';
import { runOnce } from '../../seam/seam.ts';
import type { SessionTask } from '../../wire/protocol.ts';
import type { RunningJob, HostRuns } from './host-runs.ts';
import type { JobResult } from './job.ts';
import type { ProviderProfile } from '../../request/providers.ts';
import type { Dispatcher } from '../../seam/seam.ts';
import type { Router } from '../../routing/router.ts';
import type { Clock } from '../../util/clock.ts';
import type { RecentAborts } from './worker-aborts.ts';
import type { JobFence } from './job-fence.ts';
import type { AbortReason } from '../../types/session.ts';
import type { Logger } from 'pino';
import type { JobIngress } from './job-ingress.ts';
import type { ResultSigner } from './result-signature.ts';
import { startHostSpan } from '../../telemetry/host-span.ts';

/** A job that ends before any call: the typed error is its return value. */
export const failed = (host: string, error: WireError): JobResult => ({ host, threadId: -1, outcome: { ok: false, error, attempts: 0 } });

export async function call(deps: JobRunnerDeps, run: RunningJob, task: SessionTask): Promise<JobResult> {
  // While in the pool, the session's events are this run's (host-runs.ts).
  run.calling = true;
  const span =
    task.kind === 'chat'
      ? startHostSpan(task.trace, { 'sessionpool.session.id': task.sessionId, 'sessionpool.host': deps.host, 'gen_ai.request.model': task.call.model })
      : undefined;
  try {
    const { threadId, ...outcome } = await runOnce(deps.dispatcher, task);
    run.calling = false;
    span?.end(outcome.ok ? undefined : outcome.error);
    await run.relay.drain();
    return { host: deps.host, threadId, outcome };
  } catch (error) {
    run.calling = false;
    span?.end({ code: 'ERR_WORKER_CRASHED', message: 'the worker thread running the job died' });
    await run.relay.drain();
    return { host: deps.host, crashed: error instanceof Error ? error.message : String(error) };
  }
}

export interface JobRunnerDeps {
  host: string;
  providers: Map<string, ProviderProfile>;
  dispatcher: Dispatcher;
  router: Router;
  clock: Clock;
  running: HostRuns;
  aborts: RecentAborts;
  /** The producer's verdicts in Redis (undefined: no fence, every job goes). */
  fence: JobFence | undefined;
  /** Stops one run (an older run of a session whose newer job came to this host). */
  stop(run: RunningJob, reason: AbortReason): void;
  logger: Logger | undefined;
  /** Schema, signature, deadline and replay checks: what Redis hands over is not trusted. */
  ingress: JobIngress;
  /** Signs what goes back: the producer trusts Redis no more than the host does. */
  results: ResultSigner;
}
