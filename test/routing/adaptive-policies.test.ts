// The limits a key learns with no configuration (src/routing/adaptive.ts), by table, on manual
// times: the first estimate, the first wave, cuts, growth, concurrency caps, probation, and how
// the key's budget applies them; plus what the router reads off a 429 and counts per key.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ADAPTIVE,
  answered,
  coldLearned,
  failedOnProbation,
  grown,
  learnedConcurrency,
  learnedNothing,
  probationWaitMs,
  refusalKind,
  refused,
  type RefusalContext,
} from '../../src/routing/adaptive.ts';
import { finish, initialState, sane, succeeded, take, throttled, type KeyLimits } from '../../src/routing/budget.ts';
import { KeyTrack } from '../../src/routing/key-track.ts';
import { DEFAULT_AIMD, resolveLimits } from '../../src/routing/limits.ts';
import { retryAfterOf } from '../../src/routing/router.ts';
import type { KeyState, LearnedLimits } from '../../src/types/options.ts';

const ADAPTIVE_ONLY: KeyLimits = { aimd: DEFAULT_AIMD, adaptive: true };
const ONE = { requests: 1, tokens: 10 };
const rate = (seen: Partial<RefusalContext>): RefusalContext => ({
  kind: 'rate',
  admittedPerS: 0,
  inFlight: 1,
  retryAfterMs: undefined,
  blocked: false,
  ...seen,
});
const learnedAt = (fields: Partial<LearnedLimits>): LearnedLimits => ({ refusals: 1, cutAt: 0, grownAt: 0, ...fields });

describe('what a refusal says', () => {
  const cases: Array<[string, { providerCode?: string; message: string }, 'rate' | 'concurrency']> = [
    ['GLM 1302 is concurrency', { providerCode: '1302', message: 'High concurrency usage of this API' }, 'concurrency'],
    ['GLM 1303 is a rate', { providerCode: '1303', message: 'High frequency usage of this API' }, 'rate'],
    ['Kimi RPM is a rate', { message: 'request reached organization max RPM: 3, please try again after 1 seconds' }, 'rate'],
    ['Kimi concurrency', { message: 'request reached organization max concurrency: 10, please try again after 1 seconds' }, 'concurrency'],
    ['anything else is a rate', { message: 'Too Many Requests' }, 'rate'],
  ];
  for (const [name, error, kind] of cases) test(name, () => assert.equal(refusalKind(error), kind));

  const waits: Array<[string, { headers?: Record<string, string>; message: string }, number | undefined]> = [
    ['retry-after-ms wins', { headers: { 'retry-after-ms': '250', 'retry-after': '3' }, message: 'try again after 9 seconds' }, 250],
    ['retry-after in seconds', { headers: { 'retry-after': '2' }, message: '' }, 2000],
    ["Kimi's text", { message: 'please try again after 1 seconds' }, 1000],
    ['nothing said', { message: 'slow down' }, undefined],
  ];
  for (const [name, error, ms] of waits) test(`Retry-After: ${name}`, () => assert.equal(retryAfterOf(error), ms));
});

