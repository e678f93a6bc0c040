// The provider throttles of the routing demo as pure "admit" functions, with time taken from the
// request (the mock's `receivedAt`, or a simulation's virtual clock): the mock provider
// (routing-mock.ts) answers with them, and the limiter simulation (limiters.ts) runs them
// on virtual time. Also the scenarios of the `auto-*` rows and the ideal wall time of each.
import { throttle } from '../src/apps/mock/faults.ts';
import type { MockRequestRecord } from '../src/apps/mock/types.ts';

/**
 * - `bucket`, `sliding`: `limit` requests a second (a token bucket of `limit`, or at most `limit` in any second);
 * - `concurrency`: at most `limit` calls in flight (Kimi's "max organization concurrency" 429);
 * - `tokens`: `limit` tokens a minute (prompt words plus the answer's), refilled continuously, 2 s of burst;
 * - `halving`: a token bucket of `limit` a second whose rate halves from 5 s to 15 s after the first request;
 * - `none`: never refuses.
 */
export type ThrottleMode = 'bucket' | 'sliding' | 'concurrency' | 'tokens' | 'halving' | 'none';

/** What a throttle sees of a request. */
export interface ThrottleRequest {
  seq: number;
  /** When it arrived (ms, any origin): the throttle's clock. */
  receivedAt: number;
  /** Its tokens (the `tokens` throttle counts them). */
  tokens: number;
}

/** A 429: when to come back, and the error message when it is not the dialect's rate-limit one. */
export interface Refusal {
  retryAfterMs: number;
  message?: string;
}

export interface Throttle {
  /** undefined: admitted. */
  admit(request: ThrottleRequest): Refusal | undefined;
  /** An admitted request's exchange ended (the concurrency throttle frees its slot). */
  release(seq: number): void;
}

const refusal = (retryAfterMs: number, message?: string): Refusal => ({
  retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)),
  ...(message === undefined ? {} : { message }),
});

type Admit = (request: ThrottleRequest) => Refusal | undefined;

/** A token bucket whose refill per ms `perMsAt(now)` may change over time. */
function bucket(size: number, perMsAt: (now: number) => number, costOf: (r: ThrottleRequest) => number): Admit {
  let level = size;
  let at: number | undefined;
  return (request) => {
    const now = request.receivedAt;
    level = Math.min(size, level + (now - (at ?? now)) * perMsAt(now));
    at = now;
    const cost = costOf(request);
    if (level >= cost) {
      level -= cost;
      return undefined;
    }
    return refusal((cost - level) / perMsAt(now));
  };
}

function concurrency(limit: number): Throttle {
  const inFlight = new Set<number>();
  return {
    admit(request) {
      if (inFlight.size >= limit) {
        return refusal(1000, `Your account org-mock<ak-mock> request reached organization max concurrency: ${limit}, please try again after 1 seconds`);
      }
      inFlight.add(request.seq);
      return undefined;
    },
    release: (seq) => void inFlight.delete(seq),
  };
}

/** The mock's own throttle (src/apps/mock/faults.ts), fed a request record with the time of `request`. */
function windowed(limit: number, mode: 'bucket' | 'sliding'): Admit {
  const limiter = throttle({ limit, mode });
  return (request) => {
    const record: MockRequestRecord = {
      seq: request.seq,
      dialect: 'kimi',
      method: 'POST',
      path: '',
      query: {},
      headers: {},
      body: null,
      receivedAt: request.receivedAt,
      closedEarly: false,
    };
    const answer = limiter.behave(record);
    return answer === undefined ? undefined : refusal(answer.retryAfterMs ?? 1);
  };
}

export function throttleFor(mode: ThrottleMode, limit: number): Throttle {
  if (mode === 'concurrency') return concurrency(limit);
  const admit = admitFor(mode, limit);
  return { admit, release: () => {} };
}

function admitFor(mode: Exclude<ThrottleMode, 'concurrency'>, limit: number): Admit {
  if (mode === 'none') return () => undefined;
  if (mode === 'tokens')
    return bucket(
      (limit / 60) * 2,
      () => limit / 60_000,
      (r) => r.tokens,
    );
  if (mode === 'halving') {
    // The halving starts 5 s after the first request this throttle sees.
    let firstAt: number | undefined;
    const half = (now: number) => firstAt !== undefined && now - firstAt >= 5000 && now - firstAt < 15_000;
    const admit = bucket(
      limit,
      (now) => (half(now) ? limit / 2000 : limit / 1000),
      () => 1,
    );
    return (request) => {
      firstAt ??= request.receivedAt;
      return admit(request);
    };
  }
  return windowed(limit, mode);
}

/** One throttle of the `auto-*` rows (no configuration at all, issue 25). */
export interface AutoScenario {
  mode: ThrottleMode;
  limit: number;
  latencyMs?: number;
  /** Words of each question (the tokens throttle counts them). */
  words?: number;
  /** The wall time the throttle's capacity alone allows for `sessions`, in s. */
  idealS(sessions: number): number;
  describe: string;
}

const RATE = 20;
export const TOKENS_PER_MIN = 100_000;
export const TOKENS_EACH = 100; // 84 words of question and the mock's 16 words of answer

/** Requests served by t s under the halving throttle: a burst of 20, 20/s, 10/s from 5 s to 15 s, 20/s again. */
function halvingIdeal(n: number): number {
  let t = 0;
  const served = (s: number) => RATE + RATE * Math.min(s, 5) + (RATE / 2) * Math.min(Math.max(s - 5, 0), 10) + RATE * Math.max(0, s - 15);
  while (served(t) < n) t += 0.01;
  return t;
}

export const AUTO: Record<string, AutoScenario> = {
  'auto-bucket': { mode: 'bucket', limit: RATE, idealS: (n) => (n - RATE) / RATE, describe: `${RATE} requests/s, token bucket` },
  'auto-sliding': { mode: 'sliding', limit: RATE, idealS: (n) => (n - RATE) / RATE, describe: `${RATE} requests/s, sliding window` },
  'auto-concurrency': { mode: 'concurrency', limit: 10, latencyMs: 500, idealS: (n) => (n * 0.5) / 10, describe: '10 in flight (calls of 500 ms)' },
  'auto-tokens': {
    mode: 'tokens',
    limit: TOKENS_PER_MIN,
    words: TOKENS_EACH - 16,
    idealS: (n) => (n * TOKENS_EACH - (TOKENS_PER_MIN / 60) * 2) / (TOKENS_PER_MIN / 60),
    describe: '100,000 tokens/min (100 a call)',
  },
  'auto-halving': { mode: 'halving', limit: RATE, idealS: halvingIdeal, describe: `${RATE}/s, halved from 5 s to 15 s` },
  'auto-none': { mode: 'none', limit: 0, idealS: () => 0, describe: 'never refuses' },
};
