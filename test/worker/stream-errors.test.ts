import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ProviderError, type RetryEvent } from '../../src/index.ts';
import type { MockBehaviour } from '../../src/apps/mock/server.ts';
import { harness, rejection, user, type Harness } from '../support/helpers.ts';

// Each request takes the next behaviour of the queue (none left: a plain answer).
const queue: MockBehaviour[] = [];
let h: Harness;
const retries: RetryEvent[] = [];

before(async () => {
  h = await harness({ mock: { behave: () => queue.shift() } });
  h.supervisor.on('retry', (e) => retries.push(e));
});
after(() => h.close());

function reset(...behaviours: MockBehaviour[]): void {
  h.mock.reset();
  retries.length = 0;
  queue.length = 0;
  queue.push(...behaviours);
}

describe('errors sent inside a 200 stream', () => {
  test('`data: {"error":…}` before any text: ERR_PROVIDER with providerCode, retried under the policy', async () => {
    reset({ streamError: { message: 'slow down', type: 'requests', code: 'rate_limit_exceeded' }, streamErrorAfter: 0 });
    const deltas: string[] = [];
    const result = await h.supervisor.chat({ provider: 'openai', messages: user('hi'), onDelta: (t) => deltas.push(t) });
    assert.equal(h.mock.totalRequests, 2);
    assert.equal(result.metadata.session.attempts, 2);
    assert.equal(deltas.join(''), result.content);
    assert.equal(retries.length, 1);
    assert.equal(retries[0]?.error.code, 'ERR_PROVIDER');
    assert.match(retries[0]!.error.message, /slow down/);
  });

  test('a final code in a stream fails at once as a ProviderError with its providerCode', async () => {
    reset({ streamError: { message: 'bad input', type: 'invalid_request_error', code: 'invalid_value' }, streamErrorAfter: 0 });
    const error = await rejection(h.supervisor.chat({ provider: 'openai', messages: user('hi'), onDelta: () => {} }));
    assert.ok(error instanceof ProviderError);
    assert.deepEqual(
      { code: error.code, providerCode: error.providerCode, retryable: error.retryable },
      { code: 'ERR_PROVIDER', providerCode: 'invalid_value', retryable: false },
    );
    assert.equal(h.mock.totalRequests, 1);
  });

  test('`event: error` frames are read the same way', async () => {
    reset({ streamError: { message: 'overloaded, try later', code: 'overloaded' }, streamErrorEvent: true, streamErrorAfter: 0 });
    const result = await h.supervisor.chat({ provider: 'openai', messages: user('hi'), onDelta: () => {} });
    assert.equal(h.mock.totalRequests, 2);
    assert.equal(result.finishReason, 'stop');
    assert.equal(retries[0]?.error.code, 'ERR_PROVIDER');
  });

  test('GLM 1302 in a stream is a retryable ERR_PROVIDER; a status in the body is kept', async () => {
    reset({ streamError: '1302', streamErrorAfter: 0 }, { streamError: '1302', streamErrorAfter: 0 }, { streamError: '1302', streamErrorAfter: 0 });
    const error = await rejection(h.supervisor.chat({ provider: 'glm', prompt: 'hi', onDelta: () => {} }));
    assert.deepEqual(
      { code: error.code, providerCode: error['providerCode'], retryable: error.retryable },
      { code: 'ERR_PROVIDER', providerCode: '1302', retryable: true },
    );
    assert.equal(h.mock.totalRequests, 3, 'tried 1 + maxRetries (2) times');
    reset({ streamError: { code: 503, message: 'unavailable' }, streamErrorAfter: 0 });
    const result = await h.supervisor.chat({ provider: 'glm', prompt: 'hi', onDelta: () => {} });
    assert.equal(result.metadata.session.attempts, 2);
  });

  test('after text was delivered, a stream error is not retried (nothing is sent twice)', async () => {
    reset({ streamError: { message: 'rate limited', code: 'rate_limit_exceeded' }, streamErrorAfter: 4 });
    const deltas: string[] = [];
    const error = await rejection(h.supervisor.chat({ provider: 'openai', messages: user('tell me more'), onDelta: (t) => deltas.push(t) }));
    assert.equal(error.code, 'ERR_PROVIDER');
    assert.equal(error['providerCode'], 'rate_limit_exceeded');
    // Without the text it would have been retried (see the first test): here it is not.
    assert.equal(h.mock.totalRequests, 1);
  });
});

describe('429s with codes the dialect does not know', () => {
  for (const provider of ['kimi', 'glm'] as const) {
    test(`${provider}: retried after the Retry-After the provider asked for`, async () => {
      const proxy429: MockBehaviour = {
        status: 429,
        errorBody: { error: { message: 'proxy says later', code: 'proxy_throttled', type: 'proxy_throttled' } },
        retryAfterMs: 7,
      };
      reset(proxy429);
      const result = await h.supervisor.chat({ provider, messages: user('hi') });
      assert.equal(result.finishReason, 'stop');
      assert.equal(h.mock.totalRequests, 2);
      assert.deepEqual(
        retries.map((r) => r.retryAfterMs),
        [7],
      );
      const delay = retries[0]?.delayMs ?? 0;
      assert.ok(delay >= 7 && delay <= 14, `waited ${delay} ms: the asked 7, spread up to twice that`);
    });
  }

  test('known final codes (quota, balance, daily limit) are not retried', async () => {
    const daily = { error: { code: '1304', message: 'daily call limit reached' } };
    for (const [provider, error, errorBody] of [
      ['kimi', '429_quota', undefined],
      ['glm', '429_arrears', undefined],
      ['glm', 'daily', daily],
    ] as const) {
      reset({ status: 429, error, retryAfterMs: 1, ...(errorBody ? { errorBody } : {}) });
      const failed = await rejection(h.supervisor.chat({ provider, messages: user('hi') }));
      assert.equal(failed.code, 'ERR_PROVIDER');
      assert.equal(failed.retryable, false, `${provider} ${error}`);
      assert.equal(h.mock.totalRequests, 1, `${provider} ${error}`);
    }
  });
});

test('a stream that sent its finish reason and usage but no [DONE], and stays open, completes', async () => {
  for (const provider of ['kimi', 'glm', 'openai'] as const) {
    reset({ noDone: true });
    const deltas: string[] = [];
    const result = await h.supervisor.chat({ provider, messages: user('a full answer'), onDelta: (t) => deltas.push(t) });
    assert.equal(result.finishReason, 'stop', provider);
    assert.equal(deltas.join(''), result.content);
    assert.ok(result.usage.completionTokens > 0, provider);
    await h.mock.waitForClosed(1);
  }
});
