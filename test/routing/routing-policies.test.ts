// The routing policies on their own, by table, with a ManualClock: key budgets (token buckets,
// concurrency, AIMD, Retry-After), limits from options, the circuit breaker, and a key's queue.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/util/clock.ts';
import { CircuitBreaker, DEFAULT_BREAKER } from '../../src/routing/breaker.ts';
import type { CircuitChange } from '../../src/types/session.ts';
import { charge, finish, giveBack, initialState, succeeded, take, throttled, type KeyLimits } from '../../src/routing/budget.ts';
import type { KeyState } from '../../src/types/options.ts';
import { KeyQueue } from '../../src/routing/key-queue.ts';
import { DEFAULT_AIMD, estimateCost, LIMIT_PRESETS, resolveLimits } from '../../src/routing/limits.ts';
import { MemoryLimiterStore } from '../../src/routing/store.ts';

// 10 requests a second, burst 2; 1000 tokens a second, burst 500; 3 at once.
const LIMITS: KeyLimits = { requests: { burst: 2, perMs: 0.01 }, tokens: { burst: 500, perMs: 1 }, concurrency: 3, aimd: DEFAULT_AIMD };
const ONE = { requests: 1, tokens: 100 };

function run(steps: Array<[at: number, cost: { requests: number; tokens: number }]>, limits = LIMITS) {
  let state = initialState(limits, 0);
  return steps.map(([at, cost]) => {
    const [next, result] = take(state, cost, limits, at);
    state = next;
    // Calls end at once, so that concurrency does not get in the way of rate tests.
    if (result.ok) state = finish(state, limits, cost.tokens, cost.tokens, at);
    return result.ok ? 'ok' : `${result.reason} ${result.waitMs ?? '-'}`;
  });
}

