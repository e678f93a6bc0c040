// The Redis keys of the fence between producers and worker hosts: what a producer says about its
// sessions and itself, which a host reads before it sends anything to a provider.
//
//   <prefix>:<queue>:sessionpool:ended:<sessionId>    the session has ended: none of its jobs may run
//                                                       (TTL: the job's deadline + ENDED_MARGIN_MS)
//   <prefix>:<queue>:sessionpool:rerun:<jobId>        the producer runs the session again on this job,
//                                                       which BullMQ put back after its host stopped (same TTL;
//                                                       its value is a permit signed with the job secret: rerun-permit.ts)
//   <prefix>:<queue>:sessionpool:producer:<producer>  the producer is alive (TTL: producerTtlMs, refreshed
//                                                       every third of it; deleted when it closes)
// Other values are "1" (the key's presence is the verdict) or, for a producer, its client id. No key holds anything from the request.

/** Past the deadline hosts refuse a job on their own; the margin covers clocks that disagree. */
export const ENDED_MARGIN_MS = 60_000;

export class FenceKeys {
  readonly #base: string;

  constructor(prefix: string, queueName: string) {
    this.#base = `${prefix}:${queueName}:sessionpool`;
  }

  ended(sessionId: string): string {
    return `${this.#base}:ended:${sessionId}`;
  }

  rerun(jobId: string): string {
    return `${this.#base}:rerun:${jobId}`;
  }

  producer(producerId: string): string {
    return `${this.#base}:producer:${producerId}`;
  }
}

/** How long a verdict about a job that ends at `deadline` (epoch ms) must be kept. */
export function verdictTtlMs(deadline: number, now = Date.now()): number {
  return Math.max(1000, Math.ceil(deadline - now) + ENDED_MARGIN_MS);
}
