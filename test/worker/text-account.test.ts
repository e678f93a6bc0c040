// One account of text per session: the deltas and the result's content come from it, so they agree
// across tool rounds, continuation rounds and rounds that fail after streaming paid text.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ChatResult } from '../../src/index.ts';
import type { MockBehaviour, MockRequestRecord } from '../../src/apps/mock/server.ts';
import { harness, user, type Harness } from '../support/helpers.ts';

function scenario(r: MockRequestRecord): MockBehaviour | undefined {
  const messages = r.body?.messages ?? [];
  const text = JSON.stringify(messages);
  const round2 = messages.some((m) => m.role === 'assistant');
  if (text.includes('scenario-search'))
    return messages.some((m) => m.role === 'tool') ? { content: 'The answer.', chunks: 3 } : { content: 'Let me search that. ', chunks: 4 };
  if (text.includes('scenario-reset'))
    return round2
      ? { content: 'paid words of round two that the stream cuts halfway through', chunks: 10, reset: 'mid' }
      : { lengthRounds: 1, completionTokens: 5 };
  if (text.includes('scenario-nofinish'))
    return round2 ? { content: 'paid words of round two without an end', chunks: 8, noFinish: true } : { lengthRounds: 1, completionTokens: 5 };
  if (text.includes('scenario-sensitive'))
    return round2 ? { content: 'paid words of round two then the filter', chunks: 8, finishReason: 'sensitive' } : { lengthRounds: 1, completionTokens: 5 };
  return undefined;
}

async function streamed(h: Harness, provider: 'kimi' | 'glm', prompt: string): Promise<{ deltas: string; result: ChatResult }> {
  let deltas = '';
  let result: ChatResult | undefined;
  for await (const event of h.supervisor.stream({ provider, messages: user(prompt), webSearch: prompt.includes('search') || undefined })) {
    if (event.type === 'delta') deltas += event.text;
    else if (event.type === 'result') result = event.result;
  }
  return { deltas, result: result! };
}

describe('one account of text per session', () => {
  let h: Harness;
  before(async () => {
    h = await harness({ mock: { behave: scenario } });
  });
  after(() => h.close());

  test('Kimi $web_search: the text of the round before the search is in the deltas and in content, in order', async () => {
    const { deltas, result } = await streamed(h, 'kimi', 'scenario-search');
    assert.equal(result.content, 'Let me search that. The answer.');
    assert.equal(deltas, result.content);
    const plain = await h.supervisor.chat({ provider: 'kimi', messages: user('scenario-search'), webSearch: true });
    assert.equal(plain.content, 'Let me search that. The answer.', 'the same account without streaming');
  });

  test('many streamed search sessions at once: every one adds up, whichever arrives first of the result and the last deltas', async () => {
    const runs = await Promise.all(Array.from({ length: 24 }, () => streamed(h, 'kimi', 'scenario-search')));
    for (const { deltas, result } of runs) {
      assert.equal(result.content, 'Let me search that. The answer.');
      assert.equal(deltas, result.content);
    }
  });

  for (const [name, prompt] of [
    ['resets', 'scenario-reset'],
    ['ends without a finish reason', 'scenario-nofinish'],
    ['ends `sensitive`', 'scenario-sensitive'],
  ] as const) {
    test(`a continuation whose round 2 streams paid text and then ${name}: content has that text, deltas add up, 2 calls counted`, async () => {
      h.mock.reset();
      const { deltas, result } = await streamed(h, 'glm', prompt);
      assert.equal(h.mock.totalRequests, 2);
      const continuation = result.metadata.continuation!;
      assert.equal(continuation.attempts, 2);
      assert.equal(continuation.complete, false);
      assert.ok(continuation.error !== undefined);
      assert.equal(result.finishReason, 'length');
      assert.equal(deltas, result.content);
      assert.match(result.content, /paid words of round two/);
    });
  }
});
