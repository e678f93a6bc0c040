// Hostile inputs against the probation (issue 25's slow start): providers that fail slowly, hang,
// answer once and then slowly, stream many words; shared store states that a crashed host or anyone
// with Redis access left behind. Each test states the promise it holds the code to.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSupervisor, ManualClock, startMockProvider, type Supervisor, type SupervisorOptions } from '../../src/index.ts';
import type { MockProvider, MockProviderOptions } from '../../src/apps/mock/server.ts';
import type { KeyState, LearnedLimits, LimiterStore } from '../../src/types/options.ts';
import { sane, take, type KeyLimits } from '../../src/routing/budget.ts';
import { ADAPTIVE, learnedConcurrency } from '../../src/routing/adaptive.ts';
import { DEFAULT_AIMD } from '../../src/routing/limits.ts';
import { KEYS, user } from '../support/helpers.ts';

async function setup(options: { supervisor?: SupervisorOptions; mock?: MockProviderOptions } = {}) {
  const mock = await startMockProvider(options.mock);
  const supervisor = createSupervisor({
    threads: 1,
    logger: false,
    retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 5 },
    ...options.supervisor,
    providers: {
      kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEYS.kimi },
      glm: { baseURL: mock.baseURL('glm'), apiKey: KEYS.glm },
    },
  });
  return {
    mock,
    supervisor,
    async close() {
      await supervisor.close({ timeoutMs: 1000 });
      await mock.close();
    },
  };
}

const kimiRequests = (mock: MockProvider) => mock.requests.filter((r) => r.dialect === 'kimi').length;
const keyOf = (supervisor: Supervisor) => Object.values(supervisor.stats().routing?.keys ?? {})[0];

/** Starts `n` sessions whose outcome the test does not wait for (close() ends them). */
function fire(supervisor: Supervisor, n: number, text: (i: number) => string, timeoutMs = 3_600_000): Promise<unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    const p = supervisor.chat({ provider: 'kimi', messages: user(text(i)), timeoutMs });
    p.catch(() => {});
    return p;
  });
}

