// The 13 cases of the system sessionpool replaces, which passed there only because they mocked
// the broken parts. Here each one runs over real HTTP against the embedded mock provider and is
// asserted on what the provider received and on what came back.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { harness, rejection, released, user, waitForTransition, type Harness } from '../support/helpers.ts';

describe('the seed cases, unmocked', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());
  const last = () => h.mock.requests.at(-1)!;

  for (const provider of ['kimi', 'glm'] as const) {
    test(`${provider}: basic result with session metadata`, async () => {
      const result = await h.supervisor.chat({ provider, messages: user('What is 1+1?') });
      assert.equal(last().body?.messages?.[0]?.content, 'What is 1+1?');
      assert.match(result.content, /^Answer to "What is 1\+1\?"/);
      assert.equal(result.metadata.session.attempts, 1);
      assert.ok(result.metadata.session.durationSeconds > 0);
    });

    test(`${provider}: custom requestId echoed`, async () => {
      const result = await h.supervisor.chat({ provider, messages: user('x'), requestId: `seed-${provider}` });
      assert.equal(result.metadata.session.requestId, `seed-${provider}`);
    });

    test(`${provider}: a provider error surfaces typed, not swallowed`, async () => {
      const error = await rejection(h.supervisor.chat({ provider, messages: user('[[mock status=401]]') }));
      assert.equal(error.code, 'ERR_PROVIDER');
      assert.equal(error['status'], 401);
      assert.ok(error['providerCode']);
    });

    test(`${provider}: a per-call timeoutMs is enforced`, async () => {
      h.mock.reset();
      const error = await rejection(h.supervisor.chat({ provider, messages: user('[[mock hang]]'), timeoutMs: 100 }));
      assert.equal(error.code, 'ERR_SESSION_TIMEOUT');
      assert.match(error.message, /100 ms/);
      // On a loaded machine the deadline may come before the request left: then there is nothing to close.
      await waitForTransition(h, released(String(error['sessionId'])));
      await h.mock.waitForClosed(h.mock.totalRequests);
    });

    test(`${provider}: continuation options change the number of calls`, async () => {
      h.mock.reset();
      await h.supervisor.chat({ provider, messages: user('long [[mock lengthRounds=8 completionTokens=3]]') });
      assert.equal(h.mock.totalRequests, 3, 'default maxAttempts');
      h.mock.reset();
      const result = await h.supervisor.chat({
        provider,
        messages: user('long [[mock lengthRounds=8 completionTokens=3]]'),
        continuation: { maxAttempts: 5, maxTotalTokens: 50_000 },
      });
      assert.equal(h.mock.totalRequests, 5);
      assert.deepEqual(result.metadata.continuation, { attempts: 5, totalTokens: 15, complete: false });
    });
  }

  test('kimi: cache options reach the wire', async () => {
    await h.supervisor.chat({ provider: 'kimi', messages: user('x'), cache: { id: 'seed-cache', resetTtlSeconds: 600 } });
    assert.equal(last().headers['x-msh-context-cache'], 'seed-cache');
    assert.equal(last().headers['x-msh-context-cache-reset-ttl'], '600');
  });

  test('glm: web search reaches the wire and its sources come back', async () => {
    const result = await h.supervisor.chat({ provider: 'glm', prompt: 'search this', webSearch: true });
    const tools = last().body?.['tools'] as Array<{ type: string; web_search: { enable: boolean } }>;
    assert.equal(tools[0]?.type, 'web_search');
    assert.equal(tools[0]?.web_search.enable, true);
    assert.equal(result.webSearch?.length, 1);
  });

  test('glm: the system prompt reaches the wire', async () => {
    await h.supervisor.chat({ provider: 'glm', prompt: 'q', systemPrompt: 'Answer in Portuguese.' });
    assert.deepEqual(last().body?.messages?.[0], { role: 'system', content: 'Answer in Portuguese.' });
  });
});
