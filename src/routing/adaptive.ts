// The limits a key learns from its provider, with no configuration: pure functions over the
// `learned` part of a key's state (JSON, so a shared store runs them too). A key starts on
// probation, a slow start: 3 calls in flight, twice as many every `probationMs` until the first
// answer, then half a call more for each answer (half again as many each round trip), until
// nothing is limited any more; so a provider that refuses does it to a few calls, not to a whole
// first wave, one that is slow to answer is held back about 1.5 s once, and one that is down (its
// first calls fail, none answers) costs the few calls of the probation. A 429 that says "rate"
// sets or lowers a request rate, one that says "concurrency" a cap on calls in flight; successes
// grow them back, slowly just after a cut and faster the longer nothing is refused (so a capacity
// that came back is found again in seconds).
import type { WireError } from '../types/errors.ts';
import type { LearnedLimits } from '../types/options.ts';

/** The tuning of the learned limits (measured in `npm run routing-demo`). */
export const ADAPTIVE = {
  /** Calls in flight on a key that has not answered yet (with 2 retries each, a provider that is down costs 9 calls). */
  probation: 3,
  /**
   * Until the key's first answer its probation's cap doubles this often (a provider slow to answer,
   * a long completion, holds the other sessions back about 1.5 s, once), but not while its calls
   * fail: a provider that is down gets the probation's calls and no more (see failureHoldMs).
   */
  probationMs: 250,
  /**
   * What each answer adds to the probation's cap: ×1.5 a round trip, so that the round that meets
   * the provider's limit (a token bucket's burst) sends half again what it admitted, not twice.
   */
  probationStep: 0.5,
  /**
   * Once the key has answered, its probation's cap doubles for every this long without an answer
   * (calls of a few hundred ms answer in bursts: 250 ms would double it between two of them).
   */
  quietMs: 1000,
  /**
   * After a failure on a key that has not answered, its probation's cap stays at 3 this long (a
   * provider that is down fails again within it: its sessions' retries), then grows again (a state
   * left by a host that crashed with its failing calls out does not hold the key for good).
   */
  failureHoldMs: 5000,
  /** Probation ends (nothing is limited, no store step) once its cap reaches this many calls in flight (twice the default `maxConcurrent`). */
  probationEnd: 128,
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
  delete next.answers;
  delete next.failedAt;
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
  if (inEpisode && learned.firstEpisode === true) return { ...next, requestsPerSecond: firstWave(learned, admitted, seen.blocked) };
  // More refusals after the episode's cut: the capacity is still below the rate (it shrank, and what
  // was admitted in the last second lags behind): down to what was admitted, by half at most.
  if (inEpisode) return { ...next, requestsPerSecond: Math.max(ADAPTIVE.minRate, Math.min(rate, Math.max(admitted, rate * 0.5))) };
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
  if (learned.requestsPerSecond === undefined && learned.concurrency === undefined) return answered(learned, now);
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

/** The time from which time doubles the probation's cap: the last answer (the key's first call), or the end of a failure's hold. */
function growsFrom(learned: LearnedLimits): number {
  return learned.failedAt === undefined ? learned.grownAt : Math.max(learned.grownAt, learned.failedAt + ADAPTIVE.failureHoldMs);
}

/** How long without an answer doubles the probation's cap: probationMs before the first, quietMs after. */
function doublingMs(learned: LearnedLimits): number {
  return (learned.answers ?? 0) > 0 ? ADAPTIVE.quietMs : ADAPTIVE.probationMs;
}

/** The probation's cap before time adds to it: 3, and half a call per answer. */
function answeredCap(learned: LearnedLimits): number {
  return ADAPTIVE.probation + (learned.answers ?? 0) * ADAPTIVE.probationStep;
}

/**
 * The probation's cap at `now`: half a call more per answer (half again as many each round trip, at
 * the provider's pace), doubled for every probationMs without one, or quietMs once one came (a
 * provider slow to answer holds the others back about 1.5 s, once); held at 3 for failureHoldMs
 * after a call failed while none was answered (a provider that is down).
 */
function probationCap(learned: LearnedLimits, now: number): number {
  // In steps: no fourth call before probationMs, so that the first failures (a few ms, or a busy host's
  // hundred) reach the key before time lets more go.
  const doublings = Math.floor(Math.max(0, now - growsFrom(learned)) / doublingMs(learned));
  return answeredCap(learned) * 2 ** Math.min(doublings, 16);
}

/** With `inFlight` calls out and the probation's cap reached, how long until time alone raises it (ms). */
export function probationWaitMs(learned: LearnedLimits, inFlight: number, now: number): number | undefined {
  if (learned.probation !== true) return undefined;
  // The cap that lets one more go, or the end of the probation, whichever comes first.
  const needed = Math.min(Math.max(inFlight, 0) + 1, ADAPTIVE.probationEnd);
  const doublings = Math.max(0, Math.ceil(Math.log2(needed / answeredCap(learned))));
  return Math.max(1, Math.ceil(growsFrom(learned) + doublings * doublingMs(learned) - now));
}

/** The provider answered a call on the key (its end, or a stream's first sign of life): the probation's cap grows by half a call. */
export function answered(learned: LearnedLimits, now: number): LearnedLimits {
  if (learned.probation !== true) return learned;
  // From the cap time gave the key (it never shrinks).
  const answers = (probationCap(learned, now) - ADAPTIVE.probation) / ADAPTIVE.probationStep + 1;
  const next: LearnedLimits = { ...learned, answers, grownAt: now };
  delete next.failedAt;
  if (probationCap(next, now) < ADAPTIVE.probationEnd) return next;
  delete next.answers;
  return { ...next, probation: false };
}

/**
 * A call on a key still on probation failed as a provider that is unwell fails, and none was
 * answered yet: the cap stays at 3 until an answer, or failureHoldMs after the last such failure.
 */
export function failedOnProbation(learned: LearnedLimits, now: number): LearnedLimits {
  return learned.probation === true && (learned.answers ?? 0) === 0 ? { ...learned, failedAt: now } : learned;
}

/** The learned cap on calls in flight at `now` (probation included); undefined: none. */
export function learnedConcurrency(learned: LearnedLimits | undefined, now: number): number | undefined {
  if (learned === undefined) return undefined;
  if (learned.probation === true) {
    const cap = Math.floor(probationCap(learned, now));
    if (cap < ADAPTIVE.probationEnd) return cap;
  }
  return learned.concurrency === undefined ? undefined : Math.max(1, Math.floor(learned.concurrency));
}

/** True when the learned state limits nothing: calls may go without asking the store. */
export function learnedNothing(learned: LearnedLimits | undefined): boolean {
  return learned === undefined || (learned.probation !== true && learned.requestsPerSecond === undefined && learned.concurrency === undefined);
}
