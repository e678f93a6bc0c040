// The door of a worker host: every job BullMQ hands over passes here before any work. In order:
//   1. the wire schema (job-schema.ts): malformed jobs, kinds or handlers this host does not run → ERR_INVALID_REQUEST
//   2. the signature (job-signature.ts): unsigned, tampered, foreign → ERR_TRANSPORT
//   3. the deadline: a job whose session has ended                   → ERR_SESSION_TIMEOUT
//   4. the claim (job-claims.ts): a job that ran already             → ERR_TRANSPORT
// A refused job still ends as a job (its return value carries the typed error), holds no slot and
// makes no provider call. Refusals are never retryable: the same job would be refused again.
import { InvalidRequestError, SessionTimeoutError, TransportError, type SessionPoolError } from '../../errors/errors.ts';
import type { WireError } from '../../types/errors.ts';
import type { JobData, JobResult } from './job.ts';
import { CanonicalJSONError } from './canonical-json.ts';
import { parseJobData } from './job-schema.ts';
import type { JobClaims } from './job-claims.ts';
import type { JobSigner } from './job-signature.ts';

/** Canonical text beyond this (a job holding more than any request could) is refused before hashing. */
const MAX_JOB_CHARS = 128 * 1024 * 1024;

/** `starts`: how many times hosts began this job, this start included (its claim's count). */
export type Admission = { ok: true; data: JobData; starts: number } | { ok: false; error: WireError };

/** What the door needs of a BullMQ job. */
export interface IncomingJob {
  readonly id?: string | undefined;
  readonly data: unknown;
}

export class JobIngress {
  readonly #signer: JobSigner;
  readonly #claims: JobClaims;
  readonly #host: string;
  readonly #handlers: ReadonlySet<string>;
  /** Admitted jobs by id, with their deadline, until they settle. */
  readonly #admitted = new Map<string, number>();

  constructor(signer: JobSigner, claims: JobClaims, host: string, handlers: ReadonlySet<string>) {
    this.#signer = signer;
    this.#claims = claims;
    this.#host = host;
    this.#handlers = handlers;
  }

  async admit(job: IncomingJob): Promise<Admission> {
    const jobId = job.id ?? '';
    const parsed = parseJobData(job.data, Date.now(), this.#handlers);
    if (!parsed.ok)
      return this.#refuse(new InvalidRequestError(`Invalid job "${jobId}" on worker host ${this.#host}: ${parsed.issues.join('; ')}`, parsed.issues));
    const { sig, ...data } = parsed.data;
    const ids = { sessionId: data.task.sessionId, requestId: data.task.requestId };
    const refused = (why: string) => this.#refuse(new TransportError(`The worker host ${this.#host} refused job "${jobId}": ${why}`, ids));
    if (sig === undefined) return refused('it is not signed (producers sign their jobs with the shared job secret)');
    const signed = this.#verify(jobId, job.data, sig);
    if (signed !== true)
      return signed === 'malformed'
        ? this.#refuse(new InvalidRequestError(`Invalid job "${jobId}": its data is too large or too deep`, [], ids))
        : refused('its signature does not match (the job was changed, copied to another job id or queue, or signed with another job secret)');
    if (data.deadline <= Date.now()) return this.#refuse(new SessionTimeoutError('The session reached its deadline before a worker host took it', ids));
    const claim = await this.#claims.claim(jobId, data.deadline).catch((error: unknown) => error as Error);
    if (claim instanceof Error)
      return this.#refuse(new TransportError(`The worker host ${this.#host} could not record its claim on job "${jobId}" in Redis`, ids), true);
    if (!claim.ok) return refused(claim.why === 'ran' ? 'it ran already (a replay)' : `it was started ${claim.starts} times already (a replay)`);
    this.#admitted.set(jobId, data.deadline);
    return { ok: true, data, starts: claim.starts };
  }

  /**
   * After an admitted job's run: a call that ended (with any outcome) marks the job done, so a copy
   * added again is a replay. A crashed run (or one that threw) does not: BullMQ may hand the job to another host once.
   */
  async settled(job: IncomingJob, result: JobResult | undefined): Promise<void> {
    const jobId = job.id ?? '';
    const deadline = this.#admitted.get(jobId);
    if (deadline === undefined) return;
    this.#admitted.delete(jobId);
    if (result !== undefined && !('crashed' in result)) await this.#claims.finished(jobId, deadline).catch(() => {});
  }

  close(): void {
    this.#claims.close();
  }

  /** Over the data as received (not the parsed copy): what the producer signed, minus `sig`. */
  #verify(jobId: string, received: unknown, sig: string): true | false | 'malformed' {
    const { sig: _sig, ...signed } = received as Record<string, unknown>;
    try {
      const text = this.#signer.text(jobId, signed);
      if (text.length > MAX_JOB_CHARS) return 'malformed';
      return this.#signer.verify(text, sig);
    } catch (error) {
      if (error instanceof CanonicalJSONError || error instanceof RangeError) return 'malformed';
      throw error;
    }
  }

  #refuse(error: SessionPoolError, retryable = false): Admission {
    return { ok: false, error: { ...error.toJSON(), retryable } };
  }
}
