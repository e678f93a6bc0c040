// Routing on the main thread: which target a chat session goes to, when its key has budget, and
// where it goes next when a target fails. The engine asks it through one hook (`DispatchGate`:
// wait before a session leaves `created`, released when it is released); the pool is wrapped
// (routed-dispatcher.ts) so that a failed target is followed by the next within the same
// session, which stays in `processing`; worker events pass through `observe` (429s, deltas, retries).
import { createHash } from 'node:crypto';
import type { Clock } from '../util/clock.ts';
import type { WireError } from '../types/errors.ts';
import type { EventBatch, TaskOutcome } from '../wire/protocol.ts';
import type { DispatchGate, SessionSpec } from '../seam/seam.ts';
import { CircuitBreaker } from './breaker.ts';
import type { BreakerSettings, KeyState, LearnedLimits, LimiterStore } from '../types/options.ts';
import type { CircuitSnapshot, RoutingStats, KeyStats } from '../types/stats.ts';
import { charge, finish, giveBack, succeeded, throttled, type Cost, type KeyLimits } from './budget.ts';
import { answered, failedOnProbation, learnedConcurrency, learnedNothing, refusalKind, type RefusalContext } from './adaptive.ts';
import { KeyTrack } from './key-track.ts';
import { KeyQueue } from './key-queue.ts';
import { DEFAULT_AIMD, estimateCost } from './limits.ts';
import { type FallbackLimiterStore, guardedStore } from './fallback-store.ts';
import { MemoryLimiterStore } from './store.ts';
import type { RouteTarget } from './targets.ts';
import type { FallbackTarget, RouteEntry, RouteOutcome } from '../types/route.ts';
import type { RoutingEvents } from '../types/session.ts';

export interface RoutingSettings {
  /** Limits by provider name (providers without an entry are not limited). */
  limits: Map<string, KeyLimits>;
  /** Supervisor-wide fallbacks by provider name. */
  fallbacks: Map<string, FallbackTarget[]>;
  /** One breaker per provider when set (except the providers in `unprotected`). */
  breaker: BreakerSettings | undefined;
  /** Keys learn their limits from refusals and share their Retry-After (on unless `routing: false`). */
  adaptive: boolean;
  /** Providers with `routing: false`: no learned limits, no default breaker. */
  unprotected: Set<string>;
  /** Output tokens charged for a call without `maxOutputTokens`. */
  defaultOutputTokens: number;
  store?: LimiterStore;
}

export interface RouterDeps {
  clock: Clock;
  emit<K extends keyof RoutingEvents>(type: K, event: RoutingEvents[K][0]): void;
  /** Told when a shared store goes away or comes back. */
  warn?(message: string, error?: unknown): void;
}

/** One chat session's way through its targets. */
export interface Route {
  readonly sessionId: string;
  readonly requestId: string;
  readonly targets: RouteTarget[];
  index: number;
  readonly entries: RouteEntry[];
  deadlineAt: number;
  /** Provider calls made on the targets already left. */
  attemptsBefore: number;
  /** A delta reached the caller: no fallback any more. */
  streamed: boolean;
  /** The current target's cost, and whether its key's budget is held by this session. */
  cost?: Cost;
  held?: KeyQueue;
  /** This host's view of the current target's key, while a call is out on it. */
  tracked?: KeyTrack;
  probe: boolean;
  /** The router retries this call itself (its worker was told not to): how many times so far. */
  reruns: number;
  /** The wait before a re-run of a call refused with 429 (see Router.mayRerun). */
  rerunDelayMs?: number;
  /** The call out now showed a sign of life (its answer counted on the key's probation). */
  answered?: boolean;
  /** The call out now hands its 429s back to the router (`deferRateLimits`). */
  deferring?: boolean;
  /** The current run's 429 already reached the key (by its `retry` event). */
  refusalSeen?: boolean;
  waiting?: KeyQueue;
  /** Settles the wrapped run that waits between two targets (an abort ends it). */
  pending?: (outcome: TaskOutcome) => void;
  threadId?: number;
}