/** Moves the manual clock by `ms` in steps of `stepMs`, a macrotask between steps (store steps are asynchronous). */
async function step(clock: ManualClock, ms: number, stepMs = 50): Promise<void> {
  for (let moved = 0; moved < ms; moved += stepMs) {
    clock.advance(Math.min(stepMs, ms - moved));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Lets real time pass (the mock's and the workers' own timers), bounded. */
const settleFor = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `check()` holds (a macrotask later at least); fails after `withinMs`. */
async function until(check: () => boolean, message: string | (() => string), withinMs = 5000): Promise<void> {
  const giveUp = performance.now() + withinMs;
  do {
    if (performance.now() > giveUp) assert.fail(`timed out: ${typeof message === 'string' ? message : message()}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  } while (!check());
}

describe("a provider that is down costs the probation's few calls", () => {
  // A known limit (docs/routing.md): until a call fails, a provider that fails slowly cannot be told
  // from one that is slow to answer, whose sessions the slow start lets go after ~1.5 s.
  test('its first calls fail slowly (the 503 takes 2 s): 100 sessions still cost at most ~10 calls', {
    todo: 'a failure that takes longer than the slow start is not seen in time',
  }, async () => {
    const clock = new ManualClock();
    // Every kimi call answers 503, 3 s (real time) after it arrives.
    const r = await setup({ supervisor: { clock }, mock: { behave: (q) => (q.dialect === 'kimi' ? { status: 503, latencyMs: 3000 } : undefined) } });
    try {
      await r.supervisor.ready();
      fire(r.supervisor, 100, (i) => `q${i}`);
      await until(() => kimiRequests(r.mock) === 3, 'the probation sends its 3 calls');
      // The 3 calls are still out (their 503 comes in 3 s): 2 s pass on the router's clock.
      await step(clock, 2000);
      await settleFor(300);
      const sent = kimiRequests(r.mock);
      assert.ok(sent <= 10, `${sent} calls to a provider whose first calls have not failed yet: time alone lifted the probation (128 after 1.5 s)`);
    } finally {
      await r.close();
    }
  });

  test('a provider that hangs (calls end as session timeouts, not health failures): the next 100 sessions still cost a few calls', async () => {
    const clock = new ManualClock();
    const r = await setup({ supervisor: { clock }, mock: { behave: (q) => (q.dialect === 'kimi' ? { hang: true } : undefined) } });
    try {
      await r.supervisor.ready();
      const first = fire(r.supervisor, 3, (i) => `first${i}`, 10_000);
      await until(() => kimiRequests(r.mock) === 3, 'three calls out');
      await step(clock, 10_000, 500);
      const codes = await Promise.all(
        first.map((p) =>
          p.then(
            () => 'ok',
            (e: { code: string }) => e.code,
          ),
        ),
      );
      assert.deepEqual([...new Set(codes)], ['ERR_SESSION_TIMEOUT']);
      // The sessions end at their deadline; their calls' ends reach the key once the worker confirms them.
      await until(() => keyOf(r.supervisor)?.inFlight === 0, 'the timed-out calls are confirmed ended');
      fire(r.supervisor, 100, (i) => `q${i}`);
      await settleFor(300);
      const sent = kimiRequests(r.mock) - 3;
      assert.ok(sent <= 10, `${sent} calls sent to a provider whose every call so far hung to its deadline (key: ${JSON.stringify(keyOf(r.supervisor))})`);
    } finally {
      await r.close();
    }
  });
});

describe('a provider that is up is not held at 3 for good', () => {
  test("one quick answer, then long calls: the others are not held to ~3 calls for the long calls' whole length", async () => {
    const clock = new ManualClock();
    const r = await setup({ supervisor: { clock }, mock: { behave: (q) => (q.dialect === 'kimi' && q.seq > 1 ? { hang: true } : undefined) } });
    try {
      await r.supervisor.ready();
      await r.supervisor.chat({ provider: 'kimi', messages: user('quick') });
      fire(r.supervisor, 40, (i) => `long${i}`);
      await until(() => kimiRequests(r.mock) >= 4, 'the long calls start');
      // "A provider slow to answer holds the other sessions back about a second, once": 5 s pass.
      await step(clock, 5000);
      await settleFor(200);
      const out = kimiRequests(r.mock) - 1;
      assert.ok(out > 10, `${out} long calls in flight after 5 s (40 waiting): the first answer stopped time from raising the cap`);
    } finally {
      await r.close();
    }
  });

  test('one early 503, then long calls that answer: the cap is held at 3 for failureHoldMs, not until one of them ends', async () => {
    const clock = new ManualClock();
    let kimi = 0;
    const r = await setup({
      supervisor: { clock },
      mock: { behave: (q) => (q.dialect !== 'kimi' ? undefined : ++kimi === 1 ? { status: 503 } : { hang: true }) },
    });
    try {
      await r.supervisor.ready();
      fire(r.supervisor, 40, (i) => `long${i}`);
      await until(() => r.supervisor.stats().retried >= 1, 'the first call failed');
      await until(() => r.mock.inFlight >= 3, 'three long calls out');
      await step(clock, ADAPTIVE.failureHoldMs + 1000);
      await settleFor(200);
      assert.ok(
        r.mock.inFlight > 10,
        `${r.mock.inFlight} calls in flight 1 s after the hold, 40 sessions waiting: one transient 503 froze the cap at 3 past its hold`,
      );
    } finally {
      await r.close();
    }
  });

  test('one early 503, then only 400s (the provider answers): the key is not held at 3 in flight for good', async () => {
    const clock = new ManualClock();
    let kimi = 0;
    const r = await setup({
      supervisor: { clock },
      mock: { behave: (q) => (q.dialect !== 'kimi' ? undefined : ++kimi === 1 ? { status: 503 } : { status: 400, latencyMs: 150 }) },
    });
    try {
      await r.supervisor.ready();
      const sessions = fire(r.supervisor, 30, (i) => `bad${i}`);
      await until(() => r.supervisor.stats().retried >= 1, 'the first call failed');
      await step(clock, 5000);
      await Promise.allSettled(sessions);
      assert.ok(r.mock.maxInFlight > 3, `at most ${r.mock.maxInFlight} in flight: the provider answered 30 calls (400), the key still held`);
    } finally {
      await r.close();
    }
  });
});

describe('each answer adds half a call', () => {
  test('one stream of 600 words is one answer (or two), not 600: the probation does not end on it', async () => {
    const clock = new ManualClock();
    const words = Array.from({ length: 600 }, (_, i) => `w${i}`).join(' ');
    // 600 chunks 3 ms apart (real time), so that the worker sends them as separate delta events.
    const r = await setup({ supervisor: { clock }, mock: { defaults: { content: words, chunks: 600, chunkDelayMs: 3 } } });
    try {
      await r.supervisor.ready();
      let deltas = 0;
      for await (const event of r.supervisor.stream({ provider: 'kimi', messages: user('one stream') })) if (event.type === 'delta') deltas++;
      assert.ok(deltas > 300, `${deltas} deltas: the stream must arrive in many events for this test to mean anything`);
      await settleFor(50);
      // No time passed on the router's clock: the cap is 3 + 0.5 per answer, and one call answered.
      assert.equal(keyOf(r.supervisor)?.learned?.probation, true, `one stream of ${deltas} deltas ended the probation: #alive counts every delta as an answer`);
    } finally {
      await r.close();
    }
  });
});

