// The producer's door for what comes back from Redis (result-signature.ts): a return value or a
// progress message reaches the engine only when a worker host holding the job secret signed it for
// this job, queue and session, and a progress message only in increasing (run, seq) order. What
// fails is dropped (the session then ends by its own path: the real answer, its deadline, or
// lostAfterMs), counted in `transport.stats().forged` and logged once per kind, without content.
// (A `failed` event cannot be signed, BullMQ writes it: the producer checks the job's state instead.)
//
// Order: BullMQ delivers progress through one stream, read by one reader in the order it was
// written, and a host sends a job's messages one after another. So a message at or below the last
// one taken is a replay (or a reorder by someone writing to Redis) and is dropped; gaps are taken
// (a message Redis lost, or one a host could not send): what reaches the engine is always a subsequence,
// in order, of what the host sent. A run BullMQ started again after a stall has a higher `run`.
import type { Logger } from 'pino';
import type { JobProgress, JobResult } from './job.ts';
import type { ResultSigner, SignedProgress } from './result-signature.ts';

/** The last progress message taken for a session's current job. */
export interface ProgressCursor {
  jobId: string;
  run: number;
  seq: number;
}

export type ForgedKind = 'result' | 'progress' | 'progress-replay' | 'failed';

export class ResultGuard {
  readonly #signer: ResultSigner;
  readonly #counts: { forged: number };
  readonly #logger: Logger | undefined;
  readonly #logged = new Set<ForgedKind>();

  constructor(signer: ResultSigner, counts: { forged: number }, logger: Logger | undefined) {
    this.#signer = signer;
    this.#counts = counts;
    this.#logger = logger;
  }

  /** The job's result when its signature holds; undefined (dropped, counted) otherwise. */
  result(jobId: string, sessionId: string, value: unknown): JobResult | undefined {
    return this.#signer.openResult(jobId, sessionId, value) ?? this.#forged('result', jobId);
  }

  /** The progress message's payload when signed for this job and newer than the last one taken; moves the cursor. */
  progress(jobId: string, holder: { sessionId: string; cursor?: ProgressCursor }, value: unknown): JobProgress | undefined {
    const message = value as Partial<SignedProgress> | null;
    if (!isSealed(message) || !this.#signer.verifyProgress(jobId, holder.sessionId, message)) return this.#forged('progress', jobId);
    const cursor = holder.cursor;
    if (cursor?.jobId === jobId && (message.run < cursor.run || (message.run === cursor.run && message.seq <= cursor.seq)))
      return this.#forged('progress-replay', jobId);
    let progress: JobProgress;
    try {
      progress = JSON.parse(message.body) as JobProgress;
    } catch {
      // Signed by a host, so never the case; still nothing that is not JSON goes further.
      return this.#forged('progress', jobId);
    }
    if (cursor === undefined) holder.cursor = { jobId, run: message.run, seq: message.seq };
    else {
      cursor.jobId = jobId;
      cursor.run = message.run;
      cursor.seq = message.seq;
    }
    return progress;
  }

  /** A failed event for a job Redis still holds (producer.ts #failedJob): BullMQ never writes one. */
  forgedFailure(jobId: string): void {
    this.#forged('failed', jobId);
  }

  #forged(kind: ForgedKind, jobId: string): undefined {
    this.#counts.forged++;
    if (this.#logged.has(kind)) return undefined;
    this.#logged.add(kind);
    this.#logger?.warn(
      { jobId, kind },
      'dropped a message from Redis that no worker host signed for this job (forged, or replayed): later ones of this kind are only counted (transport.stats().forged)',
    );
    return undefined;
  }
}

function isSealed(message: Partial<SignedProgress> | null): message is SignedProgress {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof message.body === 'string' &&
    typeof message.sig === 'string' &&
    Number.isSafeInteger(message.run) &&
    Number.isSafeInteger(message.seq)
  );
}
