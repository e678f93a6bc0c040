import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSupervisor, type ChatRequest, type RetryEvent, type StartedEvent } from '../../src/index.ts';
import { harness, rejection, user, type Harness } from '../support/helpers.ts';

const HANDLERS = new URL('../fixtures/handlers.ts', import.meta.url);

function thrown(fn: () => unknown): Error & { code?: string; issues?: string[] } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

describe('bad data that used to get past validation', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  const cycle: Record<string, unknown> = { a: 1 };
  cycle['self'] = cycle;
  const sym = Symbol('s');
  // Hostile shapes on purpose: typed loosely.
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a cycle in extra', { extra: cycle }, /`extra(\.self)+`: expected JSON data, got a cycle/],
    ['a BigInt in extra', { extra: { n: 10n } }, /`extra\.n`: expected JSON data, got a BigInt/],
    ['a Symbol in extra', { extra: { s: sym } }, /`extra\.s`: expected JSON data, got a Symbol/],
    ['a cycle in tools', { tools: [{ type: 'function', function: cycle }] }, /`tools\[0\]\.function\.self`: expected JSON data, got a cycle/],
    ['a BigInt in tools', { tools: [{ type: 'function', n: 1n }] }, /`tools\[0\]\.n`: expected JSON data, got a BigInt/],
    [
      'a function in a content part',
      { messages: [{ role: 'user', content: [{ type: 'text', text: 'x', f: () => 1 }] }] },
      /`messages\[0\]\.content\[0\]\.f`: expected JSON data, got a function/,
    ],
    [
      'a cycle in a content part',
      { messages: [{ role: 'user', content: [{ type: 'text', text: 'x', c: cycle }] }] },
      /`messages\[0\]\.content\[0\]\.c\.self`: expected JSON data, got a cycle/,
    ],
    ['a BigInt in toolChoice', { toolChoice: { type: 'function', n: 2n } }, /`toolChoice\.n`: expected JSON data, got a BigInt/],
    ['a Symbol in webSearch', { webSearch: { s: sym } }, /`webSearch\.s`: expected JSON data, got a Symbol/],
    ['a cycle in webSearch', { webSearch: cycle }, /`webSearch(\.self)+`: expected JSON data, got a cycle/],
    ['a Map in extra', { extra: { m: new Map([[1, 2]]) } }, /`extra\.m`: expected JSON data, got Map/],
    ['a function in metadata', { metadata: { f: () => 1 } }, /`metadata\.f`: expected JSON data, got a function/],
    ['a line break in cache.id', { cache: { id: 'abc\r\nX-Evil: 1' } }, /`cache\.id`: contains a line break/],
    ['non-Latin-1 in cache.id', { cache: { id: 'cache-ключ' } }, /`cache\.id`: contains characters beyond Latin-1/],
  ];
  for (const [name, fields, message] of cases) {
    test(`${name}: ERR_INVALID_REQUEST naming the field, before admission`, async () => {
      const request = { provider: 'kimi', messages: user('x'), ...fields } as ChatRequest;
      const error = await rejection(h.supervisor.chat(request));
      assert.equal(error.code, 'ERR_INVALID_REQUEST');
      assert.match(error.message, message);
      assert.equal(thrown(() => h.supervisor.stream(request)).code, 'ERR_INVALID_REQUEST');
    });
  }

  test('a function or a Symbol as execute input: ERR_INVALID_REQUEST, nothing run, no crash counted', async () => {
    for (const input of [() => 1, sym, { nested: [() => 2] }]) {
      const error = await rejection(h.supervisor.execute({ handler: HANDLERS, name: 'double', input }));
      assert.equal(error.code, 'ERR_INVALID_REQUEST');
      assert.match(error.message, /`input`: expected plain JSON-like data/);
    }
  });

  test('a directory as handler is refused', async () => {
    const error = await rejection(h.supervisor.execute({ handler: new URL('../fixtures/', import.meta.url), input: 1 }));
    assert.equal(error.code, 'ERR_INVALID_REQUEST');
    assert.match(error.message, /`handler`: expected an existing module file.*directory/);
  });

  test('none of it reached the provider or a worker', () => {
    assert.equal(h.mock.totalRequests, 0);
    const stats = h.supervisor.stats();
    assert.equal(stats.admitted, 0);
    assert.equal(stats.crashed, 0);
  });
});

