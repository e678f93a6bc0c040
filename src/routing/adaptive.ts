// The limits a key learns from its provider, with no configuration: pure functions over the
// `learned` part of a key's state (JSON, so a shared store runs them too). A key starts unlimited
// (only a probation of a few calls in flight until its first answer or for PROBATION_MS at most, so
// that a provider that is down costs a few calls and one that is slow to answer is not held back); a 429 that says "rate" sets or lowers a request rate, one that says
// "concurrency" a cap on calls in flight; successes grow them back, slowly just after a cut and
// faster the longer nothing is refused (so a capacity that came back is found again in seconds).
import type { WireError } from '../types/errors.ts';
import type { LearnedLimits } from '../types/options.ts';

/** The tuning of the learned limits (measured in `npm run routing-demo`). */
export const ADAPTIVE = {
  /** Calls in flight on a key that has not answered yet (with 2 retries each, a provider that is down costs 9 calls). */
  probation: 3,
  /**
   * Probation ends at the key's first answer, or this long after the key's first call: a provider
   * that is down refuses or fails within it (connection refused, 5xx), while one that is only slow
   * to answer (a long completion) holds the other sessions back no longer than this, once.
   */
  probationMs: 250,
  /** A rate refusal multiplies the rate by this (at most once per episode). */
  decrease: 0.95,
  /** Refusals within this long of a cut belong to the same episode: one cut for all of them. */
  episodeMs: 1000,
  /** Growth per second, per second since the last cut: the rate grows by e^(growth·t²/2) after t s. */
  growth: 0.01,
  /** The lowest rate learned, per second. */
  minRate: 0.2,
  /** A rate learned from what the provider admitted in the last second is this share of it. */
  admittedShare: 0.95,
} as const;

export type RefusalKind = 'rate' | 'concurrency';

/** What the router saw when a refusal came: what this host's calls did on the key. */
export interface RefusalContext {
  kind: RefusalKind;
  /** Calls the provider answered on this key in the last second (this host's view). */
  admittedPerS: number;
  /** Calls in flight on this key now (this host's view), the refused one included. */
  inFlight: number;
  retryAfterMs: number | undefined;
  /** The key was already blocked by an earlier refusal's Retry-After. */
  blocked: boolean;
}

/** A 429 that is a concurrency cap (GLM 1302, Kimi's "max organization concurrency"), else a rate. */
export function refusalKind(error: Pick<WireError, 'providerCode' | 'message'>): RefusalKind {
  return error.providerCode === '1302' || /concurren/i.test(error.message) ? 'concurrency' : 'rate';
}

/** A key's learned state before anything is known: unlimited, on probation. */
export function coldLearned(now: number): LearnedLimits {
  return { probation: true, refusals: 0, cutAt: now, grownAt: now };
}

/** A refusal: the limit of its kind is set (first) or lowered, once per episode for rates. */
export function refused(learned: LearnedLimits, seen: RefusalContext, now: number): LearnedLimits {
  const next: LearnedLimits = { ...learned, refusals: learned.refusals + 1, probation: false };
  if (seen.retryAfterMs !== undefined) next.lastRetryAfterMs = seen.retryAfterMs;
  if (seen.kind === 'concurrency') {
    // Each refusal says one call too many was in flight.
    const cap = Math.min(learned.concurrency ?? seen.inFlight, seen.inFlight) - 1;
    next.concurrency = Math.max(1, Math.floor(cap));
    return { ...next, cutAt: now, grownAt: now };
  }
  const rate = learned.requestsPerSecond;
  const admitted = seen.admittedPerS * ADAPTIVE.admittedShare;
  const inEpisode = rate !== undefined && now - learned.cutAt < ADAPTIVE.episodeMs;
  // The first estimate: what the provider admitted in the last second (a Retry-After says when
  // there is room, not how much: a token bucket answers a few ms when it is nearly refilled).
  if (rate === undefined) return { ...next, requestsPerSecond: Math.max(1, admitted), firstEpisode: true, cutAt: now, grownAt: now };
  if (inEpisode) return { ...next, requestsPerSecond: firstWave(learned, admitted, seen.blocked) };
  delete next.firstEpisode;
  // Above what the provider admits, the rate drops to it (a capacity that shrank); near it, by `decrease`.
  const cut = Math.min(rate * ADAPTIVE.decrease, Math.max(seen.admittedPerS, rate * 0.5));
  next.requestsPerSecond = Math.max(ADAPTIVE.minRate, cut);
  return { ...next, cutAt: now, grownAt: now };
}

/**
 * The first wave's refusals come back mixed with its successes: while the key is blocked after its
 * first refusal (nothing new was sent), what the provider admitted may still raise the first rate.
 * Not after: a token bucket admits its burst and its refill in the same second, twice its rate.
 */
function firstWave(learned: LearnedLimits, admitted: number, blocked: boolean): number | undefined {
  const rate = learned.requestsPerSecond;
  return learned.firstEpisode === true && blocked && rate !== undefined ? Math.max(rate, admitted) : rate;
}

/** A success: probation ends, and learned limits grow with the time since the last cut (`blocked`: see firstWave). */
export function grown(learned: LearnedLimits, now: number, admittedPerS = 0, blocked = false): LearnedLimits {
  if (learned.requestsPerSecond === undefined && learned.concurrency === undefined) {
    return learned.probation === true ? { ...learned, probation: false, grownAt: now } : learned;
  }
  if (blocked) {
    const rate = firstWave(learned, admittedPerS * ADAPTIVE.admittedShare, true);
    return rate === learned.requestsPerSecond ? learned : { ...learned, requestsPerSecond: rate as number };
  }
  const sinceCutS = Math.max(0, now - learned.cutAt) / 1000;
  const dtS = Math.max(0, now - learned.grownAt) / 1000;
  const factor = 1 + ADAPTIVE.growth * sinceCutS * dtS;
  const next: LearnedLimits = { ...learned, grownAt: now };
  delete next.probation;
  if (learned.requestsPerSecond !== undefined) next.requestsPerSecond = learned.requestsPerSecond * factor;
  if (learned.concurrency !== undefined) next.concurrency = learned.concurrency * factor;
  return next;
}

/** How long the key's probation still holds (ms), or undefined when it is not on probation at `now`. */
export function probationLeftMs(learned: LearnedLimits | undefined, now: number): number | undefined {
  if (learned?.probation !== true) return undefined;
  const left = learned.cutAt + ADAPTIVE.probationMs - now;
  return left > 0 ? Math.ceil(left) : undefined;
}

/** The provider answered a call that is still out (its stream's first text or head): probation ends, nothing else changes. */
export function alive(learned: LearnedLimits, now: number): LearnedLimits {
  return learned.probation === true ? { ...learned, probation: false, grownAt: now } : learned;
}

/** The learned cap on calls in flight at `now` (probation included); undefined: none. */
export function learnedConcurrency(learned: LearnedLimits | undefined, now: number): number | undefined {
  if (learned === undefined) return undefined;
  if (probationLeftMs(learned, now) !== undefined) return ADAPTIVE.probation;
  return learned.concurrency === undefined ? undefined : Math.max(1, Math.floor(learned.concurrency));
}

/** True when the learned state limits nothing: calls may go without asking the store. */
export function learnedNothing(learned: LearnedLimits | undefined): boolean {
  return learned === undefined || (learned.probation !== true && learned.requestsPerSecond === undefined && learned.concurrency === undefined);
}
