// Which limiter learns a key's capacity best with no configuration (issue 25), measured on virtual
// time: a small discrete-event simulation of the routing demo's `auto-*` rows (500 sessions at
// t = 0, 64 in flight at most, each call takes the throttle's latency and so does its 429) against
// the same throttles (throttles.ts), for several policies behind one interface:
// - ours: the product's own pure functions (budget.ts, adaptive.ts, key-track.ts through
//   src/api/internal.ts), fed as the router feeds them (router.ts: settle, #refused, #rerunDelay);
// - gradient2: Netflix concurrency-limits' Gradient2Limit, as published (it ignores drops) and with
//   a drop response (×0.9 on a 429, like AIMDLimit);
// - aimd: concurrency-limits' AIMDLimit;
// - none: no limiter, every refused call retried on its Retry-After with the worker's spread.
// The concurrency limiters hold the key back for a rate refusal's Retry-After, as ours does, and a
// refused call goes back to the front of the key's queue. Deterministic (seeded jitter).
// `node benchmarks/limiters.ts` prints a markdown table; `--json` prints JSON rows;
// `--max-retries N` (default 20), `--seed N`; SESSIONS=n for fewer sessions.
import { parseArgs } from 'node:util';
import {
  DEFAULT_AIMD,
  finish,
  initialState,
  KeyTrack,
  learnedNothing,
  refusalKind,
  succeeded,
  take,
  throttled,
  type KeyLimits,
  type KeyState,
  type RefusalContext,
} from '../src/api/internal.ts';
import { AUTO, throttleFor, TOKENS_EACH, type AutoScenario, type Refusal } from './throttles.ts';

const { values: args } = parseArgs({
  options: { json: { type: 'boolean', default: false }, 'max-retries': { type: 'string', default: '20' }, seed: { type: 'string', default: '1' } },
});
const SESSIONS = Number(process.env['SESSIONS'] ?? 500);
const MAX_CONCURRENT = 64;
const MAX_RETRIES = Number(args['max-retries']);
const SEED = Number(args.seed);
/** The retry defaults (src/config/options.ts) and the spread of a provider's wait (src/worker/call/retry.ts). */
const RETRY = { baseDelayMs: 500, maxDelayMs: 8000, maxSpreadMs: 2000 };
/** A key queue whose head waits for a slot looks again this often (src/routing/key-queue.ts). */
const CONCURRENCY_POLL_MS = 250;
const RATE_MESSAGE = 'Your account request reached the rate limit';

type Kind = RefusalContext['kind'];

/** A call on its way: when it left, the calls in flight then (itself included), and whether it took the key's budget. */
interface Call {
  startedAt: number;
  inFlight: number;
  queued: boolean;
}

interface Seen {
  retryAfterMs: number;
  kind: Kind;
}

/** A limiter policy, asked by the key's queue (FIFO; a refused call goes back to its front). */
interface Policy {
  /** The call may go at once, without the queue (nothing limits the key yet). */
  free(now: number): boolean;
  /** Whether the queue's head may go now (ours takes the key's budget when it says yes). */
  mayStart(now: number): boolean;
  /** When to ask again after a no; undefined: when a call ends. */
  nextWakeAt(now: number): number | undefined;
  started(now: number, queued: boolean): Call;
  onSuccess(call: Call, now: number): void;
  onRefusal(call: Call, seen: Seen, now: number): void;
  /** The wait before a refused call (re-run `reruns` times so far) queues for the key again. */
  retryDelayMs(reruns: number, seen: Seen, now: number): number;
}

type Random = () => number;

/** A concurrency refusal while none of this host's calls is out: the `retry` backoff (router.ts #rerunDelay). */
function concurrencyBackoff(reruns: number, seen: Seen, inFlight: number, random: Random): number {
  if (seen.kind !== 'concurrency' || inFlight > 0) return 0;
  const ceiling = Math.min(RETRY.maxDelayMs, RETRY.baseDelayMs * 2 ** reruns);
  return Math.max(seen.retryAfterMs, Math.round(ceiling / 2 + random() * (ceiling / 2)));
}

