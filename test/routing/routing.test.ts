// Routing end to end against the mock: sessions wait in `created` for their key's budget instead
// of provoking 429s, a 429 holds back everyone on the key, fallbacks within the same session,
// circuits that open, fail fast, probe and close.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSupervisor, ManualClock, startMockProvider, type Supervisor, type SupervisorOptions, type Transport } from '../../src/index.ts';
import { firstBehaviour, outage, throttle } from '../../src/apps/mock/faults.ts';
import type { MockProvider, MockProviderOptions } from '../../src/apps/mock/server.ts';
import type { CircuitEvent, FallbackEvent } from '../../src/types/session.ts';
import { KEYS, rejection, user } from '../support/helpers.ts';

interface Routed {
  mock: MockProvider;
  supervisor: Supervisor;
  close(): Promise<void>;
}

type ProvidersOption = NonNullable<SupervisorOptions['providers']>;

async function routed(
  options: { kimi?: ProvidersOption[string]; glm?: ProvidersOption[string]; supervisor?: SupervisorOptions; mock?: MockProviderOptions } = {},
): Promise<Routed> {
  const mock = await startMockProvider(options.mock);
  const supervisor = createSupervisor({
    threads: 2,
    logger: false,
    retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 5 },
    ...options.supervisor,
    providers: {
      kimi: { baseURL: mock.baseURL('kimi'), apiKey: KEYS.kimi, ...options.kimi },
      glm: { baseURL: mock.baseURL('glm'), apiKey: KEYS.glm, ...options.glm },
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

const flush = () => new Promise((resolve) => setImmediate(resolve));
const kimiRequests = (mock: MockProvider) => mock.requests.filter((r) => r.dialect === 'kimi').length;

describe('rate limits per key', () => {
  // A token-bucket provider (see throttle()); `npm run routing-demo` also runs the strict sliding window.
  test('against a provider that throttles at 50/s, 100 sessions with a 50/s limit see no 429; the wait shows in stats', async () => {
    const limiter = throttle({ limit: 50 });
    const r = await routed({ kimi: { limits: { requestsPerSecond: 50 } }, mock: { behave: limiter.behave } });
    try {
      const calls = Array.from({ length: 100 }, (_, i) => r.supervisor.chat({ provider: 'kimi', messages: user(`q${i}`) }));
      await flush();
      const during = r.supervisor.stats();
      assert.ok(during.routing !== undefined && during.routing.waiting > 50, `sessions wait for budget (${during.routing?.waiting})`);
      assert.ok(during.states.created >= during.routing.waiting, 'they wait in created');
      const key = Object.values(during.routing.keys)[0];
      assert.equal(key?.provider, 'kimi');
      const results = await Promise.all(calls);
      assert.equal(results.length, 100);
      assert.equal(limiter.rejected, 0, 'the provider answered no 429');
      assert.equal(limiter.accepted, 100);
      const after = r.supervisor.stats().routing;
      assert.equal(after?.waiting, 0);
      assert.equal(after?.throttled, 0);
      assert.equal(Object.values(after?.keys ?? {})[0]?.inFlight, 0, 'every call gave its concurrency back');
      assert.match(r.supervisor.metrics(), /sessionpool_routing_key_factor\{key="kimi:[0-9a-f]{12}",provider="kimi"\} 1/);
    } finally {
      await r.close();
    }
  });

  // Every refused call is told the same Retry-After; the retry policy spreads the herd (retry.ts).
  test('without a limit the same 100 sessions still all complete, through 429s and retries', async () => {
    // 50/s with a burst of 10: 100 sessions at once are refused even on a slow machine.
    const limiter = throttle({ limit: 10, windowMs: 200 });
    const r = await routed({ mock: { behave: limiter.behave }, supervisor: { retry: { maxRetries: 20, baseDelayMs: 1, maxDelayMs: 5 } } });
    try {
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => r.supervisor.chat({ provider: 'kimi', messages: user(`q${i}`) })));
      assert.equal(results.length, 100);
      assert.ok(limiter.rejected > 0, 'the provider refused some');
      assert.equal(r.supervisor.stats().routing?.waiting, 0);
    } finally {
      await r.close();
    }
  });

  test('concurrency per key bounds the calls in flight', async () => {
    const r = await routed({ kimi: { limits: { concurrency: 2 } }, mock: { latencyMs: 30 } });
    try {
      await Promise.all(Array.from({ length: 8 }, () => r.supervisor.chat({ provider: 'kimi', messages: user('hi') })));
      assert.equal(r.mock.maxInFlight, 2);
    } finally {
      await r.close();
    }
  });

  test('a 429 holds back everyone on the key for its Retry-After and halves its budget', async () => {
    const clock = new ManualClock();
    const r = await routed({ kimi: { limits: { requestsPerSecond: 100 } }, supervisor: { clock } });
    try {
      const retried = new Promise((resolve) => r.supervisor.once('retry', resolve));
      const first = r.supervisor.chat({ provider: 'kimi', messages: user('[[mock error=429_rate_limit retryAfterMs=300 failTimes=1 key=ra]]') });
      await retried;
      await flush();
      const key = Object.values(r.supervisor.stats().routing?.keys ?? {})[0];
      assert.equal(key?.factor, 0.5);
      assert.equal(key?.blockedMs, 300);
      const second = r.supervisor.chat({ provider: 'kimi', messages: user('second') });
      // The first session's outcome (its 429 handed back) comes from its worker: wait for it, bounded.
      for (let i = 0; i < 500 && r.supervisor.stats().routing?.waiting !== 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      // The refused session waits for the key like the others (its worker hands the 429 back, issue 25).
      assert.equal(r.supervisor.stats().routing?.waiting, 2, 'the refused session and the second one wait for the key');
      assert.equal(r.supervisor.stats().states.created, 1);
      assert.equal(r.mock.requests.filter((q) => JSON.stringify(q.body).includes('second')).length, 0, 'and was not sent');
      clock.advance(300);
      // Both go once the block ends (the key's pace may ask a few more ms of the manual clock: bounded).
      let settled = false;
      const both = Promise.all([first, second]).finally(() => (settled = true));
      for (let i = 0; i < 100 && !settled; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        clock.advance(10);
      }
      await both;
      assert.equal(r.supervisor.stats().routing?.throttled, 1);
    } finally {
      await r.close();
    }
  });

  test('a session waiting for budget times out at its deadline, in created, and leaves the queue', async () => {
    const clock = new ManualClock();
    const r = await routed({ kimi: { limits: { requestsPerMinute: 1 } }, supervisor: { clock } });
    try {
      await r.supervisor.chat({ provider: 'kimi', messages: user('one') });
      const waiting = r.supervisor.chat({ provider: 'kimi', messages: user('two'), timeoutMs: 1000 });
      await flush();
      assert.equal(r.supervisor.stats().routing?.waiting, 1);
      clock.advance(1000);
      const error = await rejection(waiting);
      assert.equal(error.code, 'ERR_SESSION_TIMEOUT');
      assert.equal(r.supervisor.stats().routing?.waiting, 0);
      assert.equal(kimiRequests(r.mock), 1);
    } finally {
      await r.close();
    }
  });
});

describe('fallbacks', () => {
  const kimiDown = { behave: (q: { dialect: string }) => (q.dialect === 'kimi' ? { status: 503 } : undefined) };

  test('after the retries give up, the session goes to its next target; metadata.route says why', async () => {
    const r = await routed({ mock: kimiDown });
    try {
      const events: FallbackEvent[] = [];
      r.supervisor.on('fallback', (e) => events.push(e));
      const result = await r.supervisor.chat({ provider: 'kimi', messages: user('hello'), fallbacks: [{ provider: 'glm', model: 'glm-4.6' }] });
      assert.equal(result.provider, 'glm');
      assert.equal(result.model, 'glm-4.6');
      const route = result.metadata['route'] as Array<Record<string, unknown>>;
      assert.deepEqual(
        route.map((e) => [e['provider'], e['model'], e['outcome'], e['attempts']]),
        [
          ['kimi', 'moonshot-v1-8k', 'failed', 3],
          ['glm', 'glm-4.6', 'completed', 1],
        ],
      );
      assert.deepEqual(
        route[0]?.['error'] && { code: (route[0]['error'] as { code: string }).code, status: (route[0]['error'] as { status: number }).status },
        { code: 'ERR_PROVIDER', status: 503 },
      );
      assert.equal(result.metadata.session.attempts, 4);
      assert.deepEqual(
        events.map((e) => [e.from.provider, e.to.provider, e.reason]),
        [['kimi', 'glm', 'failed']],
      );
      assert.equal(r.supervisor.stats().routing?.fallbacks, 1);
    } finally {
      await r.close();
    }
  });

  test('supervisor-wide fallbacks per provider; a request’s own list wins, [] turns them off', async () => {
    const r = await routed({ mock: kimiDown, kimi: { fallbacks: [{ provider: 'glm' }] } });
    try {
      const result = await r.supervisor.chat({ provider: 'kimi', messages: user('hello') });
      assert.equal(result.provider, 'glm');
      const error = await rejection(r.supervisor.chat({ provider: 'kimi', messages: user('hello'), fallbacks: [] }));
      assert.equal(error.code, 'ERR_PROVIDER');
      // Every session is routed now (a breaker and learned limits by default): its route names kimi alone.
      assert.deepEqual(
        (error['route'] as Array<{ provider: string; outcome: string }>).map((e) => [e.provider, e.outcome]),
        [['kimi', 'failed']],
      );
    } finally {
      await r.close();
    }
  });

  test('a failure no other target can fix (401) is not sent elsewhere', async () => {
    const r = await routed({ mock: { behave: (q) => (q.dialect === 'kimi' ? { status: 401 } : undefined) } });
    try {
      const error = await rejection(r.supervisor.chat({ provider: 'kimi', messages: user('hello'), fallbacks: [{ provider: 'glm' }] }));
      assert.equal(error.code, 'ERR_PROVIDER');
      assert.equal(r.mock.requests.filter((q) => q.dialect === 'glm').length, 0);
    } finally {
      await r.close();
    }
  });

  test('a stream falls back before its first delta, and the deltas add up to the fallback’s answer', async () => {
    const r = await routed({ mock: kimiDown });
    try {
      let text = '';
      const result = await r.supervisor.chat({ provider: 'kimi', messages: user('stream me'), onDelta: (t) => (text += t), fallbacks: [{ provider: 'glm' }] });
      assert.equal(result.provider, 'glm');
      assert.equal(text, result.content);
    } finally {
      await r.close();
    }
  });

  test('a stream that already delivered text does not fall back', async () => {
    const r = await routed();
    try {
      let text = '';
      const error = await rejection(
        r.supervisor.chat({
          provider: 'kimi',
          messages: user('[[mock reset=mid chunks=20 chunkDelayMs=1]]'),
          onDelta: (t) => (text += t),
          fallbacks: [{ provider: 'glm' }],
        }),
      );
      assert.equal(error.code, 'ERR_PROVIDER');
      assert.ok(text.length > 0);
      assert.equal(r.mock.requests.filter((q) => q.dialect === 'glm').length, 0);
    } finally {
      await r.close();
    }
  });

  test('bad fallbacks are refused before any work, naming the field', async () => {
    const r = await routed();
    try {
      const unknown = await rejection(r.supervisor.chat({ provider: 'kimi', messages: user('x'), fallbacks: [{ provider: 'nope' }] }));
      assert.equal(unknown.code, 'ERR_INVALID_REQUEST');
      assert.match(unknown.message, /`fallbacks\[0\]` \(nope\): `provider`: expected one of/);
      const rules = await rejection(
        r.supervisor.chat({ provider: 'kimi', messages: user('x'), toolChoice: 'none', tools: [{ type: 'function' }], fallbacks: [{ provider: 'glm' }] }),
      );
      assert.match(rules.message, /`fallbacks\[0\]` \(glm\): .*GLM accepts only "auto"/);
      assert.equal(r.mock.totalRequests, 0);
      assert.throws(
        () => createSupervisor({ logger: false, providers: { kimi: { apiKey: 'k', fallbacks: [{ provider: 'nope' }] } } }),
        /`providers\.kimi\.fallbacks\[0\]\.provider`: expected one of/,
      );
      assert.throws(
        () => createSupervisor({ logger: false, providers: { kimi: { apiKey: 'k', limits: { requestsPerMinute: 0 } } } }),
        /ERR_INVALID_REQUEST|providers\.kimi\.limits/,
      );
      assert.throws(
        () => createSupervisor({ logger: false, providers: { kimi: { apiKey: 'k', limits: { requestsPerMinute: 1, requestsPerSecond: 1 } } } }),
        /not both/,
      );
      assert.throws(
        () => createSupervisor({ logger: false, providers: { kimi: { apiKey: 'k', limits: 'kimi-tier9' as 'kimi-tier1' } } }),
        /providers\.kimi\.limits/,
      );
      assert.throws(() => createSupervisor({ logger: false, routing: { breaker: { failures: 0 } } }), /routing\.breaker/);
    } finally {
      await r.close();
    }
  });
});

describe('circuit breaker', () => {
  test('opens after N failures, fails fast with ERR_CIRCUIT_OPEN or falls back, probes after the cool-down and closes', async () => {
    const clock = new ManualClock();
    const down = outage();
    const r = await routed({
      mock: { behave: (q) => (q.dialect === 'kimi' ? down.behave() : undefined) },
      supervisor: { clock, retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 }, routing: { breaker: { failures: 3, cooldownMs: 1000 } } },
    });
    try {
      const circuits: CircuitEvent[] = [];
      r.supervisor.on('circuit', (e) => circuits.push(e));
      down.down();
      for (let i = 0; i < 3; i++) assert.equal((await rejection(r.supervisor.chat({ provider: 'kimi', messages: user('x') }))).code, 'ERR_PROVIDER');
      assert.deepEqual(
        circuits.map((c) => [c.provider, c.from, c.to]),
        [['kimi', 'closed', 'open']],
      );
      const fast = await rejection(r.supervisor.chat({ provider: 'kimi', messages: user('x') }));
      assert.equal(fast.code, 'ERR_CIRCUIT_OPEN');
      assert.equal(kimiRequests(r.mock), 3, 'nothing was sent');
      const viaGlm = await r.supervisor.chat({ provider: 'kimi', messages: user('x'), fallbacks: [{ provider: 'glm' }] });
      assert.deepEqual(
        (viaGlm.metadata['route'] as Array<{ provider: string; outcome: string }>).map((e) => [e.provider, e.outcome]),
        [
          ['kimi', 'circuit_open'],
          ['glm', 'completed'],
        ],
      );
      assert.equal(r.supervisor.stats().routing?.circuits['kimi']?.state, 'open');
      assert.match(r.supervisor.metrics(), /sessionpool_circuit_state\{provider="kimi"\} 2/);
      down.up();
      clock.advance(1000);
      await r.supervisor.chat({ provider: 'kimi', messages: user('probe') });
      assert.deepEqual(
        circuits.map((c) => c.to),
        ['open', 'halfOpen', 'closed'],
      );
      assert.match(r.supervisor.metrics(), /sessionpool_circuit_opened_total\{provider="kimi"\} 1/);
    } finally {
      await r.close();
    }
  });

  test('a provider taken down mid-run sends its sessions to the fallback once the circuit opens', async () => {
    const down = outage();
    let seen = 0;
    const behave = firstBehaviour((q) => {
      if (q.dialect !== 'kimi') return undefined;
      if (++seen === 20) down.down();
      return down.behave();
    });
    const r = await routed({
      mock: { behave },
      kimi: { fallbacks: [{ provider: 'glm' }] },
      supervisor: { maxConcurrent: 4, routing: { breaker: { failures: 5, cooldownMs: 60_000 } } },
    });
    try {
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => r.supervisor.chat({ provider: 'kimi', messages: user(`q${i}`) })));
      const outcomes = results.map((x) => (x.metadata['route'] as Array<{ outcome: string }>)[0]?.outcome);
      const failedOnKimi = outcomes.filter((o) => o === 'failed').length;
      const skipped = outcomes.filter((o) => o === 'circuit_open').length;
      assert.equal(results.length, 60, 'every session completed');
      assert.ok(outcomes.filter((o) => o === 'completed').length >= 19);
      // Each failed session made 3 attempts (all counted): the circuit opened within two sessions'
      // worth of failures, plus the few that were in flight (maxConcurrent 4) when it did.
      assert.ok(failedOnKimi <= 2 + 4, `sessions that hit the dead provider: ${failedOnKimi}`);
      assert.ok(skipped > 30, `sessions sent straight to the fallback: ${skipped}`);
      assert.equal(r.supervisor.stats().routing?.circuits['kimi']?.state, 'open');
    } finally {
      await r.close();
    }
  });
});