/** The retry settings a re-run after a 429 follows. */
export interface RerunSettings {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** A provider failure that says the provider is unwell; rate limits are the limiter's business. */
export function isHealthFailure(error: WireError): boolean {
  return error.retryable === true && (error.code === 'ERR_PROVIDER' || error.code === 'ERR_PROVIDER_RESPONSE') && error.status !== 429;
}

/**
 * What a failed call says to a key's probation: the provider is unwell (a health failure, or a call
 * that ran out its session's time unanswered: a provider that hangs), or it answered (a 4xx other
 * than 429: it is up, the request was refused); undefined: nothing (429s, aborts).
 */
function probationStep(error: WireError): typeof answered | typeof failedOnProbation | undefined {
  if (isHealthFailure(error) || error.code === 'ERR_SESSION_TIMEOUT') return failedOnProbation;
  const status = error.status;
  return status !== undefined && status >= 400 && status < 500 && status !== 429 ? answered : undefined;
}

export class Router implements DispatchGate {
  readonly settings: RoutingSettings;
  readonly #deps: RouterDeps;
  readonly #store: LimiterStore;
  readonly #shared: FallbackLimiterStore | undefined;
  readonly #routes = new Map<string, Route>();
  readonly #queues = new Map<string, KeyQueue>();
  readonly #keyStates = new Map<string, KeyState>();
  readonly #keyIds = new Map<string, string>();
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #tracks = new Map<string, KeyTrack>();
  /** The limits of providers with none configured that learn them (`adaptive`). */
  readonly #learning = new Map<string, KeyLimits>();
  #waiting = 0;
  // Until a worker thread is up, tasks pile up in the pool and would all leave at once when it
  // starts: budget is handed out only once something can use it (the first thread, not all of them).
  #poolReady = false;
  #untilReady: Array<() => void> = [];
  #fallbacks = 0;
  #throttled = 0;
  #circuitRejected = 0;

  constructor(settings: RoutingSettings, deps: RouterDeps) {
    this.settings = settings;
    this.#deps = deps;
    // A store given (shared across hosts) may fail or hang: its failures stay here (fallback-store.ts).
    this.#shared = settings.store === undefined ? undefined : guardedStore(settings.store, deps.clock, deps.warn);
    this.#store = this.#shared ?? new MemoryLimiterStore(deps.clock);
  }

  /** A worker can take sessions: budget handed out from now on is used at once. */
  poolReady(): void {
    if (this.#poolReady) return;
    this.#poolReady = true;
    const waiting = this.#untilReady;
    this.#untilReady = [];
    for (const resume of waiting) resume();
  }

  /** Supervisor-wide fallbacks of a provider. */
  fallbacksOf(provider: string): FallbackTarget[] {
    return this.settings.fallbacks.get(provider) ?? [];
  }

  /** Registers a chat session's targets (the request's own first); sessions nothing applies to are not tracked. */
  plan(sessionId: string, requestId: string, targets: RouteTarget[]): void {
    const routed = targets.length > 1 || targets.some((t) => this.#breaker(t.provider.name) !== undefined || this.#limitsOf(t.provider.name) !== undefined);
    if (!routed) return;
    this.#routes.set(sessionId, {
      sessionId,
      requestId,
      targets,
      index: 0,
      entries: [],
      deadlineAt: Infinity,
      attemptsBefore: 0,
      streamed: false,
      probe: false,
      reruns: 0,
    });
  }

  route(sessionId: string): Route | undefined {
    return this.#routes.get(sessionId);
  }

