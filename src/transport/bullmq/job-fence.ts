// The worker host's side of the fence (keys in fence-keys.ts). At pick-up, one MGET says whether
// the job may be sent to a provider: not when its session has ended, not when its producer is gone,
// and — for a job BullMQ put back after its host stopped — only once the producer said it runs the
// session again (it may instead fail it: a stream already delivered part of the answer). While a
// job runs, the same read is made again when a round is reported (a retry, a continuation), every
// SWEEP_MS for all runs, and when the host's Redis connection comes back (an abort published
// meanwhile was lost): a session that ended is aborted at once. The worker threads check their
// session's abort signal before every round, so this costs the threads nothing.
// A producer is gone when its liveness key is, or when its presence connection has been missing
// from Redis for a while (producer-presence.ts): a job whose producer is only "away" waits for it.
import type { Redis } from 'ioredis';
import { SessionAbortedError, SessionTimeoutError, TransportError } from '../../errors/errors.ts';
import type { WireError } from '../../types/errors.ts';
import type { FenceKeys } from './fence-keys.ts';
import type { ProducerPresence } from './producer-presence.ts';
import type { RerunPermits } from './rerun-permit.ts';

/** `away`: the producer's connection is missing, not for long yet (it may be reconnecting). */
export type Verdict = 'go' | 'ended' | 'orphaned' | 'wait' | 'away';

/** What a host needs to know of a job to read its verdict. */
export interface FencedJob {
  readonly sessionId: string;
  readonly jobId: string;
  readonly producer: string | undefined;
  /** BullMQ's count of pick-ups: above 1 the job was put back after its host stopped. */
  readonly picks: number;
}

const POLL_MS = 50;
const POLL_MAX_MS = 400;
/** While a producer is away, it is looked for this often (it is gone after GRACE_MS). */
const AWAY_POLL_MS = 100;

export class JobFence {
  readonly #redis: Redis;
  readonly #keys: FenceKeys;
  readonly #permits: RerunPermits;
  readonly #presence: ProducerPresence | undefined;

  constructor(redis: Redis, keys: FenceKeys, permits: RerunPermits, presence?: ProducerPresence) {
    this.#redis = redis;
    this.#keys = keys;
    this.#permits = permits;
    this.#presence = presence;
  }

  /** One read: the verdict on a job now. */
  async verdict(job: FencedJob): Promise<Verdict> {
    const keys = [this.#keys.ended(job.sessionId), this.#keys.rerun(job.jobId)];
    if (job.producer !== undefined) keys.push(this.#keys.producer(job.producer));
    const [ended, rerun, alive] = await this.#redis.mget(...keys);
    if (ended !== null) return 'ended';
    if (job.producer !== undefined && alive === null) return 'orphaned';
    const presence = job.producer === undefined || alive == null ? undefined : await this.#presence?.of(job.producer, alive);
    if (presence === 'gone') return 'orphaned';
    if (presence === 'away') return 'away';
    // A second start needs the producer's signed permit: anyone can write the key, only a producer can sign it.
    return job.picks > 1 && !this.#permits.valid(job.jobId, rerun) ? 'wait' : 'go';
  }

  /** Verdicts of many running jobs in one round trip (ended or orphaned ones only). */
  async stopped(jobs: FencedJob[]): Promise<Map<FencedJob, Verdict>> {
    const out = new Map<FencedJob, Verdict>();
    if (jobs.length === 0) return out;
    const keys = jobs.flatMap((job) => [
      this.#keys.ended(job.sessionId),
      job.producer === undefined ? this.#keys.ended(job.sessionId) : this.#keys.producer(job.producer),
    ]);
    const values = await this.#redis.mget(...keys);
    for (const [i, job] of jobs.entries()) {
      if (values[2 * i] !== null) out.set(job, 'ended');
      else if (job.producer !== undefined && values[2 * i + 1] === null) out.set(job, 'orphaned');
      // Missing since an earlier sweep (GRACE_MS): the producer died, its key has not expired yet.
      else if (job.producer !== undefined && (await this.#presence?.of(job.producer, values[2 * i + 1] ?? '')) === 'gone') out.set(job, 'orphaned');
    }
    return out;
  }

  /**
   * Whether the job may go: undefined, or the error it ends with, without any call. A job put back
   * after a stall waits (polling, bounded by its deadline) for the producer's word; a job whose
   * producer is away waits for it to be back, up to GRACE_MS (producer-presence.ts).
   */
  async admit(job: FencedJob, deadline: number, stopped: () => boolean): Promise<WireError | undefined> {
    const ids = { sessionId: job.sessionId };
    let pause = POLL_MS;
    for (;;) {
      let verdict: Verdict;
      try {
        verdict = await this.verdict(job);
      } catch (error) {
        return new TransportError(`The worker host could not read the session's fence in Redis: ${(error as Error).message}`, ids).toJSON();
      }
      if (verdict === 'go') return undefined;
      if (verdict === 'ended' || verdict === 'orphaned') return refusal(verdict, job.sessionId);
      if (stopped()) return new SessionAbortedError('The session was aborted before its job ran again', ids).toJSON();
      const wait = verdict === 'away' ? AWAY_POLL_MS : pause;
      if (Date.now() + wait >= deadline)
        return new SessionTimeoutError(
          `The session reached its deadline before ${verdict === 'away' ? 'its producer was back' : 'its producer said it runs again'}`,
          ids,
        ).toJSON();
      await new Promise((resolve) => setTimeout(resolve, wait));
      if (verdict === 'wait') pause = Math.min(POLL_MAX_MS, pause * 2);
    }
  }
}

export function refusal(verdict: 'ended' | 'orphaned', sessionId: string): WireError {
  return verdict === 'ended'
    ? new SessionAbortedError('The session ended before this job ran: nothing was sent to the provider', { sessionId }).toJSON()
    : new TransportError('The producer of this job is gone: nothing was sent to the provider', { sessionId }).toJSON();
}
