// What a worker host sends back is signed too: Redis is storage, not a principal, in both
// directions. Anyone who can write to Redis can XADD to the queue's event stream what BullMQ
// writes there (a `completed` event with a return value, `progress` events), so a job's return
// value and each of its progress messages carry an HMAC-SHA256 under a key derived from the job
// secret with its own label (job-signature.ts derive): a signed job never passes as a signed
// result or progress message, nor the other way round.
//
// A return value (one per job: its canonical JSON is affordable) keeps its shape, plus `sig`:
//   "v1." + base64url(HMAC(key, canonical JSON of ["sessionpool-result-v1", scope, jobId, sessionId, result without sig])))
// A progress message (many per stream) is sealed as the JSON text that was signed, so neither end
// builds a canonical form (one JSON.stringify, one HMAC, one JSON.parse per message):
//   { run, seq, body, sig }   body: the JSON text of { picked?, events? }
//   sig = "v1." + base64url(HMAC(key, JSON.stringify(["sessionpool-progress-v1", scope, jobId, sessionId, run, seq]) + body))
// The header is a JSON array, which ends unambiguously at its `]`: header + body reads one way only.
// `run` is BullMQ's start count of the job (a job put back after a stall runs again with a higher
// one), `seq` counts a run's messages from 1: the producer takes them in increasing order only.
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { canonicalJSON } from './canonical-json.ts';
import type { JobProgress, JobResult } from './job.ts';
import type { JobSigner } from './job-signature.ts';

const KEY_LABEL = 'sessionpool-results-key-v1';
const RESULT_DOMAIN = 'sessionpool-result-v1';
const PROGRESS_DOMAIN = 'sessionpool-progress-v1';
const PREFIX = 'v1.';

/** A job's return value as sent back: signed for its job id, queue and session. */
export type SignedJobResult = JobResult & { sig: string };

/** A progress message as sent back (the job's progress in BullMQ). */
export interface SignedProgress {
  run: number;
  seq: number;
  body: string;
  sig: string;
}

/** The session a producer's job id names (`<sessionId>.<n>`). */
export function sessionOfJob(jobId: string): string {
  const dot = jobId.lastIndexOf('.');
  return dot < 0 ? jobId : jobId.slice(0, dot);
}

export class ResultSigner {
  readonly #key: KeyObject;
  readonly #scope: string;

  constructor(jobs: JobSigner) {
    this.#key = jobs.derive(KEY_LABEL);
    this.#scope = jobs.scope;
  }

  /** Throws on a result that is not JSON (canonical-json.ts: a BigInt, nesting past 256). */
  signResult(jobId: string, sessionId: string, result: JobResult): SignedJobResult {
    return { ...result, sig: this.#resultSig(jobId, sessionId, result) };
  }

  /** The result without `sig` when it is this key's signature for the job; undefined otherwise. */
  openResult(jobId: string, sessionId: string, value: unknown): JobResult | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const { sig, ...result } = value as Record<string, unknown>;
    if (typeof sig !== 'string') return undefined;
    try {
      return same(sig, this.#resultSig(jobId, sessionId, result)) ? (result as unknown as JobResult) : undefined;
    } catch {
      // Not JSON a host would have signed (nested past 256 levels).
      return undefined;
    }
  }

  /** Seals one run's progress messages, numbered from 1. */
  sealer(jobId: string, sessionId: string, run: number): ProgressSealer {
    const head = header(this.#scope, jobId, sessionId, run);
    return new ProgressSealer((seq, body) => this.#progressSig(head, seq, body), run);
  }

  /** True when a sealed message's signature holds for this job and session (its order is the caller's). */
  verifyProgress(jobId: string, sessionId: string, message: SignedProgress): boolean {
    return same(message.sig, this.#progressSig(header(this.#scope, jobId, sessionId, message.run), message.seq, message.body));
  }

  #resultSig(jobId: string, sessionId: string, result: object): string {
    const text = canonicalJSON([RESULT_DOMAIN, this.#scope, jobId, sessionId, result]);
    return PREFIX + createHmac('sha256', this.#key).update(text).digest('base64url');
  }

  #progressSig(head: string, seq: number, body: string): string {
    return PREFIX + createHmac('sha256', this.#key).update(`${head},${seq}]`).update(body).digest('base64url');
  }

  // Never the key, whatever prints this.
  toJSON(): string {
    return '[ResultSigner]';
  }
}

/** The progress header without its sequence number and closing `]`. */
function header(scope: string, jobId: string, sessionId: string, run: number): string {
  return JSON.stringify([PROGRESS_DOMAIN, scope, jobId, sessionId, run]).slice(0, -1);
}

/** Compared in constant time, byte for byte (`expected` is ASCII: "v1." and base64url). */
function same(given: string, expected: string): boolean {
  if (given.length !== expected.length) return false;
  const bytes = Buffer.from(given, 'utf8');
  return bytes.length === expected.length && timingSafeEqual(bytes, Buffer.from(expected, 'latin1'));
}

export class ProgressSealer {
  readonly #sign: (seq: number, body: string) => string;
  readonly #run: number;
  #seq = 0;

  constructor(sign: (seq: number, body: string) => string, run: number) {
    this.#sign = sign;
    this.#run = run;
  }

  /** Numbered even when it is never sent: the producer accepts gaps, never a step back. */
  seal(progress: JobProgress): SignedProgress {
    const seq = ++this.#seq;
    const body = JSON.stringify(progress);
    return { run: this.#run, seq, body, sig: this.#sign(seq, body) };
  }
}