  /** The engine's hook: a session that holds a slot may leave once its target's key has budget. */
  wait(spec: SessionSpec, deadlineAt: number, go: () => void, fail: (error: WireError) => void): void {
    const route = this.#routes.get(spec.sessionId);
    if (route === undefined) return go();
    route.deadlineAt = deadlineAt;
    this.acquire(route, (ok) => (ok ? go() : fail(this.#circuitError(route))));
  }

  /** The engine's hook: the session was released. Whatever it still holds or waits for is let go. */
  released(sessionId: string): void {
    const route = this.#routes.get(sessionId);
    if (route === undefined) return;
    this.#routes.delete(sessionId);
    this.#unwait(route);
    this.settle(route, undefined);
  }

  /**
   * Moves the route to the first target from `route.index` on whose circuit lets it through, and
   * waits for that target's key; `done(false)` when no target is left.
   */
  acquire(route: Route, done: (ok: boolean) => void, front = false): void {
    const now = this.#deps.clock.now();
    for (; route.index < route.targets.length; route.index++) {
      const target = route.targets[route.index] as RouteTarget;
      if (this.#breaker(target.provider.name)?.wouldPass(now) === false) {
        this.#circuitRejected++;
        this.leave(route, 'circuit_open', 0);
        continue;
      }
      route.cost = estimateCost(target.call, this.settings.defaultOutputTokens);
      const queue = this.#queueFor(target);
      if (queue === undefined) return this.#pass(route, undefined, done);
      if (!this.#poolReady) return this.#afterReady(route, done);
      route.waiting = queue;
      this.#waiting++;
      const hasNext = route.index + 1 < route.targets.length;
      queue.enqueue(
        {
          sessionId: route.sessionId,
          cost: route.cost,
          deadlineAt: route.deadlineAt,
          grant: () => {
            this.#unwait(route);
            this.#pass(route, queue, done);
          },
          ...(hasNext ? { tooLate: () => this.#tooLate(route, done) } : {}),
        },
        front,
      );
      return;
    }
    done(false);
  }

  #afterReady(route: Route, done: (ok: boolean) => void): void {
    this.#waiting++;
    this.#untilReady.push(() => {
      this.#waiting--;
      if (this.#routes.get(route.sessionId) === route) this.acquire(route, done);
    });
  }

  #tooLate(route: Route, done: (ok: boolean) => void): void {
    this.#unwait(route);
    this.leave(route, 'no_budget', 0);
    route.index++;
    this.acquire(route, done);
  }

  /** Budget is held (or not needed): the circuit has the last word, since it may have opened meanwhile. */
  #pass(route: Route, queue: KeyQueue | undefined, done: (ok: boolean) => void): void {
    const target = route.targets[route.index] as RouteTarget;
    const pass = this.#breaker(target.provider.name)?.pass(this.#deps.clock.now()) ?? { ok: true, probe: false };
    if (!pass.ok) {
      if (queue !== undefined) this.#giveBack(queue, route.cost as Cost);
      this.#circuitRejected++;
      this.leave(route, 'circuit_open', 0);
      route.index++;
      return this.acquire(route, done);
    }
    route.probe = pass.probe;
    if (queue !== undefined) route.held = queue;
    const track = this.#trackOf(target);
    if (track !== undefined) {
      track.inFlight++;
      route.tracked = track;
      route.answered = false;
    }
    done(true);
  }

  /** Notes why the route leaves its current target, and announces the next one (unless it goes nowhere). */
  leave(route: Route, outcome: RouteOutcome, attempts: number, error?: WireError, announce = true): void {
    const target = route.targets[route.index] as RouteTarget;
    const entry: RouteEntry = { provider: target.provider.name, model: target.call.model, outcome, attempts };
    if (error !== undefined) entry.error = { code: error.code, message: error.message, ...(error.status !== undefined ? { status: error.status } : {}) };
    route.entries.push(entry);
    const next = route.targets[route.index + 1];
    if (next === undefined || !announce) return;
    this.#fallbacks++;
    this.#deps.emit('fallback', {
      sessionId: route.sessionId,
      requestId: route.requestId,
      from: { provider: entry.provider, model: entry.model },
      to: { provider: next.provider.name, model: next.call.model },
      reason: outcome,
      ...(entry.error ? { error: { code: entry.error.code, message: entry.error.message } } : {}),
      at: this.#deps.clock.now(),
    });
  }

