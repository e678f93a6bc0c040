// The mock's load-test knobs: a deterministic error rate and pacing by tokens per second.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { failsAtRate, parseMockDirective } from '../../src/apps/mock/behaviour.ts';
import { planResponse, streamInterval } from '../../src/apps/mock/plan.ts';
import { startMockProvider, type MockProvider } from '../../src/apps/mock/server.ts';

let mock: MockProvider;
before(async () => {
  mock = await startMockProvider();
});
after(() => mock.close());

const post = (body: object) =>
  fetch(`${mock.baseURL('openai')}/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

test('errorRate fails a fixed pattern with exactly that rate: 0.1 is every 10th, 0.25 every 4th, 0 never, 1 always', () => {
  const failing = (rate: number, n: number) => Array.from({ length: n }, (_, i) => i + 1).filter((k) => failsAtRate(k, rate));
  assert.deepEqual(failing(0.1, 40), [10, 20, 30, 40]);
  assert.deepEqual(failing(0.25, 12), [4, 8, 12]);
  assert.equal(failing(0.3, 1000).length, 300);
  assert.equal(failing(0.07, 1000).length, 70);
  assert.deepEqual(failing(0, 50), []);
  assert.equal(failing(1, 50).length, 50);
});

test('over HTTP, errorRate=0.1 status=429 fails the 10th and 20th request of its key, and keys count apart', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++)
    statuses.push((await post({ model: 'm', messages: [{ role: 'user', content: 'hi [[mock errorRate=0.1 status=429 key=a]]' }] })).status);
  assert.deepEqual(
    statuses.flatMap((s, i) => (s === 429 ? [i + 1] : [])),
    [10, 20],
  );
  const other = await post({ model: 'm', messages: [{ role: 'user', content: 'hi' }], mock: { errorRate: 0.1, status: 429, key: 'b' } });
  assert.equal(other.status, 200, 'key b starts its own count');
  await other.text();
});

test('tokensPerSec paces a stream: the interval between SSE events is the words per chunk ÷ the rate', () => {
  assert.deepEqual(parseMockDirective('[[mock tokensPerSec=50 errorRate=0.2]]'), { tokensPerSec: 50, errorRate: 0.2 });
  assert.equal(streamInterval({ tokensPerSec: 100 }, 10, 5), 20);
  assert.equal(streamInterval({ tokensPerSec: 100, chunkDelayMs: 3 }, 10, 5), 3, 'chunkDelayMs wins');
  assert.equal(streamInterval({}, 10, 5), undefined);
  const plan = planResponse({
    dialect: 'openai',
    seq: 1,
    headers: {},
    fail: false,
    nextCallId: () => 1,
    body: { model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] },
    behaviour: { tokensPerSec: 200, completionTokens: 20, chunks: 10 },
  });
  assert.equal(plan.intervalMs, 10);
});

test('a stream paced at tokensPerSec takes at least its tokens ÷ the rate', async () => {
  const started = performance.now();
  const response = await post({
    model: 'm',
    stream: true,
    messages: [{ role: 'user', content: 'x' }],
    mock: { tokensPerSec: 200, completionTokens: 20, chunks: 10 },
  });
  const text = await response.text();
  const elapsed = performance.now() - started;
  assert.equal(text.match(/"content":"[^"]+"/g)?.length, 10);
  // 10 content chunks plus the role, finish and [DONE] events: 12 intervals of 10 ms at least (timers may fire 1 ms early).
  assert.ok(elapsed >= 12 * 10 - 2, `${elapsed} ms`);
});
