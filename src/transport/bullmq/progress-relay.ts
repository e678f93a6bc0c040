// The worker host's events of one job, sent back as job progress: the pick-up first, then the
// events the pool's threads report, batched by Redis itself: while one progress update is on its
// way, the next events pile up and leave together. No timer; never one update per chunk. Each
// message is sealed (result-signature.ts: one HMAC) in the order it is sent.
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { SessionEvent } from '../../wire/protocol.ts';
import type { JobProgress } from './job.ts';
import type { ProgressSealer } from './result-signature.ts';

export class ProgressRelay {
  readonly #job: Job;
  readonly #sealer: ProgressSealer;
  readonly #logger: Logger | undefined;
  #buffer: SessionEvent[] = [];
  #flushing: Promise<void> | undefined;

  constructor(job: Job, sealer: ProgressSealer, logger: Logger | undefined) {
    this.#job = job;
    this.#sealer = sealer;
    this.#logger = logger;
  }

  /** Tells the producer this host took the job (the session goes to `processing` there). */
  picked(host: string): Promise<void> {
    return this.#send({ picked: { host } });
  }

  push(event: SessionEvent): void {
    this.#buffer.push(event);
    this.#flushing ??= this.#flush();
  }

  /** Resolves once every event pushed so far was sent (before the job's result). */
  async drain(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
  }

  async #flush(): Promise<void> {
    while (this.#buffer.length > 0) {
      const events = this.#buffer;
      this.#buffer = [];
      await this.#send({ events });
    }
    this.#flushing = undefined;
  }

  async #send(progress: JobProgress): Promise<void> {
    try {
      await this.#job.updateProgress(this.#sealer.seal(progress) as object);
    } catch (error) {
      // The job is gone (Redis lost it, or it stalled away): the producer learns that on its own.
      this.#logger?.debug({ jobId: this.#job.id, err: (error as Error).message }, 'could not send job progress');
    }
  }
}
