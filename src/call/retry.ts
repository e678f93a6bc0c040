import type { RetrySettings } from '../protocol.ts';
import type { AttemptFailure } from '../providers/errors.ts';

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: 'not-retryable' | 'exhausted' | 'deadline' };

/**
 * Whether to try again after `attempt` failed attempts, and how long to wait first.
 * Waits what the provider asked for when it said so, else a jittered exponential backoff
 * (half fixed, half random) capped by `maxDelayMs`; never a wait that ends past the deadline.
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
  let delayMs = failure.retryAfterMs;
  if (delayMs === undefined) {
    const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (attempt - 1));
    delayMs = ceiling / 2 + random() * (ceiling / 2);
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
