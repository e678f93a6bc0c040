// The limiter's store in Redis: the same limiter (routing/budget.ts) for every host that shares a
// key. One step = WATCH key → GET + TIME → change(state, Redis time) → MULTI SET EXEC, tried again
// when another host changed the key in between. Redis's clock is the one clock of every host.
// WATCH belongs to a connection: steps run one at a time on a connection of their own.
import type { Redis } from 'ioredis';
import type { KeyState, LimiterStore } from '../../types/options.ts';
import { type ResolvedConnection, scrubRedis } from './connection.ts';
import { loadIORedis } from './peers.ts';

// A key nobody used for this long starts afresh (a full bucket): nothing piles up in Redis.
const STATE_TTL_MS = 3_600_000;
const MAX_CONFLICTS = 100;

export class RedisLimiterStore implements LimiterStore {
  readonly #client: Promise<Redis>;
  readonly #prefix: string;
  readonly #connection: ResolvedConnection;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(connection: ResolvedConnection, prefix = 'sessionpool:limits:') {
    this.#prefix = prefix;
    this.#connection = connection;
    this.#client = loadIORedis().then(({ Redis }) => new Redis({ ...connection.options, maxRetriesPerRequest: 3, connectionName: 'sessionpool:limiter' }));
    this.#client.then(
      (client) => client.on('error', () => {}),
      () => {},
    );
  }

  update<R>(key: string, change: (state: KeyState | undefined, now: number) => [KeyState, R]): Promise<R> {
    // Its failures are logged by whoever uses the store: the password never goes with them.
    const step = this.#chain
      .then(() => this.#transact(`${this.#prefix}${key}`, change))
      .catch((error: unknown) => Promise.reject(new Error(scrubRedis(this.#connection, error))));
    this.#chain = step.catch(() => {});
    return step;
  }

  async close(): Promise<void> {
    const client = await this.#client.catch(() => undefined);
    client?.disconnect();
  }

  async #transact<R>(key: string, change: (state: KeyState | undefined, now: number) => [KeyState, R]): Promise<R> {
    const redis = await this.#client;
    for (let conflict = 0; conflict < MAX_CONFLICTS; conflict++) {
      await redis.watch(key);
      let next: KeyState;
      let result: R;
      try {
        const [raw, [seconds, micros]] = await Promise.all([redis.get(key), redis.time()]);
        [next, result] = change(raw === null ? undefined : (JSON.parse(raw) as KeyState), Number(seconds) * 1000 + Number(micros) / 1000);
      } catch (error) {
        await redis.unwatch();
        throw error;
      }
      const done = await redis.multi().set(key, JSON.stringify(next), 'PX', STATE_TTL_MS).exec();
      if (done !== null) return result;
    }
    throw new Error(`The limiter key ${key} kept changing under ${MAX_CONFLICTS} attempts`);
  }
}
