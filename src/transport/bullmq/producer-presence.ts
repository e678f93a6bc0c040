// Whether a job's producer is still there, from Redis's own table of clients. Each producer keeps one
// long-lived connection named `sessionpool:producer:<id>` (producer-link.ts) and writes that
// connection's client id into its liveness key (`c<client id>`, producer-fence.ts). When its process
// dies the kernel closes the socket and Redis drops the client at once: hosts see it within FRESH_MS,
// where the key alone would stay until its TTL (producerTtlMs) ran out. CLIENT LIST ID costs the same
// however many clients Redis has (a plain CLIENT LIST walks them all: ~9 ms at 1,000 clients).
// A producer whose connection is missing may only be reconnecting (Redis restarted, a network blip;
// it writes its new client id when back): it is "away" and hosts wait; "gone" once missing for
// GRACE_MS. Where CLIENT LIST is not allowed (an ACL without +client|list, Redis before 6.2), the
// host says so once and the key alone decides.
import type { Redis } from 'ioredis';

/** The name of the producer's presence connection (CLIENT SETNAME). */
export function producerClientName(producerId: string): string {
  return `sessionpool:producer:${producerId}`;
}

/** The liveness key's value: the presence connection's client id. */
export function presenceValue(clientId: number): string {
  return `c${clientId}`;
}

/** A look this recent answers for a producer found connected (no round trip per job). */
const FRESH_MS = 150;
/** A producer found missing is looked for again after this. */
const RECHECK_MS = 50;
/** Missing this long: gone (a producer reconnects within ~100 ms of Redis being back). */
export const GRACE_MS = 1500;
/** Producers remembered (ids are random: the oldest are dropped first). */
const MAX_REMEMBERED = 10_000;

/** here: connected; away: missing for less than GRACE_MS; gone: missing longer; unknown: cannot tell (the key decides). */
export type Presence = 'here' | 'away' | 'gone' | 'unknown';

interface Look {
  clientId: string;
  at: number;
  here: boolean;
  pending?: Promise<void>;
}

export class ProducerPresence {
  readonly #redis: Redis;
  readonly #warn: (message: string) => void;
  readonly #looks = new Map<string, Look>();
  readonly #missingSince = new Map<string, number>();
  #notAllowed = false;

  constructor(redis: Redis, warn: (message: string) => void) {
    this.#redis = redis;
    this.#warn = warn;
  }

  /** `alive` is the liveness key's value; a value without a client id (an older producer) tells nothing. */
  async of(producerId: string, alive: string): Promise<Presence> {
    const clientId = /^c(\d+)$/.exec(alive)?.[1];
    if (this.#notAllowed || clientId === undefined) return 'unknown';
    let look = this.#looks.get(producerId);
    if (look?.clientId !== clientId) look = this.#remember(producerId, { clientId, at: Number.NEGATIVE_INFINITY, here: false });
    const age = performance.now() - look.at;
    if (age >= (look.here ? FRESH_MS : RECHECK_MS)) {
      look.pending ??= this.#look(producerId, look).finally(() => {
        if (look !== undefined) look.pending = undefined;
      });
      await look.pending;
    }
    if (this.#notAllowed || look.at === Number.NEGATIVE_INFINITY) return 'unknown';
    if (look.here) {
      this.#missingSince.delete(producerId);
      return 'here';
    }
    return performance.now() - this.#missing(producerId) >= GRACE_MS ? 'gone' : 'away';
  }

  #remember(producerId: string, look: Look): Look {
    this.#looks.delete(producerId);
    if (this.#looks.size >= MAX_REMEMBERED) this.#looks.delete(this.#looks.keys().next().value as string);
    this.#looks.set(producerId, look);
    return look;
  }

  #missing(producerId: string): number {
    let since = this.#missingSince.get(producerId);
    if (since === undefined) {
      since = performance.now();
      if (this.#missingSince.size >= MAX_REMEMBERED) this.#missingSince.delete(this.#missingSince.keys().next().value as string);
      this.#missingSince.set(producerId, since);
    }
    return since;
  }

  /** One CLIENT LIST ID: the client is there and still named as the producer's (ids restart with Redis). */
  async #look(producerId: string, look: Look): Promise<void> {
    try {
      const line = (await this.#redis.call('CLIENT', 'LIST', 'ID', look.clientId)) as string;
      look.here = / name=(\S*)/.exec(line)?.[1] === producerClientName(producerId);
      look.at = performance.now();
    } catch (error) {
      // Redis away: unknown until it answers (the key decides). Not allowed: for good.
      look.at = Number.NEGATIVE_INFINITY;
      const message = (error as Error).message ?? '';
      if (!/NOPERM|unknown (sub)?command|syntax error|wrong number/i.test(message) || this.#notAllowed) return;
      this.#notAllowed = true;
      this.#warn(`CLIENT LIST ID is not allowed (${message}): a dead producer's jobs are refused only once its liveness key expires`);
    }
  }
}
