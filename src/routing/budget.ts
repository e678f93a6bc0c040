// The rate budget of one provider key, as pure functions over a plain, JSON-serialisable state:
// a token bucket for requests, one for tokens, a concurrency count, and the AIMD factor that a 429
// lowers and successes raise again. A store applies these functions atomically (see store.ts), so
// a shared store (Redis, for workers on several hosts) runs the very same limiter.
import type { AimdSettings, KeyState, Bucket } from '../types/options.ts';
import { ADAPTIVE, coldLearned, grown, learnedConcurrency, probationWaitMs, refused, type RefusalContext } from './adaptive.ts';

/** What a session costs a key when it is sent. */
export interface Cost {
  requests: number;
  tokens: number;
}

/** Limits of one key, resolved (see limits.ts for how the options become these). */
export interface KeyLimits {
  /** Requests: bucket size and refill per millisecond at factor 1. */
  requests?: { burst: number; perMs: number };
  /** Tokens: bucket size and refill per millisecond at factor 1. */
  tokens?: { burst: number; perMs: number };
  concurrency?: number;
  aimd: AimdSettings;
  /** The key also learns its limits from refusals (adaptive.ts): on unless `routing: false`. */
  adaptive?: boolean;
}

export type TakeResult =
  | { ok: true }
  /** `waitMs` undefined: only a call that finishes (concurrency) frees budget. */
  | { ok: false; reason: 'retry-after' | 'requests' | 'tokens' | 'concurrency'; waitMs: number | undefined };

export function initialState(limits: KeyLimits, now: number): KeyState {
  const state: KeyState = { inFlight: 0, factor: 1, blockedUntil: 0 };
  if (limits.requests) state.requests = { level: limits.requests.burst, at: now };
  if (limits.tokens) state.tokens = { level: limits.tokens.burst, at: now };
  if (limits.adaptive === true) state.learned = coldLearned(now);
  return state;
}

/** The longest a key is held back (a Retry-After, or a debt on a bucket): one hour, whatever a provider or a store says. */
export const MAX_BLOCK_MS = 3_600_000;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * A state as read from a store, made safe: a shared store (Redis) holds JSON any process may have
 * written. Numbers that are not finite, negative counts, a block or a debt longer than
 * MAX_BLOCK_MS, times in the future and a learned rate of 0 are brought back in range (undefined:
 * nothing usable, the key starts afresh).
 */
export function sane(state: KeyState | undefined, limits: KeyLimits, now: number): KeyState | undefined {
  if (typeof state !== 'object' || state === null || Array.isArray(state)) return undefined;
  const floor = limits.aimd.floor;
  const next: KeyState = {
    inFlight: finite(state.inFlight) && state.inFlight > 0 ? Math.floor(state.inFlight) : 0,
    factor: finite(state.factor) ? Math.min(1, Math.max(floor, state.factor)) : 1,
    blockedUntil: finite(state.blockedUntil) && state.blockedUntil > 0 ? Math.min(state.blockedUntil, now + MAX_BLOCK_MS) : 0,
  };
  // A configured limit whose bucket is missing would limit nothing (take() skips it): a full one.
  if (limits.requests !== undefined) {
    const spec = scaled(limits.requests, next.factor);
    next.requests = saneBucket(state.requests, spec, now) ?? { level: spec.burst, at: now };
  }
  if (limits.tokens !== undefined) {
    const spec = scaled(limits.tokens, next.factor);
    next.tokens = saneBucket(state.tokens, spec, now) ?? { level: spec.burst, at: now };
  }
  const learned = saneLearned(state.learned, now);
  if (learned !== undefined) next.learned = learned;
  const pace = pacing(next);
  const paced = pace === undefined ? undefined : saneBucket(state.paced, pace, now);
  if (paced !== undefined) next.paced = paced;
  return next;
}

function saneBucket(bucket: Bucket | undefined, spec: { burst: number; perMs: number }, now: number): Bucket | undefined {
  if (typeof bucket !== 'object' || bucket === null || !finite(bucket.level) || !finite(bucket.at)) return undefined;
  const maxDebt = spec.perMs * MAX_BLOCK_MS;
  return { level: Math.min(spec.burst, Math.max(-maxDebt, bucket.level)), at: Math.min(now, bucket.at) };
}

