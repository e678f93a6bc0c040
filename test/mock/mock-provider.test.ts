import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import kimiCompletion from '../../src/apps/mock/fixtures/kimi/chat-completion.json' with { type: 'json' };
import glmCompletion from '../../src/apps/mock/fixtures/glm/chat-completion.json' with { type: 'json' };
import { mergeBehaviours, parseMockDirective, startMockProvider } from '../../src/apps/mock/server.ts';
import type { MockBehaviour, MockDialect, MockProvider } from '../../src/apps/mock/server.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely in assertions
type Json = Record<string, any>;
type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk & Json;
const DIALECTS: MockDialect[] = ['kimi', 'glm', 'openai'];

function sdk(mock: MockProvider, dialect: MockDialect): OpenAI {
  return new OpenAI({ apiKey: 'test-key', baseURL: mock.baseURL(dialect), maxRetries: 0 });
}

function ask(text: string, mock?: MockBehaviour, extra: Json = {}): Json {
  return { model: 'test-model', messages: [{ role: 'user', content: text }], ...(mock ? { mock } : {}), ...extra };
}

async function complete(client: OpenAI, body: Json): Promise<Json> {
  return (await client.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming)) as Json;
}

async function streamChunks(client: OpenAI, body: Json): Promise<Chunk[]> {
  const stream = await client.chat.completions.create({ ...body, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming);
  const chunks: Chunk[] = [];
  for await (const chunk of stream) chunks.push(chunk as Chunk);
  return chunks;
}

const contentOf = (chunks: Chunk[]): string => chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
const contentDeltas = (chunks: Chunk[]): number => chunks.filter((c) => c.choices[0]?.delta?.content).length;

async function post(mock: MockProvider, dialect: MockDialect, body: unknown, headers: Json = {}, signal?: AbortSignal) {
  return fetch(`${mock.baseURL(dialect)}/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer test-key', 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
}

const json = async (res: Response): Promise<Json> => (await res.json()) as Json;

/** The `data:` payloads of a raw SSE response. */
async function rawEvents(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((e) => e.replace(/^data: /, ''));
}

describe('parseMockDirective', () => {
  test('numbers, booleans, bare flags and strings', () => {
    assert.deepEqual(parseMockDirective('hi [[mock latencyMs=200 chunks=50 lengthRounds=2 hang]] there'), {
      latencyMs: 200,
      chunks: 50,
      lengthRounds: 2,
      hang: true,
    });
    assert.deepEqual(parseMockDirective('[[mock noFinish=false finishReason=sensitive garbage=chunk]]'), {
      noFinish: false,
      finishReason: 'sensitive',
      garbage: 'chunk',
    });
  });

  test('string fields stay strings; quoted values; unknown and invalid fields are ignored', () => {
    const parsed = parseMockDirective('[[mock error=500 key=7 retryAfter=3 content="two words" reset=sideways bogus=1 chunks=x]]');
    assert.deepEqual(parsed, { error: '500', key: '7', retryAfter: '3', content: 'two words' });
    assert.deepEqual(parseMockDirective('no directive here'), {});
    assert.deepEqual(parseMockDirective('[[mock chunks=2]] and [[mock chunks=3 status=429]]'), { chunks: 3, status: 429 });
  });

  test('mergeBehaviours: later wins, undefined does not override, headers merge', () => {
    const merged = mergeBehaviours({ latencyMs: 5, headers: { a: '1' } }, undefined, { latencyMs: undefined, chunks: 2, headers: { b: '2' } });
    assert.deepEqual(merged, { latencyMs: 5, chunks: 2, headers: { a: '1', b: '2' } });
  });
});

describe('mock provider over HTTP', () => {
  let mock: MockProvider;
  before(async () => {
    mock = await startMockProvider();
  });
  after(() => mock.close());

  test('non-stream shapes per dialect follow the fixtures', async () => {
    const kimi = await complete(sdk(mock, 'kimi'), ask('What is one plus one?'));
    assert.equal(kimi.object, 'chat.completion');
    assert.equal(kimi.model, 'test-model');
    assert.equal(kimi.usage.cached_tokens, 0);
    assert.equal(kimi.usage.prompt_tokens, 5);
    assert.equal(kimi.usage.completion_tokens, 16);
    assert.equal(kimi.usage.total_tokens, 21);
    assert.match(kimi.choices[0].message.content, /^Answer to "What is one plus one\?" elit sed do/);
    assert.equal(kimi.choices[0].message.content.split(' ').length, 16);
    assert.ok(!('reasoning_content' in kimi.choices[0].message));
    for (const key of Object.keys(kimiCompletion)) assert.ok(key in kimi, `kimi body has ${key}`);
    for (const key of Object.keys(kimiCompletion.usage)) assert.ok(key in kimi.usage, `kimi usage has ${key}`);

    const glm = await complete(sdk(mock, 'glm'), ask('What is one plus one?', { reasoning: 'think' }));
    assert.ok(!('object' in glm));
    assert.equal(glm.request_id, glm.id);
    assert.equal(glm.usage.prompt_tokens_details.cached_tokens, 0);
    assert.equal(glm.choices[0].message.reasoning_content, 'think');
    assert.deepEqual(Object.keys(glm).sort(), Object.keys(glmCompletion).sort());
    assert.deepEqual(Object.keys(glm.usage).sort(), Object.keys(glmCompletion.usage).sort());

    const openai = await complete(sdk(mock, 'openai'), { messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(openai.object, 'chat.completion');
    assert.equal(openai.model, 'mock-model');
    assert.ok(!('cached_tokens' in openai.usage));
    assert.match(openai.choices[0].message.content, /^Answer to "hi" sit amet/);
    assert.equal(openai.choices[0].message.content.split(' ').length, 16);
  });

  test('streams: deltas concatenate to the non-stream text, in each dialect shape', async () => {
    for (const dialect of DIALECTS) {
      const body = ask('Tell me a story about streams', { completionTokens: 12 }, { stream_options: { include_usage: true } });
      const whole = await complete(sdk(mock, dialect), body);
      const chunks = await streamChunks(sdk(mock, dialect), body);
      assert.equal(contentOf(chunks), whole.choices[0].message.content, dialect);
      assert.equal(contentDeltas(chunks), 12, dialect);
      const last = chunks.at(-1)!;
      assert.equal(last.usage?.completion_tokens, 12, dialect);
      if (dialect === 'glm') {
        // The SDK adds `finish_reason: null` to chunks, so check GLM's wire format on the raw events.
        const events = await rawEvents(await post(mock, 'glm', { ...body, stream: true }));
        assert.equal(events.at(-1), '[DONE]');
        const parsed = events.slice(0, -1).map((e) => JSON.parse(e) as Json);
        assert.equal(parsed.length, 13);
        for (const [i, chunk] of parsed.entries()) {
          assert.ok(!('object' in chunk));
          assert.equal(chunk.choices[0].delta.role, 'assistant');
          assert.equal('finish_reason' in chunk.choices[0], i === parsed.length - 1);
        }
        assert.equal(parsed.at(-1)?.choices[0].finish_reason, 'stop');
        assert.equal(last.choices[0]?.finish_reason, 'stop');
      } else {
        assert.deepEqual(last.choices, []);
        const finish = chunks.at(-2)!;
        assert.equal(finish.choices[0]?.finish_reason, 'stop');
        assert.equal(chunks.filter((c) => c.choices[0]?.finish_reason).length, 1);
        assert.equal((finish.choices[0] as Json).usage?.completion_tokens, dialect === 'kimi' ? 12 : undefined);
      }
    }
  });

  test('streams without include_usage: kimi usage in the last choice, openai none', async () => {
    const kimi = await streamChunks(sdk(mock, 'kimi'), ask('usage please'));
    assert.equal(kimi.at(-1)?.choices[0]?.finish_reason, 'stop');
    assert.equal((kimi.at(-1)!.choices[0] as Json).usage.prompt_tokens, 2);
    assert.equal(kimi.at(0)?.choices[0]?.delta.role, 'assistant');
    const openai = await streamChunks(sdk(mock, 'openai'), ask('usage please'));
    assert.ok(openai.every((c) => c.usage === undefined && c.choices.length === 1));
  });

  test('chunks: 500 gives exactly 500 content deltas; chunkDelayMs paces them', async () => {
    const chunks = await streamChunks(sdk(mock, 'kimi'), ask('many chunks', { chunks: 500 }));
    assert.equal(contentDeltas(chunks), 500);
    assert.equal(contentOf(chunks).split(' ').length, 500);
    const fixed = await streamChunks(sdk(mock, 'openai'), ask('x', { content: 'abc', chunks: 3, chunkDelayMs: 1 }));
    assert.deepEqual(fixed.map((c) => c.choices[0]?.delta.content).filter(Boolean), ['a', 'b', 'c']);
  });

  test('lengthRounds: GLM continue turns and Kimi partial mode give length, then stop', async () => {
    const b = { lengthRounds: 2, completionTokens: 6 };
    const full = (await complete(sdk(mock, 'glm'), ask('Write a long essay', { completionTokens: 18 }))).choices[0].message.content;

    const messages: Json[] = [{ role: 'user', content: 'Write a long essay' }];
    const finishes: string[] = [];
    let text = '';
    for (let round = 0; round < 3; round++) {
      const r = await complete(sdk(mock, 'glm'), { model: 'glm-4.6', messages, mock: b });
      finishes.push(r.choices[0].finish_reason);
      text += r.choices[0].message.content;
      messages.push({ role: 'assistant', content: r.choices[0].message.content }, { role: 'user', content: 'continue' });
    }
    assert.deepEqual(finishes, ['length', 'length', 'stop']);
    assert.equal(text, full);

    let partial = '';
    const kimiFinishes: string[] = [];
    for (let round = 0; round < 3; round++) {
      const history: Json[] = [{ role: 'user', content: 'Write a long essay' }];
      if (partial) history.push({ role: 'assistant', content: partial, partial: true });
      const r = await complete(sdk(mock, 'kimi'), { model: 'kimi-k2', messages: history, mock: b });
      kimiFinishes.push(r.choices[0].finish_reason);
      partial += r.choices[0].message.content;
    }
    assert.deepEqual(kimiFinishes, ['length', 'length', 'stop']);
    assert.equal(partial, full);
  });

  test('error fixtures keep their status and dialect shape', async () => {
    const rate = await complete(sdk(mock, 'kimi'), ask('x', { error: '429_rate_limit' })).catch((e: unknown) => e);
    assert.ok(rate instanceof OpenAI.RateLimitError);
    assert.equal(rate.status, 429);
    assert.equal(rate.type, 'rate_limit_reached_error');
    assert.match(rate.message, /try again after 1 seconds/);

    const glm = await complete(sdk(mock, 'glm'), ask('x', { error: '429_concurrency' })).catch((e: unknown) => e);
    assert.ok(glm instanceof OpenAI.APIError);
    assert.equal(glm.status, 429);
    assert.equal(glm.code, '1302');

    const byCode = await post(mock, 'glm', ask('x', { error: '1113' }));
    assert.equal(byCode.status, 429);
    assert.deepEqual(await json(byCode), { error: { code: '1113', message: 'Your account is in arrears, please recharge and try again' } });

    const generic = await post(mock, 'glm', ask('x', { status: 503 }));
    assert.equal(generic.status, 503);
    assert.equal((await json(generic)).error.code, '503');
    const defaultStatus = await post(mock, 'kimi', ask('x', { status: 500 }));
    assert.deepEqual(await json(defaultStatus), { error: { message: 'invalid state transition', type: 'server_error' } });
    const raw = await post(mock, 'openai', ask('x', { status: 418, errorBody: { teapot: true } }));
    assert.equal(raw.status, 418);
    assert.deepEqual(await json(raw), { teapot: true });
  });

  test('failTimes + key: the first N requests with the key fail, later ones succeed', async () => {
    const client = sdk(mock, 'kimi');
    const outcome = (key: string) =>
      complete(client, ask('x', { failTimes: 2, key })).then(
        () => 'ok',
        (e: { status?: number }) => e.status,
      );
    assert.deepEqual([await outcome('a'), await outcome('b'), await outcome('a'), await outcome('a')], [500, 500, 500, 'ok']);
    assert.equal(await outcome('b'), 500);
    assert.equal(await outcome('b'), 'ok');
  });

  test('retryAfter, retryAfterMs and extra headers', async () => {
    const res = await post(mock, 'kimi', ask('x', { error: '429_overloaded', retryAfter: '3', retryAfterMs: 1500, headers: { 'x-extra': 'y' } }));
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '3');
    assert.equal(res.headers.get('retry-after-ms'), '1500');
    assert.equal(res.headers.get('x-extra'), 'y');
    assert.equal((await json(res)).error.type, 'engine_overloaded_error');
  });

  test('401 without a bearer; 404 for unknown paths; 400 for a non-JSON body', async () => {
    const noAuth = await fetch(`${mock.baseURL('kimi')}/chat/completions`, { method: 'POST', body: '{}' });
    assert.equal(noAuth.status, 401);
    assert.deepEqual(await json(noAuth), { error: { message: 'Invalid Authentication', type: 'invalid_authentication_error' } });
    const sdkError = await complete(new OpenAI({ apiKey: ' ', baseURL: mock.baseURL('glm'), maxRetries: 0 }), ask('x')).catch((e: unknown) => e);
    assert.ok(sdkError instanceof OpenAI.AuthenticationError);
    assert.equal(sdkError.code, '1002');
    const missing = await fetch(`${mock.url}/nope`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: '{}' });
    assert.equal(missing.status, 404);
    const bad = await post(mock, 'kimi', '{not json');
    assert.equal(bad.status, 400);
    assert.equal((await json(bad)).error.type, 'invalid_request_error');
  });

  test('records: headers, body, times and the finished event', async () => {
    mock.reset();
    const finished = new Promise((resolve) => mock.once('finished', resolve));
    await json(await post(mock, 'glm', ask('record me'), { 'X-Custom': 'Value' }));
    const record = (await finished) as Json;
    const [only] = await mock.waitForRequests(1);
    assert.equal(only, record);
    assert.equal(record.dialect, 'glm');
    assert.equal(record.method, 'POST');
    assert.equal(record.path, '/glm/api/paas/v4/chat/completions');
    assert.equal(record.headers['x-custom'], 'Value');
    assert.equal(record.body.messages[0].content, 'record me');
    assert.equal(record.closedEarly, false);
    assert.ok(record.respondedAt >= record.receivedAt && record.finishedAt >= record.respondedAt);
    assert.equal(mock.inFlight, 0);
    assert.equal(mock.totalRequests, 1);
  });

  test('hang and latency: client aborts are recorded as closedEarly', async () => {
    mock.reset();
    for (const [i, behaviour] of [{ hang: true }, { latencyMs: 100_000 }].entries()) {
      const controller = new AbortController();
      const pending = post(mock, 'kimi', ask('x', behaviour), {}, controller.signal).catch((e: unknown) => e);
      await mock.waitForRequests(i + 1);
      controller.abort();
      assert.equal(((await pending) as Error).name, 'AbortError');
    }
    const closed = await mock.waitForClosed(2);
    assert.equal(closed.length, 2);
    assert.ok(closed.every((r) => r.closedEarly && r.respondedAt === undefined));
    assert.equal(mock.inFlight, 0);
  });

  test('hangAfterChunks sends n events then stalls', async () => {
    mock.reset();
    const controller = new AbortController();
    const res = await post(mock, 'openai', ask('x', { hangAfterChunks: 3 }, { stream: true }), {}, controller.signal);
    const reader = res.body!.getReader();
    let text = '';
    while ((text.match(/^data: /gm) ?? []).length < 3) text += new TextDecoder().decode((await reader.read()).value);
    assert.equal((text.match(/^data: /gm) ?? []).length, 3);
    assert.equal(mock.inFlight, 1);
    controller.abort();
    await mock.waitForClosed(1);
  });

  test('reset, garbage and noFinish', async () => {
    await assert.rejects(post(mock, 'kimi', ask('x', { reset: 'before' })), TypeError);
    await assert.rejects(complete(sdk(mock, 'kimi'), ask('x', { reset: 'before' })), OpenAI.APIConnectionError);
    await assert.rejects(streamChunks(sdk(mock, 'glm'), ask('x', { reset: 'mid', chunks: 20 })));
    const cut = (await post(mock, 'kimi', ask('x', { reset: 'mid', chunks: 20 }, { stream: true }))).body!.getReader();
    let received = '';
    await assert.rejects(async () => {
      for (;;) {
        const { value, done } = await cut.read();
        if (done) break;
        received += new TextDecoder().decode(value);
      }
    });
    assert.equal((received.match(/^data: /gm) ?? []).length, 11); // half of 22 events (role, 20 pieces, finish)
    await assert.rejects(complete(sdk(mock, 'openai'), ask('x', { reset: 'mid' })));
    await assert.rejects(complete(sdk(mock, 'kimi'), ask('x', { garbage: 'body' })), SyntaxError);
    const logError = console.error; // the SDK logs the malformed event before throwing
    console.error = () => {};
    try {
      await assert.rejects(streamChunks(sdk(mock, 'glm'), ask('x', { garbage: 'chunk' })), SyntaxError);
    } finally {
      console.error = logError;
    }
    const chunks = await streamChunks(sdk(mock, 'kimi'), ask('x', { noFinish: true }));
    assert.ok(chunks.length > 1 && chunks.every((c) => !c.choices[0]?.finish_reason));
    const sensitive = await streamChunks(sdk(mock, 'glm'), ask('x [[mock finishReason=sensitive]]'));
    assert.equal(sensitive.at(-1)?.choices[0]?.finish_reason, 'sensitive');
  });

  test('dripMs delivers the same body a few bytes at a time', async () => {
    const plain = await json(await post(mock, 'openai', ask('drip', { completionTokens: 4 })));
    const dripped = await json(await post(mock, 'openai', ask('drip', { completionTokens: 4, dripMs: 1, dripBytes: 64 })));
    assert.equal(dripped.choices[0].message.content, plain.choices[0].message.content);
    const streamed = await streamChunks(sdk(mock, 'glm'), ask('drip', { completionTokens: 4, dripMs: 1, dripBytes: 100 }));
    assert.equal(contentOf(streamed), plain.choices[0].message.content);
  });

  test('web search: GLM sources; Kimi $web_search tool call, then an answer', async () => {
    const webSearch = { enable: true, search_engine: 'search_pro_jina', search_result: true };
    const glm = await complete(sdk(mock, 'glm'), ask('news?', undefined, { tools: [{ type: 'web_search', web_search: webSearch }] }));
    assert.ok(Array.isArray(glm.web_search) && glm.web_search.length > 0);
    assert.deepEqual(Object.keys(glm.web_search[0]).sort(), ['content', 'icon', 'link', 'media', 'publish_date', 'refer', 'title']);
    const streamed = await rawEvents(
      await post(mock, 'glm', ask('news?', undefined, { stream: true, tools: [{ type: 'web_search', web_search: webSearch }] })),
    );
    assert.deepEqual(JSON.parse(streamed[0]!).web_search, glm.web_search);

    const tools = [{ type: 'builtin_function', function: { name: '$web_search' } }];
    const messages: Json[] = [{ role: 'user', content: 'news?' }];
    const first = await complete(sdk(mock, 'kimi'), { model: 'kimi-k2', messages, tools });
    assert.equal(first.choices[0].finish_reason, 'tool_calls');
    assert.equal(first.choices[0].message.content, '');
    const [call] = first.choices[0].message.tool_calls;
    assert.match(call.id, /^call_ws_\d+$/);
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, '$web_search');
    assert.ok(JSON.parse(call.function.arguments).search_result.search_id);
    messages.push(first.choices[0].message, { role: 'tool', tool_call_id: call.id, name: '$web_search', content: call.function.arguments });
    const second = await complete(sdk(mock, 'kimi'), { model: 'kimi-k2', messages, tools });
    assert.equal(second.choices[0].finish_reason, 'stop');
    assert.match(second.choices[0].message.content, /^Answer to "news\?"/);
  });

  test('behaviour.toolCalls answers with those calls, also streamed', async () => {
    const toolCalls = [
      { name: 'lookup', arguments: { q: 'x' } },
      { name: 'noop', arguments: '{}' },
    ];
    const r = await complete(sdk(mock, 'openai'), ask('x', { toolCalls }));
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
    assert.deepEqual(
      r.choices[0].message.tool_calls.map((c: Json) => [c.function.name, c.function.arguments]),
      [
        ['lookup', '{"q":"x"}'],
        ['noop', '{}'],
      ],
    );
    assert.ok(r.choices[0].message.tool_calls.every((c: Json) => /^call_\d+$/.test(c.id)));
    const chunks = await streamChunks(sdk(mock, 'glm'), ask('x', { toolCalls }));
    assert.equal(chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).length, 2);
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'tool_calls');
  });

  test('Kimi context cache headers and cached tokens', async () => {
    const res = await post(mock, 'kimi', ask('cache these four words'), { 'X-Msh-Context-Cache': 'cache-abc' });
    assert.equal(res.headers.get('msh-context-cache-id'), 'cache-abc');
    assert.equal(res.headers.get('msh-context-cache-token-saved'), '4');
    const body = await json(res);
    assert.equal(body.usage.cached_tokens, 4);
    assert.equal(body.usage.prompt_tokens_details.cached_tokens, 4);
  });

  test('maxRecords keeps the newest records; reset clears counters', async () => {
    const small = await startMockProvider({ maxRecords: 3 });
    after(() => small.close());
    for (let i = 0; i < 5; i++) await json(await post(small, 'openai', ask(`n${i}`)));
    assert.equal(small.totalRequests, 5);
    assert.deepEqual(
      small.requests.map((r) => r.seq),
      [3, 4, 5],
    );
    small.reset();
    assert.equal(small.requests.length, 0);
    assert.equal(small.totalRequests, 0);
    assert.equal(small.maxInFlight, 0);
  });
});

describe('mock provider options', () => {
  test('behaviour sources merge: defaults < behave < body.mock < directive', async () => {
    const mock = await startMockProvider({
      defaults: { completionTokens: 3, reasoning: 'default' },
      behave: (req) => (req.body?.model === 'programmed' ? { completionTokens: 4, content: undefined } : undefined),
    });
    after(() => mock.close());
    const words = async (body: Json): Promise<number> => (await complete(sdk(mock, 'openai'), body)).usage.completion_tokens;
    assert.equal(await words(ask('a')), 3);
    assert.equal(await words({ ...ask('a'), model: 'programmed' }), 4);
    assert.equal(await words({ ...ask('a', { completionTokens: 5 }), model: 'programmed' }), 5);
    assert.equal(await words({ ...ask('a [[mock completionTokens=7]]', { completionTokens: 5 }), model: 'programmed' }), 7);
  });

  test('apiKey: a different bearer gets 401', async () => {
    const mock = await startMockProvider({ apiKey: 'right' });
    after(() => mock.close());
    const wrong = await complete(sdk(mock, 'kimi'), ask('x')).catch((e: unknown) => e);
    assert.ok(wrong instanceof OpenAI.AuthenticationError);
    const right = new OpenAI({ apiKey: 'right', baseURL: mock.baseURL('kimi'), maxRetries: 0 });
    assert.equal((await complete(right, ask('x'))).object, 'chat.completion');
  });

  test('maxInFlight reaches N concurrent requests; close() ends hanging ones', async () => {
    const mock = await startMockProvider({ latencyMs: 100_000 });
    after(() => mock.close());
    const pending = Array.from({ length: 12 }, (_, i) => post(mock, i % 2 ? 'glm' : 'kimi', ask(`${i}`)).catch((e: unknown) => e));
    const hanging = post(mock, 'openai', ask('h', { hang: true })).catch((e: unknown) => e);
    await mock.waitForInFlight(13);
    assert.equal(mock.maxInFlight, 13);
    const neverMet = mock.waitForRequests(1000);
    await mock.close();
    await assert.rejects(neverMet, /closed/);
    for (const outcome of await Promise.all([...pending, hanging])) assert.ok(outcome instanceof TypeError);
    assert.equal(mock.inFlight, 0);
  });
});

describe('sessionpool mock CLI', () => {
  test('prints the URLs, serves, and exits 0 on SIGTERM', async () => {
    const script = "import { runMockCommand } from './src/apps/cli/mock.ts'; await runMockCommand(['--port', '0', '--latency', '0']);";
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    after(() => child.kill('SIGKILL'));
    const line = await new Promise<string>((resolve) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
    });
    const match = /^mock provider listening on (http:\/\/127\.0\.0\.1:(\d+)) \(kimi: \1\/kimi\/v1, glm: \1\/glm\/api\/paas\/v4, openai: \1\/v1\)$/.exec(line);
    assert.ok(match, line);
    const client = new OpenAI({ apiKey: 'test-key', baseURL: `${match[1]}/kimi/v1`, maxRetries: 0 });
    assert.equal((await complete(client, ask('cli'))).object, 'chat.completion');
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exit, 0);
  });
});