/** The product: the key's state through budget.ts, what this host saw through KeyTrack, as router.ts feeds them. */
function ours(random: Random): Policy {
  const limits: KeyLimits = { aimd: DEFAULT_AIMD, adaptive: true };
  const cost = { requests: 1, tokens: 0 };
  const track = new KeyTrack();
  let state: KeyState | undefined;
  let waitMs: number | undefined;
  const current = (now: number): KeyState => state ?? initialState(limits, now);
  return {
    // router.ts #queueFor: a key that learned nothing (answered, never refused) is not asked.
    free: () => state !== undefined && learnedNothing(state.learned),
    mayStart(now) {
      const [next, result] = take(current(now), cost, limits, now);
      state = next;
      waitMs = result.ok ? undefined : result.waitMs;
      return result.ok;
    },
    nextWakeAt: (now) => now + (waitMs ?? CONCURRENCY_POLL_MS),
    started(now, queued) {
      track.inFlight++;
      return { startedAt: now, inFlight: track.inFlight, queued };
    },
    onSuccess(call, now) {
      track.inFlight--;
      track.admitted(now);
      if (call.queued) state = succeeded(finish(current(now), limits, 0, 0, now), limits, now, track.admittedPerS(now));
    },
    onRefusal(call, seen, now) {
      // The worker's retry event first (router.ts #refused, the refused call still in flight), then settle.
      const context = { kind: seen.kind, admittedPerS: track.admittedPerS(now), inFlight: track.inFlight, retryAfterMs: seen.retryAfterMs };
      state = throttled(current(now), limits, seen.retryAfterMs, now, context);
      track.inFlight--;
      if (call.queued) state = finish(state, limits, 0, 0, now);
    },
    retryDelayMs: (reruns, seen) => concurrencyBackoff(reruns, seen, track.inFlight, random),
  };
}

/** A concurrency limit in the manner of concurrency-limits' `Limit`: `value` calls in flight at most. */
interface Limit {
  readonly value: number;
  update(rttMs: number, inFlight: number, didDrop: boolean): void;
}

/** AIMDLimit: +1 on a success while at least half the limit is in flight, ×0.9 on a drop. */
function aimdLimit(): Limit {
  let limit = 20;
  return {
    get value() {
      return limit;
    },
    update(_rtt, inFlight, didDrop) {
      if (didDrop) limit = Math.max(1, Math.min(limit - 1, Math.floor(limit * 0.9)));
      else if (inFlight * 2 >= limit) limit = Math.min(200, limit + 1);
    },
  };
}

/**
 * Gradient2Limit (the version with `rttTolerance` 1.5): the gradient of a long RTT average (an EMA
 * over 600 samples after a mean of the first 10) to the last RTT, clamped to [0.5, 1], plus a queue
 * of 4, smoothed by 0.2. As published it ignores drops (`dropCut` false); with `dropCut` a drop
 * multiplies the limit by 0.9 instead of sampling.
 */
function gradient2Limit(dropCut: boolean): Limit {
  const window = 600;
  const warmup = 10;
  let estimated = 20;
  let longRtt = 0;
  let samples = 0;
  let sum = 0;
  return {
    get value() {
      return Math.floor(estimated);
    },
    update(rtt, inFlight, didDrop) {
      if (didDrop && dropCut) {
        estimated = Math.max(1, estimated * 0.9);
        return;
      }
      const queueSize = 4;
      if (samples < warmup) {
        samples++;
        sum += rtt;
        longRtt = sum / samples;
      } else longRtt = longRtt * (1 - 2 / (window + 1)) + (rtt * 2) / (window + 1);
      if (longRtt / rtt > 2) longRtt *= 0.95;
      if (inFlight < estimated / 2) return;
      const gradient = Math.max(0.5, Math.min(1, (1.5 * longRtt) / rtt));
      const next = estimated * 0.8 + (estimated * gradient + queueSize) * 0.2;
      estimated = Math.max(1, Math.min(200, next));
    },
  };
}