describe('learned rate', () => {
  const cases: Array<{ name: string; from: LearnedLimits; seen: RefusalContext; at: number; expect: Partial<LearnedLimits> }> = [
    {
      name: 'the first refusal sets the rate to what was admitted in the last second (×0.95)',
      from: coldLearned(0),
      seen: rate({ admittedPerS: 20 }),
      at: 100,
      expect: { requestsPerSecond: 19, firstEpisode: true, cutAt: 100, refusals: 1, probation: false },
    },
    {
      name: 'with nothing admitted yet, it starts at 1/s',
      from: coldLearned(0),
      seen: rate({ retryAfterMs: 5 }),
      at: 100,
      expect: { requestsPerSecond: 1, lastRetryAfterMs: 5 },
    },
    {
      name: 'the first wave’s later refusals raise it while the key is blocked',
      from: learnedAt({ requestsPerSecond: 5, firstEpisode: true, cutAt: 100 }),
      seen: rate({ admittedPerS: 20, blocked: true }),
      at: 150,
      expect: { requestsPerSecond: 19, cutAt: 100, refusals: 2 },
    },
    {
      name: 'within an episode, below what is admitted: no second cut',
      from: learnedAt({ requestsPerSecond: 20, cutAt: 0 }),
      seen: rate({ admittedPerS: 30 }),
      at: 999,
      expect: { requestsPerSecond: 20, cutAt: 0 },
    },
    {
      name: 'within an episode, more refusals at what is admitted (a capacity that shrank): down to its share, the episode kept',
      from: learnedAt({ requestsPerSecond: 20, cutAt: 0 }),
      seen: rate({ admittedPerS: 14 }),
      at: 500,
      expect: { requestsPerSecond: 14 * ADAPTIVE.admittedShare, cutAt: 0 },
    },
    {
      name: 'after an episode, near what is admitted: × decrease',
      from: learnedAt({ requestsPerSecond: 20, cutAt: 0 }),
      seen: rate({ admittedPerS: 20 }),
      at: 5000,
      expect: { requestsPerSecond: 20 * ADAPTIVE.decrease, cutAt: 5000 },
    },
    {
      name: 'far above what is admitted (a capacity that shrank): down to it, at most by half',
      from: learnedAt({ requestsPerSecond: 20, cutAt: 0 }),
      seen: rate({ admittedPerS: 12 }),
      at: 5000,
      expect: { requestsPerSecond: 12 },
    },
    {
      name: 'never below half in one cut',
      from: learnedAt({ requestsPerSecond: 20, cutAt: 0 }),
      seen: rate({ admittedPerS: 2 }),
      at: 5000,
      expect: { requestsPerSecond: 10 },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const next = refused(c.from, c.seen, c.at);
      for (const [field, value] of Object.entries(c.expect)) assert.equal(next[field as keyof LearnedLimits], value, field);
    });
  }

  test('growth is slow just after a cut and faster the longer nothing is refused', () => {
    let learned = learnedAt({ requestsPerSecond: 10, cutAt: 0 });
    const seen: number[] = [];
    // One success every 100 ms for 12 s: the rate after 1, 3, 6, 9 and 12 s.
    for (let at = 100; at <= 12_000; at += 100) {
      learned = grown(learned, at);
      if ([1000, 3000, 6000, 9000, 12_000].includes(at)) seen.push(Number((learned.requestsPerSecond ?? 0).toFixed(2)));
    }
    // About 10 × e^(growth·t²/2), within 1 %: +0.5 % after 1 s, +5 % after 3 s, doubled after about 12 s.
    const closed = [1, 3, 6, 9, 12].map((t) => 10 * Math.exp((ADAPTIVE.growth * t * t) / 2));
    seen.forEach((value, i) => assert.ok(Math.abs(value / (closed[i] as number) - 1) < 0.01, `${value} vs ${closed[i]}`));
    assert.ok((seen[0] as number) < 10.1 && (seen[4] as number) > 20, 'slow at first, doubled by 12 s');
  });

  test('a success while blocked after the first refusal raises the first rate to what was admitted', () => {
    const learned = learnedAt({ requestsPerSecond: 3, firstEpisode: true, cutAt: 0 });
    assert.equal(grown(learned, 50, 20, true).requestsPerSecond, 19);
    assert.equal(grown(learned, 50, 20, false).requestsPerSecond, 3 * (1 + ADAPTIVE.growth * 0.05 * 0.05));
  });
});

