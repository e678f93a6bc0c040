import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { harness, rejection, user, type Harness } from '../support/helpers.ts';

describe('provider errors surface typed, retried only when they can succeed', () => {
  let h: Harness;
  before(async () => {
    // One supervisor for every case, which fails calls on purpose: without `routing: false` the
    // default breaker (issue 25) would open on them and later cases would make no call at all.
    h = await harness({ supervisor: { retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 }, routing: false } });
  });
  after(() => h.close());

  const notRetried: Array<[string, 'kimi' | 'glm', string, number, string]> = [
    ['Kimi 401', 'kimi', 'status=401', 401, 'invalid_authentication_error'],
    ['Kimi 429 empty balance', 'kimi', 'error=429_quota', 429, 'exceeded_current_quota_error'],
    ['Kimi 404 unknown model', 'kimi', 'error=404_model', 404, 'resource_not_found_error'],
    ['GLM 429 arrears (1113)', 'glm', 'error=429_arrears', 429, '1113'],
    ['GLM 400 unknown model (1211)', 'glm', 'error=400_model', 400, '1211'],
  ];
  for (const [name, provider, directive, status, providerCode] of notRetried) {
    test(`${name}: ERR_PROVIDER after exactly one call`, async () => {
      h.mock.reset();
      const error = await rejection(h.supervisor.chat({ provider, messages: user(`[[mock ${directive}]]`) }));
      assert.equal(error.code, 'ERR_PROVIDER');
      assert.equal(error['status'], status);
      assert.equal(error['providerCode'], providerCode);
      assert.equal(error['retryable'], false);
      assert.match(error.message, new RegExp(`^${provider} answered ${status}: `));
      assert.equal(h.mock.totalRequests, 1);
    });
  }

  const retried: Array<[string, 'kimi' | 'glm', string]> = [
    ['Kimi 429 rate limit', 'kimi', 'error=429_rate_limit'],
    ['Kimi 429 overloaded', 'kimi', 'error=429_overloaded'],
    ['Kimi 500', 'kimi', 'error=500'],
    ['GLM 1302 concurrency', 'glm', 'error=429_concurrency'],
    ['GLM 1303 frequency', 'glm', 'error=429_frequency'],
    ['GLM 500', 'glm', 'error=500'],
  ];
  for (const [name, provider, directive] of retried) {
    test(`${name}: retried, then succeeds; attempts counted`, async () => {
      h.mock.reset();
      // Kimi's rate-limit message says "try again after 1 seconds": honoured, so no Retry-After override here.
      const wait = directive === 'error=429_rate_limit' ? ' retryAfterMs=3' : '';
      const result = await h.supervisor.chat({ provider, messages: user(`[[mock ${directive} failTimes=2 key=${name.replaceAll(' ', '_')}${wait}]]`) });
      assert.equal(result.finishReason, 'stop');
      assert.equal(result.metadata.session.attempts, 3);
      assert.equal(h.mock.totalRequests, 3);
    });
  }

  test('retries stop at maxRetries with the last error', async () => {
    h.mock.reset();
    const error = await rejection(h.supervisor.chat({ provider: 'glm', prompt: '[[mock error=500 failTimes=10 key=exhaust]]' }));
    assert.equal(error.code, 'ERR_PROVIDER');
    assert.equal(error['status'], 500);
    assert.equal(error['retryable'], true);
    assert.equal(h.mock.totalRequests, 3);
  });

  test('a Retry-After longer than the time left ends the session instead of sleeping past its deadline', async () => {
    h.mock.reset();
    const error = await rejection(
      h.supervisor.chat({ provider: 'kimi', messages: user('[[mock status=429 error=429_overloaded retryAfter=60]]'), timeoutMs: 5000 }),
    );
    assert.equal(error.code, 'ERR_PROVIDER');
    assert.equal(h.mock.totalRequests, 1);
  });

  test('a malformed body is ERR_PROVIDER_RESPONSE', async () => {
    const error = await rejection(h.supervisor.chat({ provider: 'kimi', messages: user('[[mock garbage=body]]') }));
    assert.equal(error.code, 'ERR_PROVIDER_RESPONSE');
  });

  test('a connection reset is retried as a connection error', async () => {
    h.mock.reset();
    const error = await rejection(h.supervisor.chat({ provider: 'glm', prompt: '[[mock reset=before]]' }));
    assert.equal(error.code, 'ERR_PROVIDER');
    assert.equal(error['providerCode'], 'connection_error');
    assert.equal(h.mock.totalRequests, 3);
  });

  test('every retry is counted in stats and announced as a retry event', async () => {
    assert.ok(h.supervisor.stats().retried >= 12);
    const events: Array<{ attempt: number; error: { code: string }; requestId: string }> = [];
    h.supervisor.on('retry', (e) => events.push(e));
    await h.supervisor.chat({ provider: 'glm', prompt: '[[mock status=503 failTimes=2 key=announced]]', requestId: 'announced' });
    assert.deepEqual(
      events.map((e) => [e.requestId, e.attempt, e.error.code]),
      [
        ['announced', 2, 'ERR_PROVIDER'],
        ['announced', 3, 'ERR_PROVIDER'],
      ],
    );
  });
});
