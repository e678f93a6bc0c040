// The producer's reader of the queue's event stream (`<prefix>:<queue>:events`), in place of
// BullMQ's QueueEvents. QueueEvents JSON.parses each `progress` and `completed` entry inside its read
// loop, so one entry that is not JSON, XADDed by anyone who can write to Redis, ends that loop for
// good: the producer hears nothing more and every later session ends by its deadline (seen in
// test/bullmq/bullmq-results.test.ts). Here each entry is taken on its own: a value that is not JSON is
// handed on as undefined (result-guard.ts drops and counts it) and the loop goes on. The same read
// as QueueEvents: XREAD BLOCK from the last entry seen, on a connection of its own that waits for
// Redis however long it is away (the read is sent again when it is back).
import type { Redis, RedisOptions } from 'ioredis';

export interface StreamHandlers {
  /** A progress message and a return value as read: not trusted, undefined when not JSON. */
  progress(jobId: string, data: unknown): void;
  completed(jobId: string, value: unknown): void;
  failed(jobId: string, reason: string): void;
  stalled(jobId: string): void;
}

const BLOCK_MS = 5000;
// After a read failed (Redis away), before the next one: ioredis reconnects meanwhile.
const RETRY_MS = 1000;

export class EventReader {
  readonly #client: Redis;
  readonly #key: string;
  readonly #on: StreamHandlers;
  readonly #warn: (error: unknown) => void;
  #id: string;
  #closing = false;
  #loop: Promise<void> | undefined;

  constructor(
    RedisClass: new (options: RedisOptions) => Redis,
    options: RedisOptions,
    stream: { key: string; lastEventId: string },
    on: StreamHandlers,
    warn: (error: unknown) => void,
  ) {
    this.#client = new RedisClass({ ...options, maxRetriesPerRequest: null });
    this.#client.on('error', warn);
    this.#key = stream.key;
    this.#id = stream.lastEventId;
    this.#on = on;
    this.#warn = warn;
  }

  /** Resolves once Redis answered; the reading starts then. */
  async waitUntilReady(): Promise<void> {
    await this.#client.ping();
    this.#loop ??= this.#run();
  }

  /** Stops reading and lets go of the connection (a read in progress ends with it). */
  async close(): Promise<void> {
    this.#closing = true;
    this.#client.disconnect();
    await this.#loop;
  }

  async disconnect(): Promise<void> {
    await this.close();
  }

  async #run(): Promise<void> {
    while (!this.#closing) {
      let reply: Array<[string, Array<[string, string[]]>]> | null;
      try {
        reply = (await this.#client.xread('BLOCK', BLOCK_MS, 'STREAMS', this.#key, this.#id)) as typeof reply;
      } catch (error) {
        if (this.#closing) return;
        this.#warn(error);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
        continue;
      }
      for (const [, entries] of reply ?? [])
        for (const [id, fields] of entries) {
          this.#id = id;
          this.#dispatch(fields);
        }
    }
  }

  /** One entry, as BullMQ's scripts write it: `event`, `jobId`, then `data` / `returnvalue` / `failedReason`. */
  #dispatch(fields: string[]): void {
    let event: string | undefined;
    let jobId: string | undefined;
    let value: string | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i];
      if (name === 'event') event = fields[i + 1];
      else if (name === 'jobId') jobId = fields[i + 1];
      else if (name === 'data' || name === 'returnvalue' || name === 'failedReason') value = fields[i + 1];
    }
    if (jobId === undefined) return;
    try {
      if (event === 'progress') this.#on.progress(jobId, parse(value));
      else if (event === 'completed') this.#on.completed(jobId, parse(value));
      else if (event === 'failed') this.#on.failed(jobId, value ?? '');
      else if (event === 'stalled') this.#on.stalled(jobId);
    } catch (error) {
      // A handler's fault must not end the reading either.
      this.#warn(error);
    }
  }
}

function parse(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
