import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSupervisor, type ChatRequest } from '../../src/index.ts';
import { harness, rejection, user, type Harness } from '../support/helpers.ts';

describe('invalid requests are refused before any work', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  const cases: Array<[string, unknown, RegExp]> = [
    ['unknown provider', { provider: 'nope', messages: user('x') }, /`provider`: expected one of "kimi"\|"glm"\|"openai", got "nope" \(string\)/],
    ['no messages and no prompt', { provider: 'kimi' }, /`messages`: expected at least one non-system message/],
    ['empty messages', { provider: 'kimi', messages: [] }, /`messages`: Too small: expected array to have >=1 items, got \[0 items\] \(array\)/],
    [
      'bad role',
      { provider: 'kimi', messages: [{ role: 'robot', content: 'x' }] },
      /`messages\[0\]\.role`: Invalid option: expected one of .*got "robot" \(string\)/,
    ],
    ['negative temperature', { provider: 'glm', prompt: 'x', temperature: -1 }, /`temperature`: Too small: expected number to be >=0, got -1 \(number\)/],
    ['absurd maxOutputTokens', { provider: 'glm', prompt: 'x', maxOutputTokens: 1e12 }, /`maxOutputTokens`: Too big/],
    ['fractional timeout', { provider: 'glm', prompt: 'x', timeoutMs: 1.5 }, /`timeoutMs`: expected int, got 1.5 \(number\)/],
    ['unknown field', { provider: 'glm', prompt: 'x', temprature: 1 }, /unknown option\(s\) `temprature`/],
    ['a function in extra', { provider: 'kimi', messages: user('x'), extra: { f: () => 1 } }, /`extra.f`: expected JSON data, got a function/],
    [
      'a function in tools',
      { provider: 'kimi', messages: user('x'), tools: [{ type: 'function', fn: () => 1 }] },
      /`tools\[0\].fn`: expected JSON data, got a function/,
    ],
    [
      'oversized metadata',
      { provider: 'kimi', messages: user('x'), metadata: { blob: 'x'.repeat(20_000) } },
      /`metadata`: expected at most 16384 bytes of JSON, got \d+ bytes/,
    ],
    [
      'Kimi toolChoice required',
      { provider: 'kimi', messages: user('x'), tools: [{ type: 'function' }], toolChoice: 'required' },
      /Kimi does not support "required"/,
    ],
    ['GLM toolChoice other than auto', { provider: 'glm', prompt: 'x', toolChoice: 'none' }, /GLM accepts only "auto"/],
    ['onDelta not a function', { provider: 'glm', prompt: 'x', onDelta: 'print' }, /`onDelta`: expected a function/],
  ];
  for (const [name, request, message] of cases) {
    test(name, async () => {
      const error = await rejection(h.supervisor.chat(request as ChatRequest));
      assert.equal(error.code, 'ERR_INVALID_REQUEST');
      assert.match(error.message, message);
      assert.ok(Array.isArray(error['issues']) && (error['issues'] as unknown[]).length > 0);
    });
  }

  test('several problems are all reported at once', async () => {
    const error = await rejection(h.supervisor.chat({ provider: 'kimi', messages: [{ role: 'bot', content: 1 }], temperature: 9 } as never));
    assert.ok((error['issues'] as string[]).length >= 3, String(error.message));
  });

  test('a duplicate requestId of an active session is refused; after it ends the id is free again', async () => {
    const controller = new AbortController();
    const first = h.supervisor.chat({ provider: 'kimi', messages: user('[[mock hang]]'), requestId: 'dup', signal: controller.signal });
    const error = await rejection(h.supervisor.chat({ provider: 'kimi', messages: user('x'), requestId: 'dup' }));
    assert.equal(error.code, 'ERR_INVALID_REQUEST');
    assert.match(error.message, /"dup" is already used by an active session/);
    await h.mock.waitForRequests(1);
    controller.abort();
    await rejection(first);
    await new Promise<void>((resolve) => h.supervisor.on('transition', (e) => e.requestId === 'dup' && e.to === 'released' && resolve()));
    const again = await h.supervisor.chat({ provider: 'kimi', messages: user('x'), requestId: 'dup' });
    assert.equal(again.metadata.session.requestId, 'dup');
  });

  test('none of them reached the provider or a worker', () => {
    const bodies = h.mock.requests.map((r) => JSON.stringify(r.body));
    assert.equal(bodies.filter((b) => !b.includes('[[mock hang]]') && !b.includes('"x"')).length, 0);
    assert.equal(h.mock.totalRequests, 2, 'only the two valid dup-test calls');
    assert.ok(h.supervisor.stats().rejected.invalid >= cases.length + 2);
  });

  test('a provider without a key says which variable to set', async () => {
    const supervisor = createSupervisor({ logger: false, threads: 1, providers: { kimi: { baseURL: h.mock.baseURL('kimi') } } });
    const saved = { MOONSHOT_API_KEY: process.env['MOONSHOT_API_KEY'], KIMI_API_KEY: process.env['KIMI_API_KEY'] };
    try {
      if (saved.MOONSHOT_API_KEY || saved.KIMI_API_KEY) return; // a real key in the environment: nothing to check
      const error = await rejection(supervisor.chat({ provider: 'kimi', messages: user('x') }));
      assert.equal(error.code, 'ERR_INVALID_REQUEST');
      assert.match(error.message, /set MOONSHOT_API_KEY or KIMI_API_KEY/);
    } finally {
      await supervisor.close();
    }
  });
});

describe('supervisor options are validated the same way', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['zero threads', { threads: 0 }, /`threads`: Too small: expected number to be >=1, got 0 \(number\)/],
    ['string maxQueue', { maxQueue: '10' }, /`maxQueue`: expected number, got "10" \(string\)/],
    ['unknown option', { maxConcurent: 3 }, /unknown option\(s\) `maxConcurent`/],
    ['custom provider without baseURL', { providers: { mine: { apiKey: 'k' } } }, /`providers.mine.baseURL`: required/],
    ['bad dialect', { providers: { mine: { baseURL: 'http://x', dialect: 'claude' } } }, /`providers.mine.dialect`/],
    ['bad logger', { logger: 'yes' }, /`logger`/],
  ];
  for (const [name, options, message] of cases) {
    test(name, () => {
      assert.throws(
        () => createSupervisor(options as never),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'ERR_INVALID_REQUEST');
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});
