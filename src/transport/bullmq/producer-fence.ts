// The producer's side of the fence (keys in fence-keys.ts): its verdicts on its sessions, and its
// liveness. Writes go on a connection of their own that waits for Redis however long it is away
// (ioredis's offline queue, maxRetriesPerRequest: null): a verdict given while Redis is unreachable
// is among the first commands sent when it is back. The session itself never waits for a write:
// it ends by its deadline whatever Redis does.
import type { Redis } from 'ioredis';
import { within } from './bounded.ts';
import { type FenceKeys, verdictTtlMs } from './fence-keys.ts';
import { presenceValue } from './producer-presence.ts';
import type { RerunPermits } from './rerun-permit.ts';

export class ProducerFence {
  readonly id: string;
  readonly #redis: Redis;
  readonly #keys: FenceKeys;
  readonly #permits: RerunPermits;
  readonly #ttlMs: number;
  readonly #warn: (what: string, error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #refreshing = false;
  #closed = false;
  #away = false;

  constructor(redis: Redis, keys: FenceKeys, permits: RerunPermits, id: string, ttlMs: number, warn: (what: string, error: unknown) => void) {
    this.#redis = redis;
    this.#keys = keys;
    this.#permits = permits;
    this.id = id;
    this.#ttlMs = ttlMs;
    this.#warn = warn;
  }

  /** Says this producer is alive (before its first job), then again every third of the TTL, and at once when Redis is back. */
  async start(): Promise<void> {
    await this.alive();
    this.#timer = setInterval(() => this.#refresh(), Math.max(100, Math.floor(this.#ttlMs / 3))).unref();
    // No refreshes while Redis is away: when it is back, the verdicts given meanwhile (ioredis's
    // offline queue, sent before 'ready' is emitted) go before the first sign of life, and a
    // restarted Redis, which lost the key, gets it again at once.
    this.#redis.on('close', () => {
      this.#away = true;
    });
    this.#redis.on('ready', () => {
      if (!this.#away) return;
      this.#away = false;
      void this.alive().catch(() => {});
    });
  }

  /**
   * Sets the liveness key now (before jobs are queued again after Redis came back), to this
   * connection's client id: hosts look for that client (producer-presence.ts), which Redis drops at
   * once when this process dies. A reconnection is a new client: the key is set again on 'ready'.
   */
  async alive(): Promise<void> {
    // A Redis without CLIENT ID (before 5.0) gets "1": hosts then go by the key alone.
    const clientId = await this.#redis.client('ID').catch(() => undefined);
    await this.#redis.set(this.#keys.producer(this.id), clientId === undefined ? '1' : presenceValue(clientId), 'PX', this.#ttlMs);
  }

  /** The session has ended: none of its jobs may be sent to a provider from now on. */
  ended(sessionId: string, deadline: number): Promise<void> {
    return this.#write(this.#keys.ended(sessionId), '1', verdictTtlMs(deadline), 'could not record that a session ended');
  }

  /** The session runs again on this job, which BullMQ put back after its host stopped. */
  rerun(jobId: string, deadline: number): Promise<void> {
    return this.#write(this.#keys.rerun(jobId), this.#permits.value(jobId), verdictTtlMs(deadline), 'could not allow a job to run again');
  }

  /** No more liveness: hosts refuse this producer's remaining jobs at once. Waits at most `timeoutMs`. */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await within(this.#redis.del(this.#keys.producer(this.id)), timeoutMs);
    this.#redis.disconnect();
  }

  #refresh(): void {
    // One refresh at a time: while Redis is away they would only pile up in the offline queue.
    if (this.#refreshing || this.#closed || this.#away) return;
    this.#refreshing = true;
    this.alive()
      .catch(() => {})
      .finally(() => {
        this.#refreshing = false;
      });
  }

  async #write(key: string, value: string, ttlMs: number, what: string): Promise<void> {
    try {
      await this.#redis.set(key, value, 'PX', ttlMs);
    } catch (error) {
      if (!this.#closed) this.#warn(what, error);
    }
  }
}