  /** The current target's call is over (`outcome` undefined: it never came back): budget, AIMD, breaker. */
  settle(route: Route, outcome: TaskOutcome | undefined): void {
    const now = this.#deps.clock.now();
    const queue = route.held;
    route.held = undefined;
    const track = route.tracked;
    route.tracked = undefined;
    if (track !== undefined) {
      track.inFlight--;
      if (outcome?.ok === true) track.admitted(now);
    }
    const target = route.targets[route.index];
    const refusal = outcome !== undefined && !outcome.ok && outcome.error.status === 429 && outcome.error.retryable === true ? outcome.error : undefined;
    if (refusal !== undefined && target !== undefined && route.refusalSeen !== true) this.#refused(target, route, refusal, retryAfterOf(refusal));
    if (queue !== undefined) {
      const estimate = route.cost?.tokens ?? 0;
      const used = outcome?.ok === true ? (usedTokens(outcome.value) ?? estimate) : chargedOnFailure(outcome, estimate);
      const admitted = track?.admittedPerS(now) ?? 0;
      void queue
        .change((state) => [
          outcome?.ok === true
            ? succeeded(finish(state, queue.limits, estimate, used, now), queue.limits, now, admitted)
            : finish(state, queue.limits, estimate, used, now),
          undefined,
        ])
        .then(() => queue.wake(), ignore);
    }
    const breaker = target === undefined ? undefined : this.#breaker(target.provider.name);
    if (breaker !== undefined) {
      if (outcome?.ok === true) breaker.success(now, route.probe);
      else if (outcome !== undefined && isHealthFailure(outcome.error)) breaker.failure(now, route.probe);
      else breaker.released(route.probe);
    }
    if (target !== undefined && track !== undefined) {
      // A call released unanswered at its deadline (the outcome comes later, or never) ran out its time.
      const timedOut = outcome === undefined && now >= route.deadlineAt && route.answered !== true;
      const step = timedOut ? failedOnProbation : outcome?.ok === false ? probationStep(outcome.error) : undefined;
      if (step !== undefined && !(step === answered && route.answered === true)) this.#onProbation(target, step);
    }
    route.probe = false;
  }

  /** Worker events before the engine sees them: attempt numbers across targets, deltas, 429s and failed attempts. */
  observe(batch: EventBatch): void {
    if (this.#routes.size === 0) return;
    for (const event of batch.events) {
      const route = this.#routes.get(event.sessionId);
      if (route === undefined) continue;
      if (event.type === 'delta') route.streamed = true;
      if (SIGNS_OF_LIFE.has(event.type)) this.#alive(route);
      if (event.type !== 'retry') continue;
      event.attempt += route.attemptsBefore;
      this.#attemptFailed(route, event.error, event.retryAfterMs);
    }
  }

  /**
   * The provider is answering the route's call (a stream's head or first text): a key on probation
   * counts it as an answer now, not once that call has ended (a slow stream would hold the first
   * wave to the probation for its whole length, where an unprotected host sends them all at once).
   */
  #alive(route: Route): void {
    const target = route.targets[route.index];
    // One answer per call, at its first sign of life (not one per delta).
    if (target === undefined || route.tracked === undefined || route.answered === true) return;
    route.answered = true;
    this.#onProbation(target, answered);
  }

  /** A step of the key's probation (answered, failedOnProbation), taken only while it is on probation. */
  #onProbation(target: RouteTarget, step: (learned: LearnedLimits, now: number) => LearnedLimits): void {
    const queue = this.#queueFor(target);
    if (queue === undefined || this.#keyStates.get(queue.key)?.learned?.probation !== true) return;
    const now = this.#deps.clock.now();
    void queue
      .change((state) => [state.learned === undefined ? state : { ...state, learned: step(state.learned, now) }, undefined])
      .then(() => queue.wake(), ignore);
  }