function saneLearned(learned: KeyState['learned'], now: number): KeyState['learned'] {
  if (typeof learned !== 'object' || learned === null) return undefined;
  const time = (t: unknown) => (finite(t) ? Math.min(now, t) : now);
  const next: NonNullable<KeyState['learned']> = {
    refusals: finite(learned.refusals) && learned.refusals > 0 ? Math.floor(learned.refusals) : 0,
    cutAt: time(learned.cutAt),
    grownAt: time(learned.grownAt),
  };
  if (learned.probation === true) next.probation = true;
  if (finite(learned.failedAt)) next.failedAt = time(learned.failedAt);
  if (finite(learned.answers) && learned.answers > 0) next.answers = Math.floor(learned.answers);
  if (learned.firstEpisode === true) next.firstEpisode = true;
  const rate = learned.requestsPerSecond;
  if (typeof rate === 'number' && !Number.isNaN(rate) && rate !== Infinity) next.requestsPerSecond = Math.max(ADAPTIVE.minRate, rate);
  const cap = learned.concurrency;
  if (finite(cap)) next.concurrency = Math.max(1, cap);
  if (finite(learned.lastRetryAfterMs) && learned.lastRetryAfterMs >= 0) next.lastRetryAfterMs = learned.lastRetryAfterMs;
  return next;
}

/** The bucket's size and refill at the current factor; a smaller factor also shrinks bursts. */
function scaled(spec: { burst: number; perMs: number }, factor: number) {
  return { burst: Math.max(1, spec.burst * factor), perMs: spec.perMs * factor };
}

function refill(bucket: Bucket, spec: { burst: number; perMs: number }, now: number): Bucket {
  const elapsed = Math.max(0, now - bucket.at);
  return { level: Math.min(spec.burst, bucket.level + elapsed * spec.perMs), at: Math.max(now, bucket.at) };
}

/** Milliseconds until `bucket` holds `amount` (0 when it already does). */
function waitFor(bucket: Bucket, amount: number, perMs: number): number {
  return bucket.level >= amount ? 0 : Math.ceil((amount - bucket.level) / perMs);
}

/** The bucket of a learned rate: burst 1, so that calls leave evenly spaced. */
function pacing(state: KeyState): { burst: number; perMs: number } | undefined {
  const rate = state.learned?.requestsPerSecond;
  return rate === undefined ? undefined : { burst: 1, perMs: rate / 1000 };
}

function effectiveConcurrency(limits: KeyLimits, factor: number): number | undefined {
  return limits.concurrency === undefined ? undefined : Math.max(1, Math.floor(limits.concurrency * factor));
}

/** Takes `cost` if every budget has it, else takes nothing and says how long to wait. */
export function take(state: KeyState, cost: Cost, limits: KeyLimits, now: number): [KeyState, TakeResult] {
  if (state.blockedUntil > now) return [state, { ok: false, reason: 'retry-after', waitMs: Math.ceil(state.blockedUntil - now) }];
  const cap = effectiveConcurrency(limits, state.factor);
  if (cap !== undefined && state.inFlight >= cap) return [state, { ok: false, reason: 'concurrency', waitMs: undefined }];
  const learnedCap = learnedConcurrency(state.learned, now);
  // On probation time also raises the cap; a learned cap waits for a call to end.
  if (learnedCap !== undefined && state.inFlight >= learnedCap)
    return [state, { ok: false, reason: 'concurrency', waitMs: state.learned && probationWaitMs(state.learned, state.inFlight, now) }];
  const next: KeyState = { ...state };
  const pace = pacing(state);
  if (pace !== undefined) {
    const bucket = refill(state.paced ?? { level: 1, at: now }, pace, now);
    const wait = waitFor(bucket, cost.requests, pace.perMs);
    if (wait > 0)
      return [
        { ...state, paced: bucket },
        { ok: false, reason: 'requests', waitMs: wait },
      ];
    next.paced = { ...bucket, level: bucket.level - cost.requests };
  }
  if (limits.requests && state.requests) {
    const spec = scaled(limits.requests, state.factor);
    const bucket = refill(state.requests, spec, now);
    const wait = waitFor(bucket, cost.requests, spec.perMs);
    if (wait > 0)
      return [
        { ...state, requests: bucket },
        { ok: false, reason: 'requests', waitMs: wait },
      ];
    next.requests = { ...bucket, level: bucket.level - cost.requests };
  }
  if (limits.tokens && state.tokens) {
    const spec = scaled(limits.tokens, state.factor);
    const bucket = refill(state.tokens, spec, now);
    // A request bigger than the bucket waits for a full bucket rather than forever.
    const wait = waitFor(bucket, Math.min(cost.tokens, spec.burst), spec.perMs);
    if (wait > 0)
      return [
        { ...state, tokens: bucket },
        { ok: false, reason: 'tokens', waitMs: wait },
      ];
    next.tokens = { ...bucket, level: bucket.level - cost.tokens };
  }
  next.inFlight = state.inFlight + 1;
  return [next, { ok: true }];
}

/**
 * Charges a request that was sent without asking (a worker's own retry): the buckets may go
 * below zero, so that whoever asks next waits for the debt to be paid.
 */
