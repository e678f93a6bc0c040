// Hostile inputs against routing on by default (issue 25): what a provider, a host's options or a
// shared store can send, and the promises that must hold anyway.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSupervisor, ManualClock, startMockProvider, systemClock, type SupervisorOptions } from '../../src/index.ts';
import type { MockProvider, MockProviderOptions } from '../../src/apps/mock/server.ts';
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

  test('a concurrency refusal (GLM 1302) on every call: the router does not re-send it with no wait', async () => {
    const clock = new ManualClock();
    const r = await setup({ supervisor: { clock }, mock: { behave: (q) => (q.dialect === 'glm' ? { status: 429, error: '1302' } : undefined) } });
    try {
      const outcome = rejection(r.supervisor.chat({ provider: 'glm', messages: user('x'), timeoutMs: 60_000 }));
      // No time passes: only what goes without any wait is sent.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const sent = requestsOf(r.mock, 'glm');
      clock.advance(60_000);
      await outcome;
      assert.ok(sent <= 3, `${sent} calls refused for concurrency were sent with no time passing (maxRetries 2: at most 3)`);
    } finally {
      await r.close();
    }
  });
});