  #attemptFailed(route: Route, error: WireError, retryAfterMs: number | undefined): void {
    const target = route.targets[route.index];
    if (target === undefined) return;
    const now = this.#deps.clock.now();
    if (isHealthFailure(error)) {
      this.#breaker(target.provider.name)?.failure(now, route.probe);
      this.#onProbation(target, failedOnProbation);
    }
    if (error.status === 429) {
      route.refusalSeen = true;
      return this.#refused(target, route, error, retryAfterMs, route.deferring !== true);
    }
    const queue = this.#queueFor(target, true);
    if (queue === undefined) return;
    // The worker retries on its own: that request is charged.
    const cost = route.cost ?? { requests: 1, tokens: 0 };
    void queue.change((state) => [charge(state, cost, queue.limits, now), undefined]).catch(ignore);
  }

  /** A 429 on the target's key: everyone on it waits out the Retry-After, and its limits shrink. */
  #refused(target: RouteTarget, route: Route, error: WireError, retryAfterMs: number | undefined, retried = false): void {
    const queue = this.#queueFor(target, true);
    if (queue === undefined) return;
    this.#throttled++;
    const now = this.#deps.clock.now();
    const track = this.#trackOf(target);
    const seen: Omit<RefusalContext, 'blocked'> = {
      kind: refusalKind(error),
      admittedPerS: track?.admittedPerS(now) ?? 0,
      inFlight: track?.inFlight ?? 1,
      retryAfterMs,
    };
    // A worker's own retry is charged to the key (it goes without asking).
    const cost = route.cost ?? { requests: 1, tokens: 0 };
    void queue
      .change((state) => [throttled(retried ? charge(state, cost, queue.limits, now) : state, queue.limits, retryAfterMs, now, seen), undefined])
      .then(() => queue.wake(), ignore);
  }

  /**
   * Whether the route's call hands its 429s back (its worker does not retry them on its own): on a
   * key that learns its limits, a refused call waits for the key like every other call on it.
   */
  defersRateLimits(route: Route): boolean {
    route.refusalSeen = false;
    const target = route.targets[route.index];
    return target !== undefined && this.#adaptive(target.provider.name);
  }

  /**
   * Whether a 429 handed back may go again on the same target (the caller re-acquires, ahead of the
   * queue, after `route.rerunDelayMs`).
   */
  mayRerun(route: Route, error: WireError, retry: RerunSettings, random: () => number = Math.random): boolean {
    if (route.streamed || error.status !== 429 || error.retryable !== true) return false;
    const asked = retryAfterOf(error);
    const delayMs = this.#rerunDelay(route, error, retry, random);
    // A wait that ends past the deadline is not waited for: the session ends now, with the 429.
    if (this.#deps.clock.now() + Math.max(delayMs, asked ?? 0) >= route.deadlineAt) return false;
    // A re-run is the retry the worker would have made: the session's maxRetries bounds both (a caller
    // that asked for one retry, or none, gets its 429 after that many, as from the SDK).
    if (route.reruns >= retry.maxRetries) return false;
    route.reruns++;
    route.rerunDelayMs = delayMs;
    return true;
  }

  /**
   * A rate refusal waits in the key's queue (its Retry-After, the learned pace). A concurrency
   * refusal while none of this host's calls is out on the key has nothing to wait for there (the
   * slots are taken by others): without a backoff it would go again at once, maxRetries times in a row.
   */
  #rerunDelay(route: Route, error: WireError, retry: RerunSettings, random: () => number): number {
    const target = route.targets[route.index];
    if (target === undefined || refusalKind(error) !== 'concurrency' || (this.#trackOf(target)?.inFlight ?? 0) > 0) return 0;
    const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** route.reruns);
    return Math.max(retryAfterOf(error) ?? 0, Math.round(ceiling / 2 + random() * (ceiling / 2)));
  }

  #unwait(route: Route): void {
    if (route.waiting === undefined) return;
    route.waiting.remove(route.sessionId);
    route.waiting = undefined;
    this.#waiting--;
  }

  #giveBack(queue: KeyQueue, cost: Cost): void {
    void queue.change((state, now) => [giveBack(state, cost, queue.limits, now), undefined]).then(() => queue.wake(), ignore);
  }

  #circuitError(route: Route): WireError {
    const names = [...new Set(route.targets.map((t) => t.provider.name))].join(', ');
    return {
      code: 'ERR_CIRCUIT_OPEN',
      name: 'CircuitOpenError',
      message: `The circuit is open for ${names}: no target can take the session now`,
      retryable: true,
      route: route.entries,
    };
  }

  #breaker(provider: string): CircuitBreaker | undefined {
    const settings = this.settings.breaker;
    if (settings === undefined || this.settings.unprotected.has(provider)) return undefined;
    let breaker = this.#breakers.get(provider);
    if (breaker === undefined) {
      breaker = new CircuitBreaker(settings, (change) => this.#deps.emit('circuit', { provider, ...change }));
      this.#breakers.set(provider, breaker);
    }
    return breaker;
  }

  /** Whether the provider learns its keys' limits. */
  #adaptive(provider: string): boolean {
    return this.settings.adaptive && !this.settings.unprotected.has(provider);
  }

  /**
   * The key's limits: configured ones (their AIMD factor answers a 429, as documented), else, with
   * `adaptive`, limits learned from nothing; undefined: the key is not limited at all.
   */
  #limitsOf(provider: string): KeyLimits | undefined {
    const configured = this.settings.limits.get(provider);
    if (configured !== undefined || !this.#adaptive(provider)) return configured;
    let limits = this.#learning.get(provider);
    if (limits === undefined) {
      limits = { aimd: DEFAULT_AIMD, adaptive: true };
      this.#learning.set(provider, limits);
    }
    return limits;
  }

  #trackOf(target: RouteTarget): KeyTrack | undefined {
    if (!this.#adaptive(target.provider.name)) return undefined;
    const key = this.#keyId(target.provider.name, target.provider.apiKey);
    let track = this.#tracks.get(key);
    if (track === undefined) {
      track = new KeyTrack();
      this.#tracks.set(key, track);
    }
    return track;
  }

  /**
   * The key's queue, or undefined when a call may go without asking: a key with no configured limits
   * whose learned state limits nothing (answered once, never refused) costs no store step.
   * `always`: the queue even then (a refusal must reach the key's state).
   */
  #queueFor(target: RouteTarget, always = false): KeyQueue | undefined {
    const limits = this.#limitsOf(target.provider.name);
    if (limits === undefined) return undefined;
    const key = this.#keyId(target.provider.name, target.provider.apiKey);
    if (!always && !this.settings.limits.has(target.provider.name)) {
      const state = this.#keyStates.get(key);
      if (state !== undefined && learnedNothing(state.learned)) return undefined;
    }
    let queue = this.#queues.get(key);
    if (queue === undefined) {
      queue = new KeyQueue(key, limits, this.#store, this.#deps.clock, (state) => this.#keyStates.set(key, state));
      this.#queues.set(key, queue);
    }
    return queue;
  }

  /** The key's id: the provider and a hash of its API key, so that no secret reaches a store. */
  #keyId(provider: string, apiKey: string): string {
    const cacheKey = `${provider}\u0000${apiKey}`;
    let id = this.#keyIds.get(cacheKey);
    if (id === undefined) {
      id = `${provider}:${createHash('sha256').update(apiKey).digest('hex').slice(0, 12)}`;
      this.#keyIds.set(cacheKey, id);
    }
    return id;
  }

  stats(): RoutingStats {
    const now = this.#deps.clock.now();
    const keys: Record<string, KeyStats> = {};
    for (const [key, queue] of this.#queues) {
      const state = this.#keyStates.get(key);
      keys[key] = {
        provider: key.slice(0, key.lastIndexOf(':')),
        waiting: queue.waiting,
        inFlight: state?.inFlight ?? 0,
        factor: state?.factor ?? 1,
        blockedMs: Math.max(0, Math.ceil((state?.blockedUntil ?? 0) - now)),
      };
      const learned = state?.learned;
      if (learned !== undefined) Object.assign(keys[key], learnedStats(learned, now));
    }
    const circuits: Record<string, CircuitSnapshot> = {};
    for (const [provider, breaker] of this.#breakers) circuits[provider] = breaker.snapshot(now);
    const stats: RoutingStats = {
      waiting: this.#waiting,
      fallbacks: this.#fallbacks,
      throttled: this.#throttled,
      circuitRejected: this.#circuitRejected,
      keys,
      circuits,
    };
    if (this.#shared !== undefined) stats.store = this.#shared.health();
    return stats;
  }
}

// A store step that fails is the store's business (fallback-store.ts): it never escapes as an unhandled rejection.
function ignore(): void {}

function learnedStats(learned: LearnedLimits, now: number): Pick<KeyStats, 'learned' | 'refusals' | 'lastRetryAfterMs'> {
  // The calls in flight allowed now: the probation's cap while it limits, else the learned one.
  const cap = learnedConcurrency(learned, now);
  const view: NonNullable<KeyStats['learned']> = { probation: learned.probation === true && cap !== undefined };
  if (learned.requestsPerSecond !== undefined) view.requestsPerSecond = Math.round(learned.requestsPerSecond * 100) / 100;
  if (cap !== undefined) view.concurrency = cap;
  return { learned: view, refusals: learned.refusals, ...(learned.lastRetryAfterMs !== undefined ? { lastRetryAfterMs: learned.lastRetryAfterMs } : {}) };
}

/** Worker events that say the provider is answering a call still out. */
const SIGNS_OF_LIFE = new Set(['delta', 'reasoning', 'response', 'usage', 'tool-call']);

/**
 * The tokens a failed call is charged: none when the provider refused it outright (a 4xx: nothing
 * was generated, e.g. a 400 for a huge maxOutputTokens), else its whole estimate (it may have run).
 */
function chargedOnFailure(outcome: TaskOutcome | undefined, estimate: number): number {
  const status = outcome?.ok === false ? outcome.error.status : undefined;
  return status !== undefined && status >= 400 && status < 500 ? 0 : estimate;
}

/**
 * The wait a final 429 asked for (the worker's retry events carry theirs): `retry-after-ms`,
 * `retry-after` in seconds or as an HTTP date, or Kimi's "try again after N seconds" in the message.
 */
export function retryAfterOf(error: Pick<WireError, 'headers' | 'message'>): number | undefined {
  const ms = Number(error.headers?.['retry-after-ms']);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const after = error.headers?.['retry-after'];
  const seconds = Number(after);
  if (after !== undefined && after !== '' && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  // An HTTP date (wall time, whatever the supervisor's clock).
  const date = after === undefined ? NaN : Date.parse(after);
  if (Number.isFinite(date)) return Math.max(0, date - Date.now());
  const said = /try again after (\d+(?:\.\d+)?) seconds?/i.exec(error.message);
  return said?.[1] === undefined ? undefined : Number(said[1]) * 1000;
}

function usedTokens(value: unknown): number | undefined {
  const total = (value as { usage?: { totalTokens?: unknown } } | undefined)?.usage?.totalTokens;
  return typeof total === 'number' && total > 0 ? total : undefined;
}
