// The end of every job on a worker host: the call on this host's pool, its events drained to the
// producer before the result, and the job's return value (how the call ended, or that its thread died).
import type { WireError } from '../../types/errors.ts';
import { runOnce } from '../../pool/pool.ts';
import type { SessionTask } from '../../wire/protocol.ts';
import type { RunningJob } from './host-runs.ts';
import type { JobResult } from './job.ts';
import type { JobRunnerDeps } from './run-job.ts';

/** A job that ends before any call: the typed error is its return value. */
export const failed = (host: string, error: WireError): JobResult => ({ host, threadId: -1, outcome: { ok: false, error, attempts: 0 } });

export async function call(deps: JobRunnerDeps, run: RunningJob, task: SessionTask): Promise<JobResult> {
  // While in the pool, the session's events are this run's (host-runs.ts).
  run.calling = true;
  try {
    const { threadId, ...outcome } = await runOnce(deps.dispatcher, task);
    run.calling = false;
    await run.relay.drain();
    return { host: deps.host, threadId, outcome };
  } catch (error) {
    run.calling = false;
    await run.relay.drain();
    return { host: deps.host, crashed: error instanceof Error ? error.message : String(error) };
  }
}