export function charge(state: KeyState, cost: Cost, limits: KeyLimits, now: number): KeyState {
  const next: KeyState = { ...state };
  if (limits.requests && state.requests) next.requests = debit(state.requests, scaled(limits.requests, state.factor), cost.requests, now);
  if (limits.tokens && state.tokens) next.tokens = debit(state.tokens, scaled(limits.tokens, state.factor), cost.tokens, now);
  const pace = pacing(state);
  if (pace !== undefined) next.paced = debit(state.paced ?? { level: 1, at: now }, pace, cost.requests, now);
  return next;
}

function debit(bucket: Bucket, spec: { burst: number; perMs: number }, amount: number, now: number): Bucket {
  const filled = refill(bucket, spec, now);
  return { ...filled, level: filled.level - amount };
}

/** A call that took budget is over: frees its concurrency and corrects its token estimate by what it really used. */
export function finish(state: KeyState, limits: KeyLimits, estimatedTokens: number, usedTokens: number, now: number): KeyState {
  const next: KeyState = { ...state, inFlight: Math.max(0, state.inFlight - 1) };
  if (limits.tokens && state.tokens) {
    const filled = refill(state.tokens, scaled(limits.tokens, state.factor), now);
    next.tokens = { ...filled, level: Math.min(scaled(limits.tokens, state.factor).burst, filled.level + estimatedTokens - usedTokens) };
  }
  return next;
}

/** Gives back what `take` took, for a session that was granted budget but did not use it. */
export function giveBack(state: KeyState, cost: Cost, limits: KeyLimits, now: number): KeyState {
  const next = finish(state, limits, cost.tokens, 0, now);
  if (limits.requests && next.requests) {
    const spec = scaled(limits.requests, next.factor);
    next.requests = { ...next.requests, level: Math.min(spec.burst, next.requests.level + cost.requests) };
  }
  if (next.paced !== undefined) next.paced = { ...next.paced, level: Math.min(1, next.paced.level + cost.requests) };
  return next;
}

/**
 * A 429 on this key: everyone waits out its Retry-After, the configured budget shrinks (multiplicative
 * decrease), and so does the learned limit of the refusal's kind (`seen`; adaptive.ts).
 */
export function throttled(state: KeyState, limits: KeyLimits, retryAfterMs: number | undefined, now: number, seen?: Omit<RefusalContext, 'blocked'>): KeyState {
  // The factor scales configured limits: a key that has none only learns (adaptive.ts).
  const configured = limits.requests !== undefined || limits.tokens !== undefined || limits.concurrency !== undefined;
  const factor = configured ? Math.max(limits.aimd.floor, state.factor * limits.aimd.decrease) : state.factor;
  // A concurrency refusal's wait is no news about the key: a call that ends frees a slot (the learned cap waits for it).
  const shared = retryAfterMs !== undefined && seen?.kind !== 'concurrency';
  const blockedUntil = shared ? Math.max(state.blockedUntil, now + Math.min(retryAfterMs, MAX_BLOCK_MS)) : state.blockedUntil;
  const next: KeyState = { ...state, factor, blockedUntil };
  // The buckets shrink with the factor: what they hold beyond the new size is gone.
  if (limits.requests && state.requests)
    next.requests = clampTo(refill(state.requests, scaled(limits.requests, state.factor), now), scaled(limits.requests, factor).burst);
  if (limits.tokens && state.tokens) next.tokens = clampTo(refill(state.tokens, scaled(limits.tokens, state.factor), now), scaled(limits.tokens, factor).burst);
  if (seen !== undefined && state.learned !== undefined) {
    next.learned = refused(state.learned, { ...seen, blocked: state.blockedUntil > now }, now);
    // A new rate starts when the block ends, with one call's worth: calls then leave at its pace.
    if (state.learned.requestsPerSecond === undefined && next.learned.requestsPerSecond !== undefined)
      next.paced = { level: 1, at: Math.max(now, blockedUntil) };
  }
  return next;
}

function clampTo(bucket: Bucket, burst: number): Bucket {
  return { ...bucket, level: Math.min(bucket.level, burst) };
}

/** A call on this key succeeded: the budget grows back (additive increase), and so do learned limits. */
export function succeeded(state: KeyState, limits: KeyLimits, now = 0, admittedPerS = 0): KeyState {
  const learned = state.learned === undefined ? undefined : grown(state.learned, now, admittedPerS, state.blockedUntil > now);
  if (state.factor >= 1 && learned === state.learned) return state;
  const next: KeyState = { ...state, factor: Math.min(1, state.factor + limits.aimd.increase) };
  if (learned !== undefined) next.learned = learned;
  return next;
}