describe('learned concurrency and probation', () => {
  const cases: Array<{ name: string; from: LearnedLimits; inFlight: number; expect: number }> = [
    { name: 'the first refusal: one fewer than was in flight', from: coldLearned(0), inFlight: 64, expect: 63 },
    { name: 'every refusal after: one fewer again', from: learnedAt({ concurrency: 30 }), inFlight: 64, expect: 29 },
    { name: 'or fewer than in flight, when fewer are', from: learnedAt({ concurrency: 30 }), inFlight: 11, expect: 10 },
    { name: 'never below 1', from: learnedAt({ concurrency: 1 }), inFlight: 1, expect: 1 },
  ];
  for (const c of cases) {
    test(c.name, () =>
      assert.equal(
        refused(c.from, { kind: 'concurrency', admittedPerS: 0, inFlight: c.inFlight, retryAfterMs: 1000, blocked: false }, 0).concurrency,
        c.expect,
      ),
    );
  }

  // The probation is a slow start: its cap on calls in flight, step by step on a manual clock.
  type Step = ['answer' | 'fail', number] | ['cap', number, number | undefined];
  const slowStarts: Array<{ name: string; steps: Step[] }> = [
    {
      name: 'no answer yet: 3 calls, twice as many every probationMs (a provider slow to answer is held back ~1.5 s, once)',
      steps: [
        ['cap', 0, 3],
        ['cap', 249, 3],
        ['cap', 250, 6],
        ['cap', 500, 12],
        ['cap', 1000, 48],
        ['cap', 1250, 96],
        ['cap', 1500, undefined],
      ],
    },
    {
      // Half again as many each round trip, at the provider's pace (a 500 ms call does not see 12 go at 500 ms).
      name: 'answers: half a call more each (an answer frees its slot and adds half of one)',
      steps: [
        ['cap', 100, 3],
        ['answer', 100],
        ['cap', 100, 3],
        ['answer', 110],
        ['cap', 110, 4],
        ['answer', 120],
        ['cap', 120, 4],
        ['answer', 130],
        ['cap', 130, 5],
      ],
    },
    {
      name: 'no answer for quietMs after the last: twice as many again (one quick answer, then long calls)',
      steps: [
        ['answer', 130],
        ['answer', 130],
        ['answer', 130],
        ['answer', 130],
        ['cap', 1129, 5],
        ['cap', 1130, 10],
        ['cap', 2130, 20],
        ['cap', 8000, undefined],
      ],
    },
    {
      name: 'an answer after 600 ms starts from the 12 time had given',
      steps: [
        ['cap', 600, 12],
        ['answer', 600],
        ['cap', 600, 12],
        ['answer', 600],
        ['cap', 600, 13],
        ['cap', 1599, 13],
        ['cap', 1600, 26],
      ],
    },
    {
      name: 'its first calls fail and none was answered: 3 until failureHoldMs after the last failure (a provider that is down costs a few calls)',
      steps: [
        ['fail', 20],
        ['cap', 20, 3],
        ['cap', 5019, 3],
        ['cap', 5270, 6],
        ['fail', 5270],
        ['cap', 5270, 3],
        ['answer', 6000],
        ['answer', 6000],
        ['cap', 6000, 4],
      ],
    },
    {
      name: 'a failure after an answer changes nothing (one bad call among good ones)',
      steps: [
        ['answer', 20],
        ['answer', 20],
        ['fail', 30],
        ['cap', 30, 4],
        ['answer', 40],
        ['cap', 40, 4],
        ['answer', 40],
        ['cap', 40, 5],
      ],
    },
  ];
  for (const c of slowStarts) {
    test(`probation: ${c.name}`, () => {
      let learned = coldLearned(0);
      for (const step of c.steps) {
        if (step[0] === 'answer') learned = answered(learned, step[1]);
        else if (step[0] === 'fail') learned = failedOnProbation(learned, step[1]);
        else assert.equal(learnedConcurrency(learned, step[1]), step[2], `cap at ${step[1]} ms after ${JSON.stringify(learned)}`);
      }
    });
  }

  test('probation ends once its cap reaches probationEnd: nothing is limited, no store step', () => {
    let learned = coldLearned(0);
    for (let i = 0; learned.probation === true; i++) {
      assert.ok(i <= (ADAPTIVE.probationEnd - ADAPTIVE.probation) / ADAPTIVE.probationStep, 'probation ends after that many answers');
      assert.equal(learnedNothing(learned), false);
      learned = grown(learned, 10);
    }
    assert.equal(learnedConcurrency(learned, 10), undefined);
    assert.equal(learnedNothing(learned), true);
    assert.equal(learned.answers, undefined);
  });

  test('a refusal ends the probation: the refusal sets the limit from then on', () => {
    const learned = refused(answered(coldLearned(0), 20), rate({ admittedPerS: 20 }), 30);
    assert.equal(learned.probation, false);
    assert.equal(learned.answers, undefined);
    assert.equal(learnedConcurrency(learned, 30), undefined);
    assert.equal(learned.requestsPerSecond, 19);
  });

  test("how long a call waits at the probation cap: until time doubles it (after a failure's hold), never past the probation's end", () => {
    assert.equal(probationWaitMs(coldLearned(0), 3, 100), 150, 'a fourth at 250 ms');
    assert.equal(probationWaitMs(coldLearned(0), 6, 300), 200, 'a seventh at 500 ms');
    assert.equal(probationWaitMs(coldLearned(0), 11, 300), 200, 'a twelfth at 500 ms');
    assert.equal(probationWaitMs(failedOnProbation(coldLearned(0), 50), 3, 100), 5200, 'failing: at the end of the hold, and one step');
    assert.equal(probationWaitMs(answered(coldLearned(0), 10), 3, 100), 910, 'answered: quietMs after the last answer');
    assert.equal(probationWaitMs(coldLearned(0), 1e300, 100), 1400, 'a forged count: the end of the probation at most');
  });
});