describe("a shared store's state", () => {
  const sharedStore = (clock: ManualClock, initial: KeyState): LimiterStore & { states: Map<string, KeyState> } => {
    const states = new Map<string, KeyState>();
    return {
      states,
      update(key, change) {
        // Only kimi's key was forged; glm's starts afresh.
        const [next, result] = change(states.has(key) ? states.get(key) : key.includes('kimi') ? structuredClone(initial) : undefined, clock.now());
        states.set(key, next);
        return Promise.resolve(result);
      },
    };
  };

  test('a host that crashed with its 3 failing calls out (inFlight 3, failedAt) does not block the key on every host for good', async () => {
    const clock = new ManualClock();
    // What Redis holds after host A's first 3 calls failed once, were retried, and host A was killed.
    const left: KeyState = { inFlight: 3, factor: 1, blockedUntil: 0, learned: { probation: true, failedAt: 0, refusals: 0, cutAt: 0, grownAt: 0 } };
    const r = await setup({ supervisor: { clock, routing: { store: sharedStore(clock, left) } } });
    try {
      await r.supervisor.ready();
      const session = r.supervisor.chat({ provider: 'kimi', messages: user('x'), timeoutMs: 3_600_000 });
      session.catch(() => {});
      await until(() => keyOf(r.supervisor)?.waiting === 1, 'the session waits for the key');
      // Ten minutes pass: the provider is up, nothing of this host's is out.
      await step(clock, 600_000, 10_000);
      await settleFor(100);
      assert.ok(kimiRequests(r.mock) >= 1, `nothing sent in 10 min; key ${JSON.stringify(keyOf(r.supervisor))}`);
    } finally {
      await r.close();
    }
  });

  test('a forged in-flight count of 1e300 on probation: the session waits for the cap that lifts at 128 (1.5 s), not ~250 s, and stays on its key', async () => {
    const clock = new ManualClock();
    const now = clock.now();
    const forged: KeyState = { inFlight: 1e300, factor: 1, blockedUntil: 0, learned: { probation: true, refusals: 0, cutAt: now, grownAt: now } };
    const r = await setup({ supervisor: { clock, routing: { store: sharedStore(clock, forged) } } });
    try {
      await r.supervisor.ready();
      const answer = r.supervisor.chat({ provider: 'kimi', messages: user('x'), timeoutMs: 30_000, fallbacks: [{ provider: 'glm' }] });
      answer.catch(() => {});
      await settleFor(100);
      await step(clock, 5000);
      // Probation ends at a cap of 128 (1.5 s after cutAt): the session may go to kimi; it need not leave.
      const done = await Promise.race([answer.then((a) => a.provider), settleFor(2000).then(() => 'pending')]);
      assert.equal(done, 'kimi', `the session went ${done}`);
    } finally {
      await r.close();
    }
  });

  test('forged probation fields (NaN, strings, negatives, 1e308, Infinity) never throw and give a finite cap or none', () => {
    const limits: KeyLimits = { adaptive: true, aimd: DEFAULT_AIMD };
    const now = 1_000_000;
    const bad: unknown[] = [Number.NaN, '7', -5, 1e308, Infinity, -Infinity, null, {}, true];
    for (const answers of bad)
      for (const failedAt of [Number.NaN, 'true', 1e300, -1e300, now, undefined])
        for (const grownAt of [Number.NaN, 1e300, -1e300, now]) {
          const learned = { probation: true, answers, failedAt, refusals: 0, cutAt: now, grownAt } as unknown as LearnedLimits;
          const state = sane({ inFlight: 5, factor: 1, blockedUntil: 0, learned }, limits, now) as KeyState;
          const cap = learnedConcurrency(state.learned, now);
          assert.ok(cap === undefined || (Number.isInteger(cap) && cap >= 3), `cap ${cap} for ${JSON.stringify({ answers, failedAt, grownAt })}`);
          const [, result] = take(state, { requests: 1, tokens: 0 }, limits, now);
          if (!result.ok) assert.ok(result.waitMs === undefined || (Number.isFinite(result.waitMs) && result.waitMs > 0), `wait ${result.waitMs}`);
        }
  });
});

describe('stats() tell what waits', () => {
  test('a key held by its probation reports the calls in flight it allows now (learned.concurrency), not "not limited"', async () => {
    const clock = new ManualClock();
    const r = await setup({ supervisor: { clock }, mock: { behave: (q) => (q.dialect === 'kimi' ? { hang: true } : undefined) } });
    try {
      await r.supervisor.ready();
      fire(r.supervisor, 10, (i) => `q${i}`);
      await until(() => keyOf(r.supervisor)?.waiting === 7, 'seven wait behind the probation');
      const key = keyOf(r.supervisor);
      assert.equal(key?.learned?.concurrency, 3, `stats say ${JSON.stringify(key?.learned)} while 7 sessions wait for a cap of 3`);
    } finally {
      await r.close();
    }
  });
});
