// Jobs are signed: Redis is storage, not a principal. Anyone who can write to Redis can add a job
// with bullmq's own Queue.add; a worker host runs only what a producer holding the job secret
// signed. The signature is HMAC-SHA256 over the canonical JSON (canonical-json.ts) of
//   ["sessionpool-job-v1", "<prefix>:<queueName>", jobId, data]
// where data is the job's data without `sig` ({ task, deadline })
// so a task cannot be changed, moved to another job id or queue, or given a later deadline. It
// travels in the job's data as `sig: "v1.<base64url>"`. The secret is held as a KeyObject: it
// prints as nothing in logs, inspection and JSON, and Redis never sees it.
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { InvalidRequestError } from '../../errors/errors.ts';
import { canonicalJSON } from './canonical-json.ts';

export const JOB_SECRET_ENV = 'SESSIONPOOL_JOB_SECRET';
export const MIN_SECRET_LENGTH = 32;
const MAX_SECRET_LENGTH = 4096;
const DOMAIN = 'sessionpool-job-v1';
const PREFIX = 'v1.';

export class JobSigner {
  readonly #key: KeyObject;
  readonly #scope: string;

  constructor(secret: string, scope: { prefix: string; queueName: string }) {
    this.#key = createSecretKey(Buffer.from(secret, 'utf8'));
    this.#scope = `${scope.prefix}:${scope.queueName}`;
  }

  /** The signature of a job's data (everything but `sig`). Throws on data that is not JSON (a BigInt, nesting past 256). */
  sign(jobId: string, data: object): string {
    return PREFIX + this.#mac(this.text(jobId, data)).toString('base64url');
  }

  /** What is signed: the canonical JSON of the domain, the queue, the job id and the data. */
  text(jobId: string, data: object): string {
    return canonicalJSON([DOMAIN, this.#scope, jobId, data]);
  }

  /** True when `sig` is this secret's signature of `text` (compared in constant time). */
  verify(text: string, sig: string): boolean {
    if (!sig.startsWith(PREFIX)) return false;
    const given = Buffer.from(sig.slice(PREFIX.length), 'base64url');
    const expected = this.#mac(text);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** `<prefix>:<queueName>`: what every signature of this queue names. */
  get scope(): string {
    return this.#scope;
  }

  /**
   * A key of its own for another kind of message (result-signature.ts): HMAC-SHA256(secret, label).
   * A signature under it can never pass as a job's, nor a job's as one of its messages.
   */
  derive(label: string): KeyObject {
    return createSecretKey(createHmac('sha256', this.#key).update(label).digest());
  }

  #mac(text: string): Buffer {
    return createHmac('sha256', this.#key).update(text).digest();
  }

  // Never the secret, whatever prints this.
  toJSON(): string {
    return '[JobSigner]';
  }
}

function invalid(issue: string): never {
  throw new InvalidRequestError(`Invalid ${issue}`, [issue]);
}

/**
 * The job secret from the option, else from SESSIONPOOL_JOB_SECRET; required (secure by default).
 * Messages say what was expected and what kind of value came, never the value.
 */
export function resolveJobSecret(given: unknown, what: string): string {
  const fromEnv = process.env[JOB_SECRET_ENV];
  const source = given !== undefined ? `\`jobSecret\`` : `${JOB_SECRET_ENV}`;
  const secret = given ?? (fromEnv === '' ? undefined : fromEnv);
  if (secret === undefined)
    invalid(
      `${what}: \`jobSecret\` is required: a secret of at least ${MIN_SECRET_LENGTH} characters shared by producers and worker hosts (never stored in Redis), as the option or in ${JOB_SECRET_ENV}; got neither (make one with \`openssl rand -hex 32\`)`,
    );
  if (typeof secret !== 'string')
    invalid(`${what}: ${source}: expected a string of at least ${MIN_SECRET_LENGTH} characters, got a value of type ${typeof secret}`);
  if (secret.length < MIN_SECRET_LENGTH || secret.length > MAX_SECRET_LENGTH)
    invalid(`${what}: ${source}: expected at least ${MIN_SECRET_LENGTH} characters (at most ${MAX_SECRET_LENGTH}), got a string of ${secret.length}`);
  return secret;
}