/** A concurrency limiter on the key, holding it back for a rate refusal's Retry-After as ours does. */
function limited(limit: Limit, random: Random): Policy {
  let inFlight = 0;
  let blockedUntil = 0;
  return {
    free: () => false,
    mayStart: (now) => now >= blockedUntil && inFlight < limit.value,
    nextWakeAt: (now) => (blockedUntil > now ? blockedUntil : undefined),
    started(now, queued) {
      inFlight++;
      return { startedAt: now, inFlight, queued };
    },
    onSuccess(call, now) {
      inFlight--;
      limit.update(now - call.startedAt, call.inFlight, false);
    },
    onRefusal(call, seen, now) {
      inFlight--;
      if (seen.kind === 'rate') blockedUntil = Math.max(blockedUntil, now + seen.retryAfterMs);
      limit.update(now - call.startedAt, call.inFlight, true);
    },
    retryDelayMs: (reruns, seen) => concurrencyBackoff(reruns, seen, inFlight, random),
  };
}

/** No limiter (`routing: false`): the worker retries a 429 after its Retry-After, spread (src/worker/call/retry.ts decideRetry). */
function none(random: Random): Policy {
  return {
    free: () => true,
    mayStart: () => true,
    nextWakeAt: () => undefined,
    started: (now, queued) => ({ startedAt: now, inFlight: 0, queued }),
    onSuccess() {},
    onRefusal() {},
    retryDelayMs(reruns, seen) {
      const asked = seen.retryAfterMs;
      const spreadMs = Math.min(RETRY.maxSpreadMs, asked * (2 ** (reruns + 1) - 1));
      return Math.round(asked + random() * spreadMs);
    },
  };
}

const POLICIES: Record<string, (random: Random) => Policy> = {
  ours,
  gradient2: (random) => limited(gradient2Limit(false), random),
  'gradient2 + drop ×0.9': (random) => limited(gradient2Limit(true), random),
  aimd: (random) => limited(aimdLimit(), random),
  none,
};

/** Events on virtual time, in time order (ties in the order they were scheduled). */
class Events {
  now = 0;
  readonly #heap: Array<{ at: number; seq: number; run: () => void }> = [];
  #seq = 0;

