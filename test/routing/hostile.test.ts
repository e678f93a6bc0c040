// Hostile inputs against routing on by default (issue 25): what a provider, a host's options or a
// shared store can send, and the promises that must hold anyway.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSupervisor, ManualClock, startMockProvider, systemClock, type SupervisorOptions } from '../../src/index.ts';
import type { MockProvider, MockProviderOptions } from '../../src/apps/mock/server.ts';
import type { KeyState, LimiterStore } from '../../src/types/options.ts';
import { sane, take, type KeyLimits } from '../../src/routing/budget.ts';
import { DEFAULT_AIMD } from '../../src/routing/limits.ts';
import { KEYS, rejection, user } from '../support/helpers.ts';

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

const requestsOf = (mock: MockProvider, dialect: string) => mock.requests.filter((r) => r.dialect === dialect).length;

describe('hostile provider answers', () => {
  test('the system clock never turns a huge or infinite wait (a Retry-After of 10^12 s) into a 1 ms timer', async () => {
    let fired = 0;
    const timers = [1e15, Infinity, 2 ** 31].map((ms) => systemClock.setTimer(() => fired++, ms));
    await new Promise((resolve) => setTimeout(resolve, 30));
    for (const t of timers) t.cancel();
    assert.equal(fired, 0, 'a wait past setTimeout range fired at once (Node clamps it to 1 ms): the key queue would spin');
  });

  test("a concurrency refusal (GLM 1302) on every call, none of this host's calls out: each re-run waits a backoff, not 20 at once", async () => {
    const r = await setup({
      supervisor: { retry: { maxRetries: 2, baseDelayMs: 200, maxDelayMs: 200 } },
      mock: { behave: (q) => (q.dialect === 'glm' ? { status: 429, error: '1302' } : undefined) },
    });
    try {
      const error = await rejection(r.supervisor.chat({ provider: 'glm', messages: user('x'), timeoutMs: 1000 }));
      assert.ok(['ERR_PROVIDER', 'ERR_SESSION_TIMEOUT'].includes(error.code), error.code);
      // A backoff of 100-200 ms between calls: at most 10 re-runs within the 1 s deadline (it made 21 in ~300 ms).
      const sent = requestsOf(r.mock, 'glm');
      assert.ok(sent <= 11, `${sent} calls refused for concurrency in 1 s`);
    } finally {
      await r.close();
    }
  });
});

describe('absurd Retry-After values', () => {
  for (const [name, retryAfter] of [
    ['10^12 seconds', '1000000000000'],
    ['an HTTP date a year ahead', new Date(Date.now() + 365 * 86_400_000).toUTCString()],
  ] as const) {
    test(`a Retry-After of ${name}: the refused session ends at once with its 429, the key is held back an hour at most`, async () => {
      const clock = new ManualClock();
      let calls = 0;
      const r = await setup({
        supervisor: { clock },
        mock: { behave: (q) => (q.dialect === 'kimi' && calls++ === 0 ? { status: 429, error: '429_rate_limit', retryAfter } : undefined) },
      });
      try {
        const error = await rejection(r.supervisor.chat({ provider: 'kimi', messages: user('x'), timeoutMs: 60_000 }));
        assert.equal(error.status, 429, `${error.code}: ${error.message}`);
        const key = Object.values(r.supervisor.stats().routing?.keys ?? {})[0];
        assert.ok(key !== undefined && key.blockedMs > 0 && key.blockedMs <= 3_600_000, `blocked for ${key?.blockedMs} ms`);
      } finally {
        await r.close();
      }
    });
  }
});

describe('nothing runs twice', () => {
  test('a stream refused with a 429 after its text reached the caller is not sent again', async () => {
    const r = await setup({
      mock: {
        behave: (q) => (q.dialect === 'kimi' ? { content: 'alpha beta gamma', chunkDelayMs: 20, streamError: '429_rate_limit', retryAfterMs: 10 } : undefined),
      },
    });
    try {
      let text = '';
      let code: string | undefined;
      try {
        for await (const event of r.supervisor.stream({ provider: 'kimi', messages: user('x'), timeoutMs: 10_000 })) {
          if (event.type === 'delta') text += event.text;
        }
      } catch (error) {
        code = (error as { code?: string }).code;
      }
      assert.equal(requestsOf(r.mock, 'kimi'), 1, `sent ${requestsOf(r.mock, 'kimi')} times; the caller read ${JSON.stringify(text)}`);
      assert.ok(text.length > 0, 'text reached the caller before the refusal');
      assert.ok(code !== undefined, 'the session fails with the 429');
    } finally {
      await r.close();
    }
  });
});

