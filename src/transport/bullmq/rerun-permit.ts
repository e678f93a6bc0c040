// The value of a `rerun:<jobId>` key (fence-keys.ts): the producer's permission to run a job again
// that BullMQ put back after its host stopped. Hosts take a second start of a job only with it, so it
// is signed: anyone can write to Redis, only a producer holds the job secret. The key is derived from
// the secret with a label of its own, so a permit never passes as a job's or a result's signature.
import { createHmac, type KeyObject, timingSafeEqual } from 'node:crypto';
import type { JobSigner } from './job-signature.ts';

const LABEL = 'sessionpool-rerun-key-v1';
const PREFIX = 'v1.';

export class RerunPermits {
  readonly #key: KeyObject;
  readonly #scope: string;

  constructor(signer: JobSigner) {
    this.#key = signer.derive(LABEL);
    this.#scope = signer.scope;
  }

  /** The permit for one job of this queue. */
  value(jobId: string): string {
    return PREFIX + createHmac('sha256', this.#key).update(`${this.#scope}\n${jobId}`).digest('base64url');
  }

  /** True when `value` (as read from Redis) is this queue's permit for `jobId`. */
  valid(jobId: string, value: string | null | undefined): boolean {
    if (typeof value !== 'string') return false;
    const given = Buffer.from(value);
    const expected = Buffer.from(this.value(jobId));
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  // Never the key, whatever prints this.
  toJSON(): string {
    return '[RerunPermits]';
  }
}
