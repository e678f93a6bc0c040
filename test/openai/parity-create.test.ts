// Parity, part 1: `chat.completions.create()` as the openai SDK's README shows it (a completion, a
// stream, errors, retries, timeouts, cancellation, per-request options), run unchanged against the
// plain SDK and `supervisor.openai()` on the same mock; values, errors and where they are thrown must match.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { sessionOf } from '../../src/index.ts';
import { attempt, bench, describeError, plain, type Bench, type Json } from './parity-support.ts';

describe('parity: create() and streaming, as in the openai README', () => {
  let b: Bench;
  before(async () => {
    b = await bench();
  });
  after(() => b.h.close());

  test('README: a chat completion (developer + user messages)', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const completion = await client.chat.completions.create({
        model: 'gpt-5.5',
        messages: [
          { role: 'developer', content: 'Talk like a pirate.' },
          { role: 'user', content: 'Are semicolons optional in JavaScript?' },
        ],
      });
      return { completion: plain(completion), content: completion.choices[0]?.message.content, requestId: completion._request_id?.startsWith('req_mock_') };
    });
    assert.deepEqual(pool, sdk);
    assert.equal(sdk.requestId, true);
  });

  test('README: streaming chunks with for await, then the content they add up to', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const stream = await client.chat.completions.create({
        model: 'gpt-5.5',
        messages: [{ role: 'user', content: 'Say "Sheep sleep deep" ten times fast!' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: Json;
      const finishes: Json[] = [];
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content || '';
        if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
        if (chunk.usage) usage = chunk.usage;
        if (chunk.object !== 'chat.completion.chunk') throw new Error(`not a chunk: ${chunk.object}`);
      }
      return { text, usage, finishes, isStream: typeof stream.tee === 'function' && typeof stream.toReadableStream === 'function' };
    });
    assert.deepEqual(pool, sdk);
    assert.ok(sdk.text.length > 20);
  });

  test('stream.tee() and toReadableStream(): the SDK Stream methods', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const stream = await client.chat.completions.create({ model: 'gpt-5.5', messages: [{ role: 'user', content: 'Tee me' }], stream: true });
      const [left, right] = stream.tee();
      const read = async (s: AsyncIterable<OpenAI.ChatCompletionChunk>) => {
        let text = '';
        for await (const chunk of s) text += chunk.choices[0]?.delta?.content ?? '';
        return text;
      };
      const [a, c] = await Promise.all([read(left), read(right)]);
      const again = await client.chat.completions.create({ model: 'gpt-5.5', messages: [{ role: 'user', content: 'Readable me' }], stream: true });
      const lines = (await new Response(again.toReadableStream() as ReadableStream).text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      return { a, same: a === c, text: lines.map((l) => l.choices[0]?.delta?.content ?? '').join('') };
    });
    assert.deepEqual(pool, sdk);
  });

  test('README cancellation: stream.controller.abort() inside for await ends the loop quietly', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const stream = await client.chat.completions.create({
        model: 'gpt-5.5',
        messages: [{ role: 'user', content: 'A long story [[mock chunks=40 chunkDelayMs=10]]' }],
        stream: true,
      });
      let received = 0;
      const loop = await attempt('loop', async () => {
        for await (const chunk of stream) {
          if (chunk.choices[0]?.delta?.content) received++;
          if (received === 3) stream.controller.abort();
        }
        return 'ended';
      });
      return { loop, aborted: stream.controller.signal.aborted, stoppedEarly: received >= 3 && received < 40 };
    });
    assert.deepEqual(pool, sdk);
    assert.deepEqual(sdk.loop, { loop: 'ended' });
    await b.h.mock.waitForClosed(2);
  });

  test('leaving the loop with break aborts the request, as in the SDK', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const stream = await client.chat.completions.create({
        model: 'gpt-5.5',
        messages: [{ role: 'user', content: 'A long story [[mock chunks=40 chunkDelayMs=10]]' }],
        stream: true,
      });
      for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) break;
      return { aborted: stream.controller.signal.aborted };
    });
    assert.deepEqual(pool, sdk);
  });

  test("the caller's signal, aborted mid-stream, also ends the loop quietly", async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const controller = new AbortController();
      const stream = await client.chat.completions.create(
        { model: 'gpt-5.5', messages: [{ role: 'user', content: 'Slow [[mock chunks=40 chunkDelayMs=10]]' }], stream: true },
        { signal: controller.signal },
      );
      const loop = await attempt('loop', async () => {
        let n = 0;
        for await (const _ of stream) if (++n === 2) controller.abort();
        return 'ended';
      });
      return { loop, aborted: stream.controller.signal.aborted };
    });
    assert.deepEqual(pool, sdk);
  });

  test('README cancellation: a signal aborted before the answer rejects create() with APIUserAbortError', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const controller = new AbortController();
      const pending = client.chat.completions.create(
        { model: 'gpt-5.5', messages: [{ role: 'user', content: 'Never answered [[mock hang]]' }] },
        { signal: controller.signal },
      );
      setTimeout(() => controller.abort(), 50);
      const streamed = client.chat.completions.create(
        { model: 'gpt-5.5', messages: [{ role: 'user', content: 'Never answered [[mock hang]]' }], stream: true },
        { signal: AbortSignal.timeout(80) },
      );
      return { ...(await attempt('create', () => pending)), ...(await attempt('stream', () => streamed)) };
    });
    assert.deepEqual(pool, sdk);
    assert.equal(sdk.create.threw.class, 'APIUserAbortError');
  });

  for (const status of [400, 401, 403, 404, 409, 422, 429, 500]) {
    test(`README errors: HTTP ${status} rejects create() with the SDK's class, status, error body, code and type`, async () => {
      const [sdk, pool] = await b.both(async (client) => {
        const body = { model: 'gpt-5.5', messages: [{ role: 'user' as const, content: `fail [[mock status=${status}]]` }] };
        const viaCatch = await client.chat.completions.create(body, { maxRetries: 0 }).catch(async (err) => {
          if (err instanceof OpenAI.APIError) return { requestID: typeof err.requestID, status: err.status, headers: err.headers instanceof Headers };
          throw err;
        });
        return { viaCatch, ...(await attempt('create', () => client.chat.completions.create(body, { maxRetries: 0 }))) };
      });
      assert.deepEqual(pool, sdk);
      assert.equal(sdk.create.threw.status, status);
    });
  }

  for (const status of [400, 401, 429]) {
    test(`stream: true and HTTP ${status}: create() itself rejects (the caller's try/catch sees it), as in the SDK`, async () => {
      const [sdk, pool] = await b.both(async (client) => {
        let stage = 'before';
        try {
          const stream = await client.chat.completions.create(
            { model: 'gpt-5.5', messages: [{ role: 'user', content: `fail [[mock status=${status}]]` }], stream: true },
            { maxRetries: 0 },
          );
          stage = 'iterating';
          for await (const _ of stream) stage = 'chunk';
          return { stage };
        } catch (error) {
          return { stage, error: describeError(error) };
        }
      });
      assert.deepEqual(pool, sdk);
      assert.equal(sdk.stage, 'before');
    });
  }

  test('README retries: a 429 is retried maxRetries times, then create() rejects with RateLimitError', async () => {
    b.h.mock.reset();
    const [sdk, pool] = await b.both(async (client) => {
      const before = b.h.mock.requests.length;
      const result = await attempt('create', () =>
        client.chat.completions.create(
          { model: 'gpt-5.5', messages: [{ role: 'user', content: 'busy [[mock status=429 retryAfterMs=5]]' }], stream: true },
          { maxRetries: 1 },
        ),
      );
      return { ...result, requests: b.h.mock.requests.length - before };
    });
    assert.deepEqual(pool, sdk);
    assert.equal(sdk.requests, 2);
    assert.equal(sdk.create.threw.class, 'RateLimitError');
  });

  test('a retry that succeeds: create() resolves with the answer of the second call', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const key = Math.random().toString(36).slice(2);
      const completion = await client.chat.completions.create(
        { model: 'gpt-5.5', messages: [{ role: 'user', content: `flaky [[mock status=503 failTimes=1 retryAfterMs=5 key=${key}]]` }] },
        { maxRetries: 2 },
      );
      return completion.choices[0]?.message.content?.replace(key, 'KEY');
    });
    assert.deepEqual(pool, sdk);
  });

  test('an error inside a 200 stream: the iterator throws the SDK APIError (no status)', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const stream = await client.chat.completions.create(
        { model: 'gpt-5.5', messages: [{ role: 'user', content: 'Broken [[mock streamError=500_server streamErrorAfter=3]]' }], stream: true },
        { maxRetries: 0 },
      );
      let text = '';
      const loop = await attempt('loop', async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      });
      return { loop, gotText: text.length > 0 };
    });
    assert.deepEqual(pool, sdk);
    assert.equal(sdk.loop.loop.threw.class, 'APIError');
  });

  test('README timeouts: a per-request timeout rejects with APIConnectionTimeoutError', async () => {
    const [sdk, pool] = await b.both((client) =>
      attempt('create', () =>
        client.chat.completions.create(
          { model: 'gpt-5.5', messages: [{ role: 'user', content: 'Never answered [[mock hang]]' }] },
          { timeout: 150, maxRetries: 0 },
        ),
      ),
    );
    assert.deepEqual(pool, sdk);
    assert.equal(sdk.create.threw.class, 'APIConnectionTimeoutError');
  });

  test('per-request options: query and headers reach the provider', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      b.h.mock.reset();
      await client.chat.completions.create(
        { model: 'gpt-5.5', messages: [{ role: 'user', content: 'With options' }] },
        { query: { 'api-version': '2024-10-21' }, headers: [['x-tenant', 't1']], maxRetries: 1 },
      );
      await client.chat.completions.create(
        { model: 'gpt-5.5', messages: [{ role: 'user', content: 'With options' }] },
        { headers: new Headers({ 'x-tenant': 't2' }), timeout: 30_000 },
      );
      await client.chat.completions.create(
        { model: 'gpt-5.5', messages: [{ role: 'user', content: 'With options' }] },
        { headers: { 'x-tenant': 't3', 'x-dropped': null } },
      );
      const [first, second, third] = b.h.mock.requests;
      return {
        query: first?.query,
        tenants: [first?.headers['x-tenant'], second?.headers['x-tenant'], third?.headers['x-tenant']],
        dropped: 'x-dropped' in (third?.headers ?? {}),
        bodies: [first?.body, second?.body],
      };
    });
    assert.deepEqual(pool, sdk);
    assert.deepEqual(sdk.query, { 'api-version': '2024-10-21' });
  });

  test('idempotencyKey: accepted, and the pool uses it as the session requestId', async () => {
    const completion = await b.pool.chat.completions.create(
      { model: 'gpt-5.5', messages: [{ role: 'user', content: 'Once' }] },
      { idempotencyKey: 'order-42' },
    );
    assert.equal(sessionOf(completion)?.requestId, 'order-42');
    const viaSdk = await b.sdk.chat.completions.create({ model: 'gpt-5.5', messages: [{ role: 'user', content: 'Once' }] }, { idempotencyKey: 'order-42' });
    assert.equal(plain(viaSdk).choices[0].message.content, plain(completion).choices[0].message.content);
  });

  test('options the pool cannot honour are refused with ERR_INVALID_REQUEST naming them, never dropped', async () => {
    const refused: Array<[string, Json]> = [
      ['fetchOptions', { fetchOptions: { keepalive: true } }],
      ['defaultBaseURL', { defaultBaseURL: 'http://elsewhere.invalid' }],
      ['path', { path: '/other' }],
      ['method', { method: 'get' }],
      ['body', { body: {} }],
      ['stream', { stream: true }],
      ['__binaryResponse', { __binaryResponse: true }],
      ['sideways', { sideways: 1 }],
    ];
    for (const [name, options] of refused) {
      const error = (await b.pool.chat.completions
        .create({ model: 'gpt-5.5', messages: [{ role: 'user', content: 'Hi' }] }, options)
        .catch((e: unknown) => e)) as {
        code?: string;
        message?: string;
      };
      assert.equal(error.code, 'ERR_INVALID_REQUEST', name);
      assert.match(error.message ?? '', new RegExp(`\`${name}\``), name);
    }
  });
});
