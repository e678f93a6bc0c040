import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideRetry } from '../../src/worker/call/retry.ts';
import { isRetryableStatus, retryAfterMsOf } from '../../src/worker/providers/errors.ts';

const settings = { maxRetries: 2, baseDelayMs: 100, maxDelayMs: 1000 };
const failure = (retryable: boolean, retryAfterMs?: number) => ({
  error: { code: 'ERR_PROVIDER', name: 'ProviderError', message: 'x', retryable },
  ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
});

test('what is retryable, by dialect, status and provider code', () => {
  const table: Array<[Parameters<typeof isRetryableStatus>, boolean]> = [
    [[429, 'rate_limit_reached_error', 'kimi'], true],
    [[429, 'engine_overloaded_error', 'kimi'], true],
    [[429, 'exceeded_current_quota_error', 'kimi'], false],
    [[500, 'server_error', 'kimi'], true],
    [[502, undefined, 'kimi'], true],
    [[400, 'invalid_request_error', 'kimi'], false],
    [[401, 'invalid_authentication_error', 'kimi'], false],
    [[403, undefined, 'kimi'], false],
    [[404, 'resource_not_found_error', 'kimi'], false],
    [[429, '1302', 'glm'], true],
    [[429, '1303', 'glm'], true],
    [[429, '1305', 'glm'], true],
    [[500, '500', 'glm'], true],
    [[503, undefined, 'glm'], true],
    [[503, '503', 'glm'], true],
    [[502, '1234', 'glm'], true],
    [[429, '1113', 'glm'], false],
    [[400, '1301', 'glm'], false],
    [[429, '1304', 'glm'], false],
    [[401, '1002', 'glm'], false],
    [[400, '1211', 'glm'], false],
    [[429, undefined, 'openai'], true],
    [[429, 'insufficient_quota', 'openai'], false],
    [[500, undefined, 'openai'], true],
    [[400, undefined, 'openai'], false],
    [[404, undefined, 'openai'], false],
  ];
  for (const [args, expected] of table) assert.equal(isRetryableStatus(...args), expected, JSON.stringify(args));
});

test('how long the provider asked to wait', () => {
  const h = (entries: Record<string, string>) => new Headers(entries);
  assert.equal(retryAfterMsOf(h({ 'retry-after-ms': '250' }), ''), 250);
  assert.equal(retryAfterMsOf(h({ 'retry-after': '3' }), ''), 3000);
  assert.equal(retryAfterMsOf(h({ 'retry-after': new Date(10_000).toUTCString() }), '', 4_000), 6000);
  assert.equal(retryAfterMsOf(h({ 'retry-after-ms': '250', 'retry-after': '3' }), ''), 250, 'the precise header wins');
  assert.equal(retryAfterMsOf(undefined, 'request reached organization max RPM: 3, please try again after 7 seconds'), 7000);
  assert.equal(retryAfterMsOf(h({}), 'no hint here'), undefined);
});

test('never retry what cannot succeed; stop after maxRetries', () => {
  assert.deepEqual(decideRetry(failure(false), 1, settings, 60_000), { retry: false, reason: 'not-retryable' });
  assert.equal(decideRetry(failure(true), 1, settings, 60_000).retry, true);
  assert.equal(decideRetry(failure(true), 2, settings, 60_000).retry, true);
  assert.deepEqual(decideRetry(failure(true), 3, settings, 60_000), { retry: false, reason: 'exhausted' });
});

test('jittered exponential backoff, half fixed half random, capped by maxDelayMs', () => {
  const at = (attempt: number, random: number) => decideRetry(failure(true), attempt, { ...settings, maxRetries: 10 }, 60_000, () => random);
  assert.deepEqual(
    [at(1, 0), at(1, 1)],
    [
      { retry: true, delayMs: 50 },
      { retry: true, delayMs: 100 },
    ],
  );
  assert.deepEqual(
    [at(2, 0), at(2, 1)],
    [
      { retry: true, delayMs: 100 },
      { retry: true, delayMs: 200 },
    ],
  );
  assert.deepEqual([at(3, 0.5)], [{ retry: true, delayMs: 300 }]);
  assert.deepEqual(
    [at(8, 0), at(8, 1)],
    [
      { retry: true, delayMs: 500 },
      { retry: true, delayMs: 1000 },
    ],
  );
});

test("the provider's own wait is honoured, but never past the deadline", () => {
  assert.deepEqual(
    decideRetry(failure(true, 7000), 1, settings, 60_000, () => 0),
    { retry: true, delayMs: 7000 },
  );
  assert.deepEqual(
    decideRetry(failure(true, 7000), 1, settings, 6999, () => 0),
    { retry: false, reason: 'deadline' },
  );
  assert.deepEqual(
    decideRetry(failure(true), 1, settings, 10, () => 1),
    { retry: false, reason: 'deadline' },
  );
});

test("refusals in a row spread the provider's wait over a window that doubles up to 2 s, never below the wait, cut at the deadline", () => {
  const at = (attempt: number, random: number, remainingMs = 600_000) =>
    decideRetry(failure(true, 100), attempt, { ...settings, maxRetries: 20 }, remainingMs, () => random);
  const delay = (attempt: number, random: number) => {
    const decision = at(attempt, random);
    return decision.retry ? decision.delayMs : Number.NaN;
  };
  assert.deepEqual(
    [1, 2, 3, 4].map((attempt) => delay(attempt, 0)),
    [100, 100, 100, 100],
    'never sooner than asked',
  );
  assert.deepEqual(
    [1, 2, 3, 4].map((attempt) => delay(attempt, 1)),
    [200, 400, 800, 1600],
    'the window doubles',
  );
  assert.equal(delay(2, 0.5), 250);
  assert.equal(delay(15, 1), 2100, 'spread by 2 s at most');
  assert.deepEqual(at(10, 1, 1500), { retry: true, delayMs: 1499 }, 'the spread stops at the deadline');
  assert.deepEqual(at(10, 1, 100), { retry: false, reason: 'deadline' }, 'the wait itself does not');
  // Many callers told the same wait come back spread out, not together.
  const draws = Array.from({ length: 100 }, (_, i) => delay(3, i / 100));
  assert.ok(new Set(draws).size > 90);
});
