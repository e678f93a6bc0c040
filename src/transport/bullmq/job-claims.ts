// Replays: a signed job copied out of Redis and added again once the original was done (same id,
// same data: the signature still verifies) must not spend the key a second time. BullMQ itself
// legitimately starts a job twice: when its host died, the stalled-job check puts it back and
// another host runs it (maxStalledCount 1). So each job id has a claim in Redis:
//   starts  how many times a host began running it (a third start is no stall: refused)
//   done    set once a host finished the call (any later start is a replay: refused)
// expiring after the job's deadline (past it, the deadline itself refuses the job). One exception
// to `done`: a host can finish the call and die before BullMQ records the result; the producer, which
// never got it, then allows a re-run with its signed permit (rerun-permit.ts), and the job may start
// again as its second start (never a third). Someone who
// can also delete keys can remove a claim; each host therefore remembers in memory what it
// finished until its deadline, and the deadline bounds what is left.
import type { Redis } from 'ioredis';
import type { ResolvedConnection } from './connection.ts';
import { FenceKeys } from './fence-keys.ts';
import { loadIORedis } from './peers.ts';
import type { RerunPermits } from './rerun-permit.ts';

/** The first run and BullMQ's one re-run after a stall (maxStalledCount: 1). */
const MAX_STARTS = 2;
/** Claims outlive the deadline by this much, for clocks that differ between hosts. */
const KEEP_PAST_DEADLINE_MS = 10 * 60_000;
const REMEMBERED = 100_000;

const CLAIM = `if redis.call('HEXISTS', KEYS[1], 'done') == 1 then return 0 end
local starts = redis.call('HINCRBY', KEYS[1], 'starts', 1)
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return starts`;

// A start of a finished job that the producer allowed to run again (its result was lost with its host).
const AGAIN = `local starts = redis.call('HINCRBY', KEYS[1], 'starts', 1)
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return starts`;

const DONE = `redis.call('HSET', KEYS[1], 'done', '1')
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1`;

/** `starts`: this start's number, counted by the hosts themselves (BullMQ's own count is a field anyone can reset). */
export type Claim = { ok: true; starts: number } | { ok: false; why: 'ran' | 'started'; starts?: number };

export class JobClaims {
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #fence: FenceKeys;
  readonly #permits: RerunPermits;
  /** Jobs finished on this host, with the time their claims lapse (insertion order). */
  readonly #finished = new Map<string, number>();

  private constructor(client: Redis, prefix: string, fence: FenceKeys, permits: RerunPermits) {
    this.#client = client;
    this.#prefix = prefix;
    this.#fence = fence;
    this.#permits = permits;
  }

  static async open(connection: ResolvedConnection, prefix: string, queueName: string, host: string, permits: RerunPermits): Promise<JobClaims> {
    const { Redis } = await loadIORedis();
    const client = new Redis({ ...connection.options, maxRetriesPerRequest: 2, lazyConnect: true, connectionName: `sessionpool:claims:${host}` });
    // Errors reach the caller of each command; the host logs its own connections' errors.
    client.on('error', () => {});
    await client.connect();
    return new JobClaims(client, `${prefix}:${queueName}:sessionpool:claims:`, new FenceKeys(prefix, queueName), permits);
  }

  /** Records a start of the job; refused when it was finished already or started more often than BullMQ would. */
  async claim(jobId: string, deadline: number): Promise<Claim> {
    const until = String(Math.ceil(deadline + KEEP_PAST_DEADLINE_MS));
    let starts = this.#remembers(jobId) ? 0 : Number(await this.#client.eval(CLAIM, 1, this.#prefix + jobId, until));
    if (starts === 0) {
      // Finished once: only the producer's signed permit lets it start again (as its second start).
      if (!this.#permits.valid(jobId, await this.#client.get(this.#fence.rerun(jobId)))) return { ok: false, why: 'ran' };
      starts = Number(await this.#client.eval(AGAIN, 1, this.#prefix + jobId, until));
    }
    return starts > MAX_STARTS ? { ok: false, why: 'started', starts: starts - 1 } : { ok: true, starts };
  }

  /** The job's call ended (whatever its outcome): any later start is a replay. */
  async finished(jobId: string, deadline: number): Promise<void> {
    const until = Math.ceil(deadline + KEEP_PAST_DEADLINE_MS);
    this.#remember(jobId, until);
    await this.#client.eval(DONE, 1, this.#prefix + jobId, String(until));
  }

  close(): void {
    this.#client.disconnect();
  }

  #remembers(jobId: string): boolean {
    const until = this.#finished.get(jobId);
    return until !== undefined && until > Date.now();
  }

  #remember(jobId: string, until: number): void {
    this.#finished.set(jobId, until);
    const now = Date.now();
    for (const [id, at] of this.#finished) {
      if (at > now && this.#finished.size <= REMEMBERED) break;
      this.#finished.delete(id);
    }
  }
}
