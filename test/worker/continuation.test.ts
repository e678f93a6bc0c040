import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { harness, user, type Harness } from '../support/helpers.ts';

describe('continuation of answers cut at length', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  test('Kimi continues in partial mode and appends every chunk; usage is summed', async () => {
    h.mock.reset();
    const result = await h.supervisor.chat({ provider: 'kimi', messages: user('tell a story [[mock lengthRounds=2 completionTokens=5]]') });
    assert.equal(result.finishReason, 'stop');
    assert.deepEqual(result.metadata.continuation, { attempts: 3, totalTokens: 15, complete: true });
    assert.equal(result.usage.completionTokens, 15);
    assert.equal(result.content.split(/\s+/).length, 15);
    const [first, second, third] = h.mock.requests;
    assert.equal(h.mock.totalRequests, 3);
    assert.equal(first?.body?.messages?.length, 1);
    // Rounds 2 and 3: the history plus one partial assistant message with all the text so far.
    for (const [request, words] of [
      [second, 5],
      [third, 10],
    ] as const) {
      const messages = request!.body!.messages!;
      assert.equal(messages.length, 2);
      assert.deepEqual({ ...messages[1], content: undefined }, { role: 'assistant', partial: true, content: undefined });
      assert.equal(String(messages[1]!.content).split(/\s+/).length, words);
      assert.ok(result.content.startsWith(String(messages[1]!.content)));
    }
  });

  test('GLM continues with the cut answer as a turn and a short user "continue" turn', async () => {
    h.mock.reset();
    const result = await h.supervisor.chat({ provider: 'glm', prompt: 'write on [[mock lengthRounds=2 completionTokens=4]]' });
    assert.equal(result.finishReason, 'stop');
    assert.deepEqual(result.metadata.continuation, { attempts: 3, totalTokens: 12, complete: true });
    const third = h.mock.requests[2]!.body!.messages!;
    assert.deepEqual(
      third.map((m) => m.role),
      ['user', 'assistant', 'user', 'assistant', 'user'],
    );
    assert.match(String(third[2]!.content), /^Continue exactly where you stopped/);
    assert.ok(result.content.startsWith(`${third[1]!.content}${third[3]!.content}`));
    assert.equal(result.content.split(/\s+/).length, 12);
  });

  test('maxAttempts bounds the calls: 3 by default, 5 when asked', async () => {
    h.mock.reset();
    const capped = await h.supervisor.chat({ provider: 'kimi', messages: user('long [[mock lengthRounds=10 completionTokens=3]]') });
    assert.equal(h.mock.totalRequests, 3);
    assert.equal(capped.finishReason, 'length');
    assert.deepEqual(capped.metadata.continuation, { attempts: 3, totalTokens: 9, complete: false });
    h.mock.reset();
    const more = await h.supervisor.chat({
      provider: 'glm',
      prompt: 'long [[mock lengthRounds=10 completionTokens=3]]',
      continuation: { maxAttempts: 5, maxTotalTokens: 50_000 },
    });
    assert.equal(h.mock.totalRequests, 5);
    assert.equal(more.metadata.continuation?.attempts, 5);
  });

  test('maxTotalTokens bounds the completion tokens paid for', async () => {
    h.mock.reset();
    const result = await h.supervisor.chat({
      provider: 'kimi',
      messages: user('long [[mock lengthRounds=10 completionTokens=10]]'),
      continuation: { maxAttempts: 10, maxTotalTokens: 25 },
    });
    // 10 + 10 < 25 allows a third call; 30 >= 25 stops.
    assert.equal(h.mock.totalRequests, 3);
    assert.equal(result.usage.completionTokens, 30);
  });

  test('continuation: false returns the cut answer as it is', async () => {
    h.mock.reset();
    const result = await h.supervisor.chat({ provider: 'glm', prompt: 'x [[mock lengthRounds=1]]', continuation: false });
    assert.equal(h.mock.totalRequests, 1);
    assert.equal(result.finishReason, 'length');
    assert.equal(result.metadata.continuation, undefined);
  });
});

test('a continuation call that fails returns what was produced, with the error noted', async () => {
  // Every call that carries an earlier answer (a continuation) is refused with a non-retryable 401.
  const h = await harness({ mock: { behave: (r) => (r.body?.messages?.some((m) => m.role === 'assistant') ? { status: 401 } : undefined) } });
  try {
    for (const provider of ['kimi', 'glm'] as const) {
      h.mock.reset();
      const result = await h.supervisor.chat({ provider, messages: user('story [[mock lengthRounds=2 completionTokens=4]]') });
      assert.equal(h.mock.totalRequests, 2);
      assert.equal(result.finishReason, 'length');
      assert.equal(result.content.split(/\s+/).length, 4, 'the paid-for first chunk is kept');
      const continuation = result.metadata.continuation!;
      // Two calls were made (the second failed): both count.
      assert.deepEqual({ ...continuation, error: undefined }, { attempts: 2, totalTokens: 4, complete: false, error: undefined });
      assert.equal(continuation.error?.code, 'ERR_PROVIDER');
      assert.equal(continuation.error?.status, 401);
    }
  } finally {
    await h.close();
  }
});