  at(at: number, run: () => void): void {
    const heap = this.#heap;
    heap.push({ at, seq: this.#seq++, run });
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.#before(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  run(): void {
    const heap = this.#heap;
    while (heap.length > 0) {
      const top = heap[0]!;
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        for (let i = 0; ; ) {
          const l = 2 * i + 1;
          const r = l + 1;
          let least = i;
          if (l < heap.length && this.#before(l, least)) least = l;
          if (r < heap.length && this.#before(r, least)) least = r;
          if (least === i) break;
          this.#swap(i, least);
          i = least;
        }
      }
      this.now = top.at;
      top.run();
    }
  }

  #before(a: number, b: number): boolean {
    const x = this.#heap[a]!;
    const y = this.#heap[b]!;
    return x.at < y.at || (x.at === y.at && x.seq < y.seq);
  }

  #swap(a: number, b: number): void {
    const heap = this.#heap;
    [heap[a], heap[b]] = [heap[b]!, heap[a]!];
  }
}

/** A seeded PRNG (mulberry32): the same jitter on every run. */
function seeded(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Session {
  reruns: number;
}

interface Outcome {
  requests: number;
  refused: number;
  requestsLate: number;
  refusedLate: number;
  failed: number;
  wallMs: number;
  /** Requests and refusals by second since the first request. */
  perSecond: Array<{ requests: number; refused: number }>;
}

function simulate(scenario: AutoScenario, makePolicy: (random: Random) => Policy): Outcome {
  const events = new Events();
  const random = seeded(SEED);
  const policy = makePolicy(random);
  const throttle = throttleFor(scenario.mode, scenario.limit);
  const latencyMs = scenario.latencyMs ?? 20;
  const out: Outcome = { requests: 0, refused: 0, requestsLate: 0, refusedLate: 0, failed: 0, wallMs: 0, perSecond: [] };
  const queue: Session[] = [];
  let admitted = 0;
  let active = 0;
  let seq = 0;
  let wakeGeneration = 0;

  const pump = (): void => {
    const generation = ++wakeGeneration;
    while (queue.length > 0) {
      const now = events.now;
      if (!policy.mayStart(now)) {
        const at = policy.nextWakeAt(now);
        if (at !== undefined) events.at(at, () => generation === wakeGeneration && pump());
        return;
      }
      send(queue.shift()!, true);
    }
  };
  const acquire = (session: Session, front: boolean): void => {
    if (policy.free(events.now)) return send(session, false);
    if (front) queue.unshift(session);
    else queue.push(session);
    pump();
  };
  const admit = (): void => {
    while (active < MAX_CONCURRENT && admitted < SESSIONS) {
      active++;
      admitted++;
      acquire({ reruns: 0 }, false);
    }
  };
  const end = (): void => {
    active--;
    out.wallMs = events.now;
    // The next session starts after the answers that came at the same moment reached the key (the
    // engine dispatches it once the released one's outcome is handled); in lockstep it would go
    // before the refusals among them, through a key that does not know it is limited yet.
    events.at(events.now, admit);
  };
  const send = (session: Session, queued: boolean): void => {
    const now = events.now;
    const call = policy.started(now, queued);
    const id = ++seq;
    const second = Math.floor(now / 1000);
    const bin = (out.perSecond[second] ??= { requests: 0, refused: 0 });
    const late = now >= 5000;
    const refusal: Refusal | undefined = throttle.admit({ seq: id, receivedAt: now, tokens: TOKENS_EACH });
    out.requests++;
    bin.requests++;
    if (late) out.requestsLate++;
    if (refusal !== undefined) {
      out.refused++;
      bin.refused++;
      if (late) out.refusedLate++;
    }
    events.at(now + latencyMs, () => answered(session, call, id, refusal));
  };
  const answered = (session: Session, call: Call, id: number, refusal: Refusal | undefined): void => {
    const now = events.now;
    if (refusal === undefined) {
      throttle.release(id);
      policy.onSuccess(call, now);
      end();
      return pump();
    }
    const seen: Seen = { retryAfterMs: refusal.retryAfterMs, kind: refusalKind({ message: refusal.message ?? RATE_MESSAGE }) };
    policy.onRefusal(call, seen, now);
    if (session.reruns >= MAX_RETRIES) {
      out.failed++;
      end();
      return pump();
    }
    const delayMs = policy.retryDelayMs(session.reruns, seen, now);
    session.reruns++;
    if (delayMs > 0) {
      events.at(now + delayMs, () => acquire(session, true));
      return pump();
    }
    acquire(session, true);
  };

  admit();
  events.run();
  return out;
}

/** The first second from which on refusals stay under 2 % of each second's requests. */
function convergedS(perSecond: Outcome['perSecond']): number {
  let from = 0;
  perSecond.forEach((bin, second) => {
    if (bin !== undefined && bin.refused >= 0.02 * bin.requests && bin.refused > 0) from = second + 1;
  });
  return from;
}

const pct = (part: number, whole: number) => (whole === 0 ? 0 : Number(((100 * part) / whole).toFixed(1)));

const rows = [];
for (const [name, scenario] of Object.entries(AUTO)) {
  const idealS = scenario.idealS(SESSIONS);
  for (const [policy, make] of Object.entries(POLICIES)) {
    const out = simulate(scenario, make);
    const wallS = out.wallMs / 1000;
    rows.push({
      throttle: name,
      describe: scenario.describe,
      policy,
      sessions: SESSIONS,
      failed: out.failed,
      requests: out.requests,
      refused: out.refused,
      refusedPct: pct(out.refused, out.requests),
      refusedAfter5sPct: pct(out.refusedLate, out.requestsLate),
      convergedS: convergedS(out.perSecond),
      wallS: Number(wallS.toFixed(1)),
      idealS: Number(idealS.toFixed(1)),
      wallVsIdeal: idealS > 0 ? Number((wallS / idealS).toFixed(2)) : null,
    });
  }
}

if (args.json) for (const row of rows) console.log(JSON.stringify(row));
else {
  console.log(`${SESSIONS} sessions at t = 0, ${MAX_CONCURRENT} in flight, at most ${MAX_RETRIES} retries each (virtual time, seed ${SEED})\n`);
  console.log(
    '| provider throttle | limiter | requests | refused | after 5 s | every second < 2 % refused from | wall s | ideal s | wall ÷ ideal | sessions out of retries |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const cells = [r.describe, r.policy, r.requests, `${r.refused} (${r.refusedPct} %)`, `${r.refusedAfter5sPct} %`, `${r.convergedS} s`];
    cells.push(r.wallS, r.idealS || '—', r.wallVsIdeal ?? '—', r.failed);
    console.log(`| ${cells.join(' | ')} |`);
  }
}
