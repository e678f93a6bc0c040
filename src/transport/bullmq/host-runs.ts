// The jobs a worker host runs, keyed by session *and* job: one session may have two jobs on one
// host (the producer queued it again after Redis lost the first, or BullMQ handed a stalled job
// back while its first run still ends). The newest job of a session wins: the older ones are
// stopped (their result can reach nobody) and the newest waits for them to end before it plans,
// waits for budget or calls, because the router, the key queues and the pool's threads know a
// session by its id: one run of a session at a time in them, so none is overwritten or left behind.
import type { AbortReason } from '../../types/session.ts';
import type { FencedJob } from './job-fence.ts';
import type { ProgressRelay } from './progress-relay.ts';

export class RunningJob {
  readonly job: FencedJob;
  readonly relay: ProgressRelay;
  /** Set by an abort; `wake` ends a wait (for older runs, for budget). */
  stopped?: AbortReason;
  wake?: () => void;
  /** In the pool now: its session's events are this run's. */
  calling = false;
  /** Stopped because its host closes, not because its session ended. */
  letGo = false;
  readonly #ended = Promise.withResolvers<void>();

  constructor(job: FencedJob, relay: ProgressRelay) {
    this.job = job;
    this.relay = relay;
  }

  get sessionId(): string {
    return this.job.sessionId;
  }

  /** Resolves once the run has let go of everything (route, budget, pool). */
  get ended(): Promise<void> {
    return this.#ended.promise;
  }

  end(): void {
    this.#ended.resolve();
  }
}

export class HostRuns {
  readonly #bySession = new Map<string, RunningJob[]>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Adds a run; returns the session's older runs on this host (to be stopped and waited for). */
  add(run: RunningJob): RunningJob[] {
    const runs = this.#bySession.get(run.sessionId);
    this.#size++;
    if (runs === undefined) {
      this.#bySession.set(run.sessionId, [run]);
      return [];
    }
    const older = [...runs];
    runs.push(run);
    return older;
  }

  delete(run: RunningJob): void {
    const runs = this.#bySession.get(run.sessionId);
    const at = runs?.indexOf(run) ?? -1;
    if (runs === undefined || at < 0) return;
    runs.splice(at, 1);
    this.#size--;
    if (runs.length === 0) this.#bySession.delete(run.sessionId);
  }

  /** Every run of a session (an abort is for the session: all of them). */
  of(sessionId: string): readonly RunningJob[] {
    return this.#bySession.get(sessionId) ?? [];
  }

  /** The run of the session that is in the pool now, whose events these are. */
  calling(sessionId: string): RunningJob | undefined {
    return this.#bySession.get(sessionId)?.find((run) => run.calling);
  }

  all(): RunningJob[] {
    return [...this.#bySession.values()].flat();
  }
}
