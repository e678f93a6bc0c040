// Routing with no configuration, end to end against the mock: a 429 holds back every session on
// its key, a provider that is down costs a few calls and fails fast, a half-open probe makes one
// call, a call refused with 400 gives its token estimate back, `routing: false` turns it all off.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSupervisor, ManualClock, startMockProvider, type Supervisor, type SupervisorOptions } from '../../src/index.ts';
import type { MockProvider, MockProviderOptions } from '../../src/apps/mock/server.ts';
import { KEYS, rejection, user } from '../support/helpers.ts';

type ProvidersOption = NonNullable<SupervisorOptions['providers']>;

async function setup(options: { kimi?: ProvidersOption[string]; supervisor?: SupervisorOptions; mock?: MockProviderOptions } = {}) {
  const mock = await startMockProvider(options.mock);
  const supervisor = createSupervisor({
    threads: 1,
    logger: false,
    retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 5 },
    ...options.supervisor,
    providers: {
      kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEYS.kimi, ...options.kimi },
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

/**
 * Resolves once `check()` holds, a macrotask later at least (so that the key queue's store steps,
 * a few microtasks each, are done before a test moves the manual clock); fails after 5 s.
 */
async function until(check: () => boolean, message: string): Promise<void> {
  const giveUp = performance.now() + 5000;
  do {
    if (performance.now() > giveUp) assert.fail(`timed out: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  } while (!check());
}

const kimiRequests = (mock: MockProvider) => mock.requests.filter((r) => r.dialect === 'kimi').length;
const keyOf = (supervisor: Supervisor) => Object.values(supervisor.stats().routing?.keys ?? {})[0];

describe('no configuration', () => {
  test('a 429 holds back every session on the key until its Retry-After, the refused one included; the key learns a rate', async () => {
    const clock = new ManualClock();
    const r = await setup({ supervisor: { clock } });
    try {
      const first = r.supervisor.chat({ provider: 'kimi', messages: user('[[mock error=429_rate_limit retryAfterMs=300 failTimes=1 key=zero]]') });
      await until(() => keyOf(r.supervisor)?.refusals === 1 && r.supervisor.stats().routing?.waiting === 1, 'the refused session waits for its key');
      const second = r.supervisor.chat({ provider: 'kimi', messages: user('second') });
      await until(() => r.supervisor.stats().routing?.waiting === 2, 'the second session waits too');
      const key = keyOf(r.supervisor);
      assert.equal(key?.blockedMs, 300);
      assert.equal(key?.lastRetryAfterMs, 300);
      assert.deepEqual(key?.learned, { probation: false, requestsPerSecond: 1 });
      assert.equal(kimiRequests(r.mock), 1, 'nothing more was sent');
      clock.advance(300);
      const answered = await first;
      assert.equal(answered.metadata.session.attempts, 2, 'the refused attempt and the one after the block');
      assert.equal(kimiRequests(r.mock), 2, 'the second session waits for the learned pace (1/s)');
      await until(() => r.supervisor.stats().routing?.waiting === 1, 'the second session is still waiting');
      clock.advance(1000);
      await second;
      assert.equal(kimiRequests(r.mock), 3);
      assert.equal(r.supervisor.stats().retried, 1, 'the refusal still counts as a retry');
      assert.match(r.supervisor.metrics(), /sessionpool_routing_key_refusals_total\{key="kimi:[0-9a-f]{12}",provider="kimi"\} 1/);
      assert.match(r.supervisor.metrics(), /sessionpool_routing_key_learned_requests_per_second\{key="kimi:[0-9a-f]{12}",provider="kimi"\} 1/);
    } finally {
      await r.close();
    }
  });

  test('a provider that is down: 100 sessions cost at most 10 calls and fail fast, typed; with a fallback they all complete', async () => {
    const down = { behave: (q: { dialect: string }) => (q.dialect === 'kimi' ? { status: 503 } : undefined) };
    const r = await setup({ mock: down });
    try {
      const settled = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => r.supervisor.chat({ provider: 'kimi', messages: user(`q${i}`) })));
      const codes = settled.map((s) => (s.status === 'rejected' ? (s.reason as { code: string }).code : 'ok'));
      assert.ok(kimiRequests(r.mock) <= 10, `${kimiRequests(r.mock)} calls`);
      assert.deepEqual([...new Set(codes)].sort(), ['ERR_CIRCUIT_OPEN', 'ERR_PROVIDER']);
      assert.ok(codes.filter((c) => c === 'ERR_CIRCUIT_OPEN').length >= 90, 'most never reach the provider');
      assert.equal(r.supervisor.stats().routing?.circuits['kimi']?.state, 'open');
      const viaGlm = await Promise.all(
        Array.from({ length: 10 }, () => r.supervisor.chat({ provider: 'kimi', messages: user('x'), fallbacks: [{ provider: 'glm' }] })),
      );
      assert.deepEqual(new Set(viaGlm.map((v) => v.provider)), new Set(['glm']));
      assert.ok(kimiRequests(r.mock) <= 10, 'the fallbacks cost kimi nothing');
    } finally {
      await r.close();
    }
  });

  test('a provider that is down and fails slowly: the probation holds while its first calls fail, however long they take', async () => {
    const clock = new ManualClock();
    const down = { behave: (q: { dialect: string }) => (q.dialect === 'kimi' ? { status: 503 } : undefined) };
    const r = await setup({ mock: down, supervisor: { clock } });
    try {
      const settled = Promise.allSettled(Array.from({ length: 100 }, (_, i) => r.supervisor.chat({ provider: 'kimi', messages: user(`q${i}`) })));
      await until(() => r.supervisor.stats().retried >= 1, 'a first call failed');
      // Without the failure, time alone would have raised the probation's cap to 256 by now.
      clock.advance(2000);
      const codes = (await settled).map((s) => (s.status === 'rejected' ? (s.reason as { code: string }).code : 'ok'));
      assert.ok(kimiRequests(r.mock) <= 10, `${kimiRequests(r.mock)} calls`);
      assert.ok(codes.filter((c) => c === 'ERR_CIRCUIT_OPEN').length >= 90, 'most never reach the provider');
    } finally {
      await r.close();
    }
  });

  test('the half-open probe makes one call: its own retries do not call a provider that just failed it', async () => {
    const clock = new ManualClock();
    const r = await setup({
      supervisor: { clock, routing: { breaker: { failures: 1, cooldownMs: 1000 } } },
      mock: { behave: (q) => (q.dialect === 'kimi' ? { status: 503 } : undefined) },
    });
    try {
      assert.equal((await rejection(r.supervisor.chat({ provider: 'kimi', messages: user('x') }))).code, 'ERR_PROVIDER');
      assert.equal(r.supervisor.stats().routing?.circuits['kimi']?.state, 'open');
      const before = kimiRequests(r.mock);
      clock.advance(1000);
      const probe = await rejection(r.supervisor.chat({ provider: 'kimi', messages: user('probe') }));
      assert.equal(probe.code, 'ERR_PROVIDER');
      assert.equal(kimiRequests(r.mock) - before, 1, 'one call, where maxRetries 2 would have made 3');
      assert.equal(r.supervisor.stats().routing?.circuits['kimi']?.state, 'open');
    } finally {
      await r.close();
    }
  });

  test('a call refused with 400 gives its token estimate back to the key', async () => {
    const clock = new ManualClock();
    const r = await setup({ supervisor: { clock }, kimi: { limits: { tokensPerMinute: 60_000 } } });
    try {
      const huge = await rejection(r.supervisor.chat({ provider: 'kimi', messages: user('[[mock status=400]]'), maxOutputTokens: 1_000_000 }));
      assert.equal(huge.code, 'ERR_PROVIDER');
      // Charged 1,000,000 tokens, the key would owe ~17 minutes; refunded, the next call goes at once.
      await until(() => r.supervisor.stats().routing?.keys !== undefined, 'the refund is applied');
      const next = r.supervisor.chat({ provider: 'kimi', messages: user('next'), maxOutputTokens: 10 });
      await until(() => kimiRequests(r.mock) === 2, 'the next call is sent without the clock moving');
      await next;
      assert.equal(r.supervisor.stats().routing?.waiting, 0);
    } finally {
      await r.close();
    }
  });
});

describe('turned off', () => {
  for (const [name, options] of [
    ['routing: false', { supervisor: { routing: false } }],
    ['providers.kimi.routing: false', { kimi: { routing: false } }],
  ] as const) {
    test(`${name}: no route, no learned limit, no breaker`, async () => {
      const r = await setup({ ...options, mock: { behave: (q) => (q.dialect === 'kimi' ? { status: 503 } : undefined) } });
      try {
        for (let i = 0; i < 3; i++) {
          const error = await rejection(r.supervisor.chat({ provider: 'kimi', messages: user('x') }));
          assert.equal(error.code, 'ERR_PROVIDER');
          assert.equal(error['route'], undefined);
        }
        assert.equal(kimiRequests(r.mock), 9, 'every session made its 3 attempts');
        assert.deepEqual(r.supervisor.stats().routing?.keys, {});
        assert.deepEqual(r.supervisor.stats().routing?.circuits, {});
      } finally {
        await r.close();
      }
    });
  }
});
