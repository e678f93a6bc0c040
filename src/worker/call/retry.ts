import type { RetrySettings } from '../../wire/protocol.ts';
import type { AttemptFailure } from '../providers/errors.ts';

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: 'not-retryable' | 'exhausted' | 'deadline' };

/** The most a provider's wait is spread by, however many refusals in a row. */
const MAX_SPREAD_MS = 2000;

/**
 * Whether to try again after `attempt` failed attempts, and how long to wait first.
 * When the provider named a wait, never sooner than that, drawn from a window that doubles with each
 * refusal in a row (the wait to 2× it, then 4×…, at most 2 s wider): a provider tells every refused
 * caller the same wait, so callers that waited exactly that would come back together and be refused
 * together (measured in `npm run routing-demo`: 6 of 500 sessions ran out of 20 retries that way).
 * Else a jittered exponential backoff (half fixed, half random) capped by `maxDelayMs`. Never a wait
 * that ends past the deadline.
 */
export function decideRetry(
  failure: AttemptFailure,
  attempt: number,
  settings: RetrySettings,
  remainingMs: number,
  random: () => number = Math.random,
): RetryDecision {
  if (failure.error.retryable !== true) return { retry: false, reason: 'not-retryable' };
  if (attempt > settings.maxRetries) return { retry: false, reason: 'exhausted' };
  const asked = failure.retryAfterMs;
  let delayMs: number;
  if (asked === undefined) {
    const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (attempt - 1));
    delayMs = ceiling / 2 + random() * (ceiling / 2);
  } else {
    const spreadMs = Math.min(MAX_SPREAD_MS, asked * (2 ** attempt - 1));
    // The spread stops at the deadline; the provider's own wait does not.
    delayMs = Math.max(asked, Math.min(asked + random() * spreadMs, remainingMs - 1));
  }
  delayMs = Math.round(delayMs);
  if (delayMs >= remainingMs) return { retry: false, reason: 'deadline' };
  return { retry: true, delayMs };
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryContext {
  settings: RetrySettings;
  deadlineAt: number;
  signal: AbortSignal;
  /** Called before each wait for a retry. */
  onRetry(delayMs: number, failure: AttemptFailure): void;
  classify(error: unknown): AttemptFailure;
  /** False once retrying is no longer safe (a stream already delivered text). */
  mayRetry(): boolean;
}

/** Runs `attempt` until it succeeds or the policy says stop; then throws AttemptFailed. */
export async function withRetries<T>(attempt: () => Promise<T>, context: RetryContext): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (context.signal.aborted) throw context.signal.reason;
      const failure = context.classify(error);
      const decision: RetryDecision = context.mayRetry()
        ? decideRetry(failure, tries, context.settings, context.deadlineAt - Date.now())
        : { retry: false, reason: 'not-retryable' };
      if (!decision.retry) throw new AttemptFailed(failure);
      context.onRetry(decision.delayMs, failure);
      // The router waits for the key instead (routing/router.ts): the attempt is counted, not made here.
      if (context.settings.deferRateLimits === true && failure.error.status === 429) throw new AttemptFailed(failure);
      await abortableDelay(decision.delayMs, context.signal);
    }
  }
}

/** The final failure of a retried call. */
export class AttemptFailed extends Error {
  readonly failure: AttemptFailure;
  constructor(failure: AttemptFailure) {
    super(failure.error.message);
    this.failure = failure;
  }
}