describe('header values, keys and URLs are checked without being quoted', () => {
  const secret = 'sk-secret-header-value-42';
  const options = (provider: Record<string, unknown>) => ({
    threads: 1,
    logger: false as const,
    providers: { custom: { baseURL: 'http://127.0.0.1:9/v1', apiKey: 'sk-fine-key-000', ...provider } },
  });
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'CR/LF in a header value',
      { headers: { 'x-api-key': `${secret}\r\nX-Evil: 1` } },
      /`providers\.custom\.headers\.x-api-key`: the value contains a line break/,
    ],
    ['non-Latin-1 in a header value', { headers: { 'x-api-key': `${secret}€` } }, /beyond Latin-1/],
    ['a bad header name', { headers: { 'bad name': 'v' } }, /expected header names/],
    ['CR/LF in apiKey', { apiKey: `${secret}\n` }, /`providers\.custom\.apiKey`: contains a line break/],
    ['a number as apiKey', { apiKey: 123456789 }, /`providers\.custom\.apiKey`: expected string, got a value of type number/],
    ['credentials in baseURL', { baseURL: `https://user:${secret}@example.test/v1` }, /`providers\.custom\.baseURL`: expected a URL without credentials/],
    ['credentials in a baseURL that is not valid', { baseURL: `ftp://user:${secret}@example.test/v1` }, /`providers\.custom\.baseURL`.*\/\/\[credentials\]@/],
  ];
  for (const [name, provider, message] of cases) {
    test(`${name}: ERR_INVALID_REQUEST, and the value is not in the message`, () => {
      const error = thrown(() => createSupervisor(options(provider) as never));
      assert.equal(error.code, 'ERR_INVALID_REQUEST');
      assert.match(error.message, message);
      assert.ok(!error.message.includes(secret) && !error.message.includes('123456789'), error.message);
    });
  }

  test('a key from the environment with a line break: ERR_INVALID_REQUEST when a session uses it', async () => {
    const saved = process.env['OPENAI_API_KEY'];
    process.env['OPENAI_API_KEY'] = `${secret}\n`;
    const supervisor = createSupervisor({ threads: 1, logger: false, providers: { openai: { baseURL: 'http://127.0.0.1:9/v1' } } });
    try {
      const error = await rejection(supervisor.chat({ provider: 'openai', prompt: 'x' }));
      assert.equal(error.code, 'ERR_INVALID_REQUEST');
      assert.match(error.message, /API key of "openai" contains a line break/);
      assert.ok(!error.message.includes(secret));
    } finally {
      if (saved === undefined) delete process.env['OPENAI_API_KEY'];
      else process.env['OPENAI_API_KEY'] = saved;
      await supervisor.close();
    }
  });
});

describe('close() options', () => {
  test('Infinity, 3e9, NaN, -5 and "soon": refused with ERR_INVALID_REQUEST (Infinity waits); nothing is closed by a refusal', async () => {
    const h = await harness();
    try {
      for (const timeoutMs of [3e9, NaN, -5, 'soon', null]) {
        const error = await rejection(h.supervisor.close({ timeoutMs } as never));
        assert.equal(error.code, 'ERR_INVALID_REQUEST', String(timeoutMs));
      }
      assert.equal((await rejection(h.supervisor.close(5 as never))).code, 'ERR_INVALID_REQUEST');
      const running = h.supervisor.chat({ provider: 'kimi', messages: user('[[mock latencyMs=300]]') });
      await h.mock.waitForRequests(1);
      // Infinity: no abort at all; the running session finishes on its own.
      const report = await h.supervisor.close({ timeoutMs: Infinity });
      assert.equal((await running).finishReason, 'stop');
      assert.equal(report.aborted, 0);
      assert.equal(report.finishedDuringClose, 1);
    } finally {
      await h.mock.close();
    }
  });

  test('close(null) closes with the default timeout', async () => {
    const h = await harness();
    const report = await h.supervisor.close(null);
    assert.equal(report.aborted, 0);
    await h.mock.close();
  });
});