describe('a key that learns, in its budget', () => {
  function takeAll(state: KeyState, at: number, count: number): [KeyState, string[]] {
    const results: string[] = [];
    for (let i = 0; i < count; i++) {
      const [next, result] = take(state, ONE, ADAPTIVE_ONLY, at);
      state = next;
      results.push(result.ok ? 'ok' : `${result.reason} ${result.waitMs ?? '-'}`);
    }
    return [state, results];
  }

  test('cold: three calls go, the fourth waits for an answer (or for time to double the cap); two answers let three go', () => {
    let [state, results] = takeAll(initialState(ADAPTIVE_ONLY, 0), 0, 4);
    assert.deepEqual(results, ['ok', 'ok', 'ok', 'concurrency 250']);
    // No answer yet, but time doubled the cap: three more go.
    assert.deepEqual(takeAll(state, ADAPTIVE.probationMs, 4)[1], ['ok', 'ok', 'ok', 'concurrency 250']);
    [state] = takeAll(initialState(ADAPTIVE_ONLY, 0), 0, 3);
    state = succeeded(finish(state, ADAPTIVE_ONLY, 10, 10, 20), ADAPTIVE_ONLY, 20);
    state = succeeded(finish(state, ADAPTIVE_ONLY, 10, 10, 20), ADAPTIVE_ONLY, 20);
    [, results] = takeAll(state, 20, 4);
    assert.deepEqual(results, ['ok', 'ok', 'ok', 'concurrency 1000'], 'two answers: the two slots they freed, and one more');
  });

  test('a rate refusal blocks everyone for its Retry-After, then calls leave at the learned pace', () => {
    let state = succeeded(initialState(ADAPTIVE_ONLY, 0), ADAPTIVE_ONLY, 0);
    state = throttled(state, ADAPTIVE_ONLY, 300, 100, { kind: 'rate', admittedPerS: 10, inFlight: 1, retryAfterMs: 300 });
    assert.equal(state.learned?.requestsPerSecond, 9.5);
    assert.equal(state.factor, 1, 'a key with no configured limits has no AIMD factor to lower');
    let results: string[];
    [state, results] = takeAll(state, 200, 1);
    assert.deepEqual(results, ['retry-after 200']);
    [state, results] = takeAll(state, 400, 2);
    // One call's worth when the block ends, then one every 1000/9.5 ms.
    assert.deepEqual(results, ['ok', 'requests 106']);
  });

  test('configured limits start from what was learned: a host with a limit of 50/s reads a state that learned 10/s (a shared store) and paces at 10/s', () => {
    const configured = resolveLimits({ requestsPerSecond: 50 });
    let state = succeeded(initialState(ADAPTIVE_ONLY, 0), ADAPTIVE_ONLY, 0);
    state = throttled(state, ADAPTIVE_ONLY, 100, 100, { kind: 'rate', admittedPerS: 10.5, inFlight: 1, retryAfterMs: 100 });
    state = sane(state, configured, 200) as KeyState;
    assert.equal(state.learned?.requestsPerSecond, 9.975);
    const results: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [next, result] = take(state, ONE, configured, 200);
      state = next;
      results.push(result.ok ? 'ok' : `${result.reason} ${result.waitMs}`);
    }
    assert.deepEqual(results, ['ok', 'requests 101', 'requests 101'], 'one call, then one every 1000/9.975 ms: the learned rate, not 50/s');
  });

  test('a concurrency refusal does not block the key: the learned cap waits for a call to end', () => {
    let state = succeeded(initialState(ADAPTIVE_ONLY, 0), ADAPTIVE_ONLY, 0);
    [state] = takeAll(state, 0, 3);
    state = throttled(state, ADAPTIVE_ONLY, 1000, 10, { kind: 'concurrency', admittedPerS: 0, inFlight: 3, retryAfterMs: 1000 });
    assert.equal(state.blockedUntil, 0);
    assert.equal(state.learned?.concurrency, 2);
    assert.deepEqual(takeAll(state, 10, 1)[1], ['concurrency -']);
    state = finish(finish(state, ADAPTIVE_ONLY, 10, 10, 20), ADAPTIVE_ONLY, 10, 10, 20);
    assert.deepEqual(takeAll(state, 20, 2)[1], ['ok', 'concurrency -']);
  });
});

describe('what this host counts per key', () => {
  test('calls admitted in the last second, in 100 ms slices', () => {
    const track = new KeyTrack();
    for (const at of [0, 50, 120, 950]) track.admitted(at);
    const seen = [999, 1050, 1150, 1999, 5000].map((at) => track.admittedPerS(at));
    assert.deepEqual(seen, [4, 2, 1, 0, 0]);
  });
});