describe('sessions waiting for a blocked key', () => {
  test('a deadline shorter than the Retry-After, an abort, and close() each end their waiting session once, typed, at once', async () => {
    const clock = new ManualClock();
    const r = await setup({ supervisor: { clock } });
    try {
      const keyWaiting = () => Object.values(r.supervisor.stats().routing?.keys ?? {})[0]?.waiting ?? 0;
      const refused = rejection(
        r.supervisor.chat({ provider: 'kimi', messages: user('[[mock error=429_rate_limit retryAfterMs=30000 failTimes=1 key=b]]'), timeoutMs: 120_000 }),
      );
      await until(() => keyWaiting() === 1, 'the refused session waits for its key');
      const short = rejection(r.supervisor.chat({ provider: 'kimi', messages: user('short'), timeoutMs: 1000 }));
      const controller = new AbortController();
      const aborted = rejection(r.supervisor.chat({ provider: 'kimi', messages: user('aborted'), timeoutMs: 120_000, signal: controller.signal }));
      const closed = rejection(r.supervisor.chat({ provider: 'kimi', messages: user('closed'), timeoutMs: 120_000 }));
      await until(
        () => keyWaiting() === 4,
        () => `four wait for the key (${keyWaiting()})`,
      );
      clock.advance(1000);
      assert.equal((await short).code, 'ERR_SESSION_TIMEOUT');
      controller.abort();
      assert.equal((await aborted).code, 'ERR_SESSION_ABORTED');
      await until(
        () => keyWaiting() === 2,
        () => `the two ended left the queue (${keyWaiting()})`,
      );
      const report = await r.supervisor.close({ timeoutMs: 1000 });
      void report;
      assert.equal((await refused).code, 'ERR_SESSION_ABORTED');
      assert.equal((await closed).code, 'ERR_SESSION_ABORTED');
      assert.equal(requestsOf(r.mock, 'kimi'), 1, 'nothing was sent while the key was blocked');
      assert.equal(r.supervisor.stats().routing?.waiting, 0);
    } finally {
      await r.close();
    }
  });
});

describe('a hostile shared store', () => {
  // Another process wrote the key's state in Redis: a block for ever, a rate of 0, negative counts.
  const forged: KeyState = {
    inFlight: -1_000_000,
    factor: -3,
    blockedUntil: 1e300,
    learned: { requestsPerSecond: 0, concurrency: Number.NaN, refusals: -5, lastRetryAfterMs: -1, cutAt: 1e300, grownAt: -1e300 },
    paced: { level: -1e300, at: 1e300 },
  };
  const forgingStore = (clock: ManualClock): LimiterStore => {
    const states = new Map<string, KeyState>();
    return {
      update(key, change) {
        const [next, result] = change(states.has(key) ? states.get(key) : structuredClone(forged), clock.now());
        states.set(key, next);
        return Promise.resolve(result);
      },
    };
  };

  test('a forged key state cannot block a key for ever, stop it with a rate of 0, or lift its learned limits', async () => {
    const clock = new ManualClock();
    const r = await setup({ supervisor: { clock, routing: { store: forgingStore(clock) } } });
    try {
      const first = r.supervisor.chat({ provider: 'kimi', messages: user('first'), timeoutMs: 3 * 3_600_000 });
      await until(() => Object.values(r.supervisor.stats().routing?.keys ?? {})[0]?.waiting === 1, 'the session waits for the key');
      const key = Object.values(r.supervisor.stats().routing?.keys ?? {})[0];
      assert.ok(key !== undefined && key.blockedMs <= 3_600_000, `blocked for ${key?.blockedMs} ms`);
      assert.ok((key?.refusals ?? 0) >= 0 && (key?.inFlight ?? 0) >= 0, JSON.stringify(key));
      // An hour's block, then at most an hour's debt on the learned pace: never more.
      await step(clock, 2 * 3_600_000);
      await first;
      const second = r.supervisor.chat({ provider: 'kimi', messages: user('second'), timeoutMs: 60_000 });
      await until(() => requestsOf(r.mock, 'kimi') === 2 || r.supervisor.stats().routing?.waiting === 1, 'the second session goes or waits');
      await step(clock, 10_000);
      await second;
    } finally {
      await r.close();
    }
  });
});

describe('no refusal, no added waiting', () => {
  test('a provider streaming slowly that never refuses: its first text ends the probation, the first wave is not held to 3', async () => {
    const r = await setup({ mock: { defaults: { chunkDelayMs: 400, content: 'one two three four five six' } } });
    try {
      await r.supervisor.ready();
      const drain = async (i: number) => {
        for await (const event of r.supervisor.stream({ provider: 'kimi', messages: user(`q${i}`) })) void event;
      };
      const sessions = Array.from({ length: 10 }, (_, i) => drain(i));
      for (const s of sessions) s.catch(() => {});
      // Each stream lasts 2.4 s and sends its first word at once: unprotected, all ten go at once.
      await until(
        () => requestsOf(r.mock, 'kimi') === 10,
        () => `all ten sent while the first streams (sent: ${requestsOf(r.mock, 'kimi')})`,
        1500,
      );
      await Promise.all(sessions);
    } finally {
      await r.close();
    }
  });
});

describe('sane(): a state read from a store', () => {
  test('a configured limit whose bucket a forged state left out still limits (take() skips a missing bucket)', () => {
    const limits: KeyLimits = { requests: { burst: 2, perMs: 0.001 }, aimd: DEFAULT_AIMD };
    let state = sane({ inFlight: 0, factor: 1, blockedUntil: 0 }, limits, 0) as KeyState;
    const results: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      const [next, result] = take(state, { requests: 1, tokens: 0 }, limits, 0);
      state = next;
      results.push(result.ok);
    }
    assert.deepEqual(results, [true, true, false]);
  });
});

/** Moves the clock by `ms` a minute at a time, a macrotask between steps (the key queue's store steps are asynchronous). */
async function step(clock: ManualClock, ms: number): Promise<void> {
  for (let moved = 0; moved < ms; moved += 60_000) {
    clock.advance(Math.min(60_000, ms - moved));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Resolves once `check()` holds (a macrotask later at least); fails after `withinMs`. */
async function until(check: () => boolean, message: string | (() => string), withinMs = 5000): Promise<void> {
  const giveUp = performance.now() + withinMs;
  do {
    if (performance.now() > giveUp) assert.fail(`timed out: ${typeof message === 'string' ? message : message()}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  } while (!check());
}