describe('resourceLimits', () => {
  test('limits a worker cannot run with are refused; the minimum runs a session', async () => {
    for (const resourceLimits of [{ maxOldGenerationSizeMb: 1 }, { maxOldGenerationSizeMb: 12 }, { maxYoungGenerationSizeMb: 1 }, { stackSizeMb: 0 }]) {
      const error = thrown(() => createSupervisor({ logger: false, resourceLimits }));
      assert.equal(error.code, 'ERR_INVALID_REQUEST', JSON.stringify(resourceLimits));
      assert.match(error.message, /resourceLimits\.\w+`: Too small/);
    }
    const h = await harness({ supervisor: { threads: 1, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 } } });
    try {
      await h.supervisor.ready();
      assert.equal((await h.supervisor.chat({ provider: 'kimi', messages: user('x') })).finishReason, 'stop');
    } finally {
      await h.close();
    }
  });
});

describe('stream() validates like chat()', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  test('a bad signal, null, or any invalid request: the same ERR_INVALID_REQUEST, thrown by stream() itself', async () => {
    for (const request of [
      null,
      undefined,
      42,
      { provider: 'kimi', messages: user('x'), signal: 'stop' },
      { provider: 'nope', prompt: 'x' },
      { provider: 'kimi' },
    ]) {
      const chatError = await rejection(h.supervisor.chat(request as never));
      const streamError = thrown(() => h.supervisor.stream(request as never));
      assert.equal(chatError.code, 'ERR_INVALID_REQUEST', JSON.stringify(request));
      assert.equal(streamError.code, 'ERR_INVALID_REQUEST', JSON.stringify(request));
      assert.equal(streamError.message, chatError.message);
    }
    assert.equal(h.mock.totalRequests, 0);
  });

  test("a caller's onDelta is called too, with the same text the iterator yields", async () => {
    const seen: string[] = [];
    let streamed = '';
    let content = '';
    for await (const event of h.supervisor.stream({ provider: 'glm', prompt: 'hello [[mock chunks=8]]', onDelta: (t) => seen.push(t) })) {
      if (event.type === 'delta') streamed += event.text;
      else if (event.type === 'result') content = event.result.content;
    }
    assert.ok(content.length > 0);
    assert.equal(streamed, content);
    assert.equal(seen.join(''), content);
  });
});

test('metadata comes back on the result and on every event of the session, and is never sent to the provider', async () => {
  const h = await harness();
  const started: StartedEvent[] = [];
  const retries: RetryEvent[] = [];
  h.supervisor.on('started', (e) => started.push(e));
  h.supervisor.on('retry', (e) => retries.push(e));
  const metadata = { jobId: 'job-7', tags: ['a', 'b'] };
  await h.supervisor.ready();
  try {
    const result = await h.supervisor.chat({ provider: 'kimi', messages: user('hi [[mock failTimes=1 status=500 key=meta]]'), metadata });
    assert.deepEqual(result.metadata['request'], metadata);
    const mine = h.transitions.filter((e) => e.sessionId === result.metadata.session.sessionId);
    assert.deepEqual(
      mine.map((e) => e.to),
      ['created', 'processing', 'completed', 'released'],
    );
    assert.equal(retries.length, 1);
    for (const request of h.mock.requests) assert.ok(!JSON.stringify(request.body).includes('job-7'));
    // An execute session always reports its start (a chat's start report may race the listener's turning on).
    const executed = await h.supervisor.execute({ handler: HANDLERS, name: 'double', input: { n: 2 }, metadata });
    assert.deepEqual(executed.metadata['request' as 'session'], metadata);
    assert.ok(started.some((e) => e.sessionId === executed.metadata.session.sessionId));
    for (const event of [...mine, ...started, ...retries]) assert.deepEqual(event.metadata, metadata);
  } finally {
    await h.close();
  }
});