describe('shutdown', () => {
  test('sessions waiting for budget are aborted by close(), released, nothing left waiting', async () => {
    const r = await routed({ kimi: { limits: { requestsPerMinute: 1 } } });
    try {
      await r.supervisor.chat({ provider: 'kimi', messages: user('one') });
      const waiting = [
        rejection(r.supervisor.chat({ provider: 'kimi', messages: user('two') })),
        rejection(r.supervisor.chat({ provider: 'kimi', messages: user('three') })),
      ];
      await flush();
      assert.equal(r.supervisor.stats().routing?.waiting, 2);
      const report = await r.supervisor.close({ timeoutMs: 20 });
      assert.equal(report.aborted, 2);
      for (const error of await Promise.all(waiting)) assert.equal(error.code, 'ERR_SESSION_ABORTED');
      const stats = r.supervisor.stats();
      assert.equal(stats.routing?.waiting, 0);
      assert.equal(stats.states.released, 3);
    } finally {
      await r.close();
    }
  });
});

test('a provider with limits: the first session leaves as soon as one thread is up, not once all of them are', async () => {
  const sent: string[] = [];
  let up: ((threadId: number, handlers: boolean) => void) | undefined;
  const transport: Transport = {
    name: 'two-threads-one-up',
    remoteKeys: false,
    open(options) {
      up = options.onWorkerReady;
      return {
        threads: 2,
        run: (task, receiver) => {
          sent.push(task.sessionId);
          receiver.settled(task, { ok: false, error: { code: 'ERR_HANDLER', name: 'Error', message: 'not run' }, attempts: 1, threadId: 1 });
        },
        reportStarts: () => {},
        abort: async () => undefined,
        reaches: () => true,
        forget: () => {},
        kill: () => false,
        close: async () => {},
      };
    },
  };
  const supervisor = createSupervisor({
    threads: 2,
    logger: false,
    transport,
    providers: { kimi: { baseURL: 'http://127.0.0.1:9/v1', apiKey: KEYS.kimi, limits: { concurrency: 5 } } },
  });
  try {
    const chat = supervisor.chat({ provider: 'kimi', messages: user('hi') }).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(sent, [], 'no thread up: the session waits for one');
    up?.(1, false);
    await chat;
    assert.equal(sent.length, 1, 'one thread of two up: the session was sent');
  } finally {
    await supervisor.close({ timeoutMs: 1000 });
  }
});
