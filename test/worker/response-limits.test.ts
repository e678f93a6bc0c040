// Nothing is unbounded by size: maxResponseBytes cuts bodies and streams (decoded bytes, so a gzip
// bomb stops early), and a slow stream() consumer holds back the worker's read of the provider.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { createSupervisor, ResponseTooLargeError } from '../../src/index.ts';
import { harness, rejection, user, type Harness } from '../support/helpers.ts';

/** Gzip members concatenated: `mib` MiB of JSON-ish zeros from a body of a few KiB. */
function gzipBomb(mib: number): Buffer {
  const member = gzipSync(Buffer.alloc(1024 * 1024, 0x20));
  return Buffer.concat([gzipSync('{"id":"x","choices":['), ...Array.from({ length: mib }, () => member)]);
}

const EXACT = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-exact',
    object: 'chat.completion',
    created: 1,
    model: 'kimi-k2',
    choices: [{ index: 0, message: { role: 'assistant', content: 'exactly framed' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
  }),
);

describe('maxResponseBytes', () => {
  let h: Harness;
  before(async () => {
    const bomb = gzipBomb(1024);
    h = await harness({
      mock: {
        behave: (r) => {
          const text = JSON.stringify(r.body?.messages);
          if (text.includes('scenario-exact'))
            return { rawBody: EXACT, headers: { 'content-type': 'application/json', 'content-length': String(EXACT.length) } };
          if (!text.includes('scenario-bomb')) return undefined;
          const headers: Record<string, string> = { 'content-type': 'application/json', 'content-encoding': 'gzip' };
          // Framed: a Content-Length of the few compressed KiB must not let the inflated body through.
          if (text.includes('framed')) headers['content-length'] = String(bomb.length);
          return { rawBody: bomb, headers };
        },
      },
    });
  });
  after(() => h.close());

  test('a body larger than the request asks for: ERR_RESPONSE_TOO_LARGE, not retried', async () => {
    h.mock.reset();
    const error = await rejection(h.supervisor.chat({ provider: 'kimi', messages: user('[[mock completionTokens=5000]]'), maxResponseBytes: 4096 }));
    assert.ok(error instanceof ResponseTooLargeError);
    assert.equal(error.code, 'ERR_RESPONSE_TOO_LARGE');
    assert.match(error.message, /more than maxResponseBytes \(4096\)/);
    assert.equal(h.mock.totalRequests, 1);
  });

  test('a stream past the limit fails the same way; under it, it completes', async () => {
    const error = await rejection(
      h.supervisor.chat({ provider: 'glm', prompt: '[[mock completionTokens=20000 chunks=200]]', maxResponseBytes: 64 * 1024, onDelta: () => {} }),
    );
    assert.equal(error.code, 'ERR_RESPONSE_TOO_LARGE');
    const ok = await h.supervisor.chat({ provider: 'glm', prompt: '[[mock completionTokens=200 chunks=20]]', maxResponseBytes: 64 * 1024, onDelta: () => {} });
    assert.equal(ok.finishReason, 'stop');
  });

  test('a gzip bomb (a few KiB inflating to 1 GiB) stops at the default 32 MiB with a typed error', async () => {
    const error = await rejection(h.supervisor.chat({ provider: 'kimi', messages: user('scenario-bomb') }));
    assert.equal(error.code, 'ERR_RESPONSE_TOO_LARGE');
    assert.match(error.message, /\(33554432\)/);
    // The session is over and released: nothing kept inflating.
    assert.equal(h.supervisor.stats().pool.running, 0);
  });

  test('a gzip bomb with a Content-Length (the compressed size) is cut all the same', async () => {
    const error = await rejection(h.supervisor.chat({ provider: 'kimi', messages: user('scenario-bomb framed') }));
    assert.equal(error.code, 'ERR_RESPONSE_TOO_LARGE');
  });

  test('a body of exactly maxResponseBytes completes; one byte fewer allowed fails', async () => {
    const ok = await h.supervisor.chat({ provider: 'kimi', messages: user('scenario-exact'), maxResponseBytes: EXACT.length });
    assert.equal(ok.content, 'exactly framed');
    const error = await rejection(h.supervisor.chat({ provider: 'kimi', messages: user('scenario-exact'), maxResponseBytes: EXACT.length - 1 }));
    assert.equal(error.code, 'ERR_RESPONSE_TOO_LARGE');
  });

  test('the option is validated', () => {
    for (const maxResponseBytes of [0, -1, 1.5, 2 ** 31, '1mb']) {
      assert.throws(() => createSupervisor({ logger: false, maxResponseBytes: maxResponseBytes as number }), { code: 'ERR_INVALID_REQUEST' });
    }
  });
});

test('back-pressure: a slow stream() consumer holds back the worker, so the main thread buffers at most a window', async () => {
  const h = await harness();
  try {
    // About 18 MB of answer text in 4,000 pieces, written by the mock as fast as the socket takes it.
    const prompt = '[[mock completionTokens=3000000 chunks=4000]]';
    let largest = 0;
    let total = 0;
    let reads = 0;
    let content = '';
    const finished = once(h.mock, 'finished');
    for await (const event of h.supervisor.stream({ provider: 'openai', messages: user(prompt), timeoutMs: 600_000 })) {
      if (event.type === 'result') {
        content = event.result.content;
        continue;
      }
      if (event.type !== 'delta') continue;
      largest = Math.max(largest, event.text.length);
      total += event.text.length;
      // A slow consumer: first it waits until the provider has written everything it could (or a
      // second), then it takes a timer tick per read. Without back-pressure the worker reads on
      // and the next delta holds megabytes; with it, never more than about a window.
      if (reads++ === 0) await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 1000))]);
      else await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.equal(total, content.length);
    assert.ok(content.length > 15_000_000, `a large answer (${content.length} chars)`);
    // The window is 64 Ki characters; a read may also hold the piece that crossed it (~4.5 K).
    assert.ok(largest <= 2 * 64 * 1024, `the largest delta held ${largest} characters`);
    console.log(`# back-pressure: ${content.length} chars in ${reads} reads, largest delta ${largest} chars`);
  } finally {
    await h.close();
  }
});