describe('key budget', () => {
  const cases: Array<{ name: string; steps: Array<[number, { requests: number; tokens: number }]>; expect: string[] }> = [
    {
      name: 'a burst of 2 goes at once, the third waits for the refill',
      steps: [
        [0, ONE],
        [0, ONE],
        [0, ONE],
      ],
      expect: ['ok', 'ok', 'requests 100'],
    },
    {
      name: 'the refill brings one request per 100 ms',
      steps: [
        [0, ONE],
        [0, ONE],
        [100, ONE],
        [150, ONE],
        [200, ONE],
      ],
      expect: ['ok', 'ok', 'ok', 'requests 50', 'ok'],
    },
    {
      name: 'tokens: a big request waits for the tokens bucket',
      steps: [
        [0, { requests: 1, tokens: 400 }],
        [0, { requests: 1, tokens: 300 }],
      ],
      expect: ['ok', 'tokens 200'],
    },
    {
      name: 'a request bigger than the tokens bucket waits for a full bucket, not forever',
      steps: [
        [0, { requests: 1, tokens: 5000 }],
        [0, { requests: 1, tokens: 5000 }],
        [500, { requests: 1, tokens: 5000 }],
      ],
      expect: ['ok', 'tokens 5000', 'tokens 4500'],
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(run(c.steps), c.expect));

  test('concurrency: a fourth call waits for one to finish, with no time to wait for', () => {
    let state = initialState(LIMITS, 0);
    const results = [0, 200, 400, 600].map((at) => {
      const [next, result] = take(state, ONE, LIMITS, at);
      state = next;
      return result;
    });
    assert.deepEqual(results.at(-1), { ok: false, reason: 'concurrency', waitMs: undefined });
    state = finish(state, LIMITS, 100, 100, 700);
    assert.equal(take(state, ONE, LIMITS, 700)[1].ok, true);
  });

  test('the token estimate is corrected by the usage that came back', () => {
    let [state] = take(initialState(LIMITS, 0), { requests: 1, tokens: 400 }, LIMITS, 0);
    assert.equal(state.tokens?.level, 100);
    state = finish(state, LIMITS, 400, 50, 0); // used far less than estimated: 350 come back
    assert.equal(state.tokens?.level, 450);
    state = finish({ ...state, inFlight: 1 }, LIMITS, 100, 600, 0); // used more: the bucket owes
    assert.equal(state.tokens?.level, -50);
  });

  test('a 429 halves the budget and blocks everyone until its Retry-After; successes grow it back', () => {
    let state: KeyState = throttled(initialState(LIMITS, 0), LIMITS, 300, 0);
    assert.equal(state.factor, 0.5);
    assert.deepEqual(take(state, ONE, LIMITS, 100)[1], { ok: false, reason: 'retry-after', waitMs: 200 });
    assert.equal(take(state, ONE, LIMITS, 300)[1].ok, true);
    // At factor 0.5 the refill is 5 a second: one request per 200 ms, and the burst is 1.
    state = throttled(state, LIMITS, undefined, 300);
    assert.equal(state.factor, 0.25);
    for (let i = 0; i < 20; i++) state = succeeded(state, LIMITS);
    assert.equal(state.factor, 1);
  });

  test('AIMD never goes below its floor', () => {
    let state = initialState(LIMITS, 0);
    for (let i = 0; i < 50; i++) state = throttled(state, LIMITS, undefined, 0);
    assert.equal(state.factor, DEFAULT_AIMD.floor);
  });

  test('a worker retry is charged without asking: the next session waits for the debt', () => {
    let state = charge(initialState(LIMITS, 0), { requests: 3, tokens: 0 }, LIMITS, 0);
    assert.equal(state.requests?.level, -1);
    assert.deepEqual(take(state, ONE, LIMITS, 0)[1], { ok: false, reason: 'requests', waitMs: 200 });
    state = giveBack(state, { requests: 2, tokens: 0 }, LIMITS, 0);
    assert.equal(take(state, ONE, LIMITS, 0)[1].ok, true);
  });
});

describe('limits from options', () => {
  const cases = [
    // No window of the limit's length holds more than limit × (1 − headroom), burst included.
    { config: { requestsPerSecond: 20 }, requests: { burst: 1, perSecond: 18 } },
    { config: { requestsPerMinute: 200 }, requests: { burst: 9, perSecond: 181 / 60 } },
    { config: { requestsPerMinute: 1200, burst: 20, headroom: 0 }, requests: { burst: 20, perSecond: 1180 / 60 } },
    { config: 'kimi-tier1' as const, requests: { burst: 9, perSecond: 181 / 60 } },
  ];
  for (const c of cases) {
    test(`${JSON.stringify(c.config)} → burst ${c.requests.burst}, ${c.requests.perSecond.toFixed(2)}/s`, () => {
      const limits = resolveLimits(c.config);
      assert.equal(limits.requests?.burst, c.requests.burst);
      assert.ok(Math.abs((limits.requests?.perMs ?? 0) * 1000 - c.requests.perSecond) < 1e-9);
    });
  }

  test('presets carry Moonshot’s published tiers', () => {
    assert.deepEqual(LIMIT_PRESETS['kimi-tier0'], { concurrency: 1, requestsPerMinute: 3, tokensPerMinute: 500_000 });
    assert.equal(resolveLimits('kimi-tier5').concurrency, 1000);
  });

  test('a call is charged its input (3 characters a token) and its possible output', () => {
    const call = {
      model: 'm',
      messages: [{ role: 'user' as const, content: 'x'.repeat(300) }],
      continuation: false as const,
      stream: false,
      idleTimeoutMs: 1,
      maxResponseBytes: 1024,
    };
    assert.deepEqual(estimateCost(call, 1024), { requests: 1, tokens: 100 + 1024 });
    assert.deepEqual(estimateCost({ ...call, maxOutputTokens: 10 }, 1024), { requests: 1, tokens: 110 });
  });
});

describe('circuit breaker', () => {
  type Step = [at: number, what: 'ok' | 'fail' | 'pass' | 'probe-ok' | 'probe-fail'];
  const settings = { ...DEFAULT_BREAKER, failures: 3, errorRate: 0.5, minRequests: 6, windowMs: 1000, cooldownMs: 500 };
  function drive(steps: Step[]) {
    const changes: string[] = [];
    const breaker = new CircuitBreaker(settings, (c: CircuitChange) => changes.push(`${c.at} ${c.from}→${c.to}`));
    const passes: string[] = [];
    for (const [at, what] of steps) {
      if (what === 'ok') breaker.success(at);
      else if (what === 'fail') breaker.failure(at);
      else if (what === 'probe-ok') breaker.success(at, true);
      else if (what === 'probe-fail') breaker.failure(at, true);
      else {
        const pass = breaker.pass(at);
        passes.push(pass.ok ? (pass.probe ? 'probe' : 'ok') : 'refused');
      }
    }
    return { changes, passes, state: breaker.state };
  }
  const cases: Array<{ name: string; steps: Step[]; changes: string[]; passes: string[] }> = [
    {
      name: 'opens after 3 consecutive failures',
      steps: [
        [0, 'fail'],
        [1, 'fail'],
        [2, 'fail'],
        [3, 'pass'],
      ],
      changes: ['2 closed→open'],
      passes: ['refused'],
    },
    {
      name: 'a success in between resets the count',
      steps: [
        [0, 'fail'],
        [1, 'fail'],
        [2, 'ok'],
        [3, 'fail'],
        [4, 'pass'],
      ],
      changes: [],
      passes: ['ok'],
    },
    {
      name: 'opens on the error rate over the window',
      steps: [
        [0, 'ok'],
        [10, 'fail'],
        [20, 'ok'],
        [30, 'fail'],
        [40, 'ok'],
        [50, 'fail'],
      ],
      changes: ['50 closed→open'],
      passes: [],
    },
    {
      name: 'old calls leave the window',
      steps: [
        [0, 'fail'],
        [10, 'fail'],
        [20, 'ok'],
        [1500, 'ok'],
        [1510, 'fail'],
        [1520, 'ok'],
        [1530, 'fail'],
        [1540, 'ok'],
        [1550, 'ok'],
      ],
      changes: [],
      passes: [],
    },
    {
      name: 'after the cool-down one probe goes; its success closes the circuit',
      steps: [
        [0, 'fail'],
        [0, 'fail'],
        [0, 'fail'],
        [499, 'pass'],
        [500, 'pass'],
        [501, 'pass'],
        [600, 'probe-ok'],
        [601, 'pass'],
      ],
      changes: ['0 closed→open', '500 open→halfOpen', '600 halfOpen→closed'],
      passes: ['refused', 'probe', 'refused', 'ok'],
    },
    {
      name: 'a failed probe opens it again for another cool-down',
      steps: [
        [0, 'fail'],
        [0, 'fail'],
        [0, 'fail'],
        [500, 'pass'],
        [550, 'probe-fail'],
        [1000, 'pass'],
        [1050, 'pass'],
      ],
      changes: ['0 closed→open', '500 open→halfOpen', '550 halfOpen→open', '1050 open→halfOpen'],
      passes: ['probe', 'refused', 'probe'],
    },
    {
      name: 'late failures of calls sent before it opened do not count in half-open',
      steps: [
        [0, 'fail'],
        [0, 'fail'],
        [0, 'fail'],
        [500, 'pass'],
        [510, 'fail'],
        [520, 'probe-ok'],
      ],
      changes: ['0 closed→open', '500 open→halfOpen', '520 halfOpen→closed'],
      passes: ['probe'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const result = drive(c.steps);
      assert.deepEqual(result.changes, c.changes);
      assert.deepEqual(result.passes, c.passes);
    });
  }

  test('a probe that ends without a verdict lets another probe go', () => {
    const breaker = new CircuitBreaker(settings);
    for (let i = 0; i < 3; i++) breaker.failure(0);
    assert.equal(breaker.pass(500).probe, true);
    assert.equal(breaker.wouldPass(500), false);
    breaker.released(true);
    assert.equal(breaker.pass(501).probe, true);
  });
});

describe('key queue', () => {
  const limits: KeyLimits = { requests: { burst: 1, perMs: 0.01 }, concurrency: 2, aimd: DEFAULT_AIMD };
  const flush = () => new Promise((resolve) => setImmediate(resolve));

  function setup() {
    const clock = new ManualClock();
    const store = new MemoryLimiterStore(clock);
    const queue = new KeyQueue('kimi:abc', limits, store, clock, () => {});
    const granted: string[] = [];
    const late: string[] = [];
    const add = (id: string, deadlineAt = Infinity, canLeave = false) =>
      queue.enqueue({
        sessionId: id,
        cost: ONE,
        deadlineAt,
        grant: () => granted.push(`${id}@${clock.now()}`),
        ...(canLeave ? { tooLate: () => late.push(id) } : {}),
      });
    return { clock, store, queue, granted, late, add };
  }

  test('grants in arrival order, one per refill, with one timer and no polling', async () => {
    const { clock, queue, granted, add } = setup();
    for (const id of ['a', 'b', 'c']) add(id);
    await flush();
    assert.deepEqual(granted, ['a@0']);
    assert.equal(clock.pending, 1);
    clock.advance(100);
    await flush();
    assert.deepEqual(granted, ['a@0', 'b@100']);
    // Concurrency 2 is now used up: c waits for a call to finish, whatever the clock says.
    clock.advance(100);
    await flush();
    assert.deepEqual(granted, ['a@0', 'b@100']);
    await queue.change((state, now) => [finish(state, limits, 100, 100, now), undefined]);
    queue.wake();
    await flush();
    assert.deepEqual(granted, ['a@0', 'b@100', 'c@200']);
    assert.equal(queue.waiting, 0);
  });

  test('a session that cannot get budget before its deadline leaves when it has somewhere to go', async () => {
    const { clock, granted, late, add } = setup();
    add('a');
    add('b', 50, true);
    add('c', 50);
    await flush();
    assert.deepEqual(granted, ['a@0']);
    assert.deepEqual(late, ['b']);
    clock.advance(100);
    await flush();
    assert.deepEqual(granted, ['a@0', 'c@100']);
  });

  test('a removed waiter is never granted, and the queue stops its timer when empty', async () => {
    const { clock, queue, granted, add } = setup();
    add('a');
    add('b');
    await flush();
    assert.equal(queue.remove('b'), true);
    assert.equal(clock.pending, 0);
    clock.advance(1000);
    await flush();
    assert.deepEqual(granted, ['a@0']);
  });
});
