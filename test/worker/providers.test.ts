import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ChatResult } from '../../src/index.ts';
import { harness, rejection, user, type Harness } from '../support/helpers.ts';

const weatherTool = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

describe('Kimi specifics on the wire', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  test('context cache: headers sent, Msh-Context-Cache-* reported, cached tokens in usage', async () => {
    h.mock.reset();
    const result = await h.supervisor.chat({ provider: 'kimi', messages: user('cached question'), cache: { id: 'cache-abc', resetTtlSeconds: 3600 } });
    const headers = h.mock.requests[0]!.headers;
    assert.equal(headers['x-msh-context-cache'], 'cache-abc');
    assert.equal(headers['x-msh-context-cache-reset-ttl'], '3600');
    assert.equal(result.metadata.cache?.id, 'cache-abc');
    assert.equal(result.metadata.cache?.tokensSaved, result.usage.promptTokens);
    assert.equal(result.usage.cachedTokens, result.usage.promptTokens);
  });

  test('web search: $web_search declared, its call answered with its own arguments, then the answer', async () => {
    h.mock.reset();
    const result = await h.supervisor.chat({ provider: 'kimi', messages: user('news today?'), webSearch: true });
    assert.equal(h.mock.totalRequests, 2);
    const [first, second] = h.mock.requests;
    assert.deepEqual(first?.body?.['tools'], [{ type: 'builtin_function', function: { name: '$web_search' } }]);
    const sent = second!.body!.messages!;
    const call = (sent[1]!['tool_calls'] as Array<{ id: string; function: { arguments: string } }>)[0]!;
    assert.deepEqual(sent[2], { role: 'tool', tool_call_id: call.id, name: '$web_search', content: call.function.arguments });
    assert.equal(result.finishReason, 'stop');
    assert.match(result.content, /^Answer to/);
  });

  test('no temperature for models that fix it; the default 0.6 for the others', async () => {
    h.mock.reset();
    await h.supervisor.chat({ provider: 'kimi', model: 'kimi-k2.5', messages: user('x'), temperature: 0.2 });
    await h.supervisor.chat({ provider: 'kimi', model: 'kimi-k3', messages: user('x') });
    await h.supervisor.chat({ provider: 'kimi', model: 'kimi-k2-turbo-preview', messages: user('x') });
    assert.deepEqual(
      h.mock.requests.map((r) => r.body?.['temperature']),
      [undefined, undefined, 0.6],
    );
  });

  test('reasoning content and tool calls come back as plain JSON', async () => {
    const result = await h.supervisor.chat({
      provider: 'kimi',
      messages: user('weather? [[mock reasoning="thinking hard"]]'),
      tools: [weatherTool],
      toolChoice: 'auto',
      extra: { mock: { toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] } },
    });
    assert.equal(result.reasoningContent, 'thinking hard');
    assert.equal(result.finishReason, 'tool_calls');
    assert.deepEqual(result.toolCalls, [{ id: result.toolCalls![0]!.id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
    assert.equal(Object.getPrototypeOf(result.toolCalls![0]), Object.prototype);
    const body = h.mock.requests.at(-1)!.body!;
    assert.deepEqual(body['tools'], [weatherTool]);
    assert.equal(body['tool_choice'], 'auto');
  });
});

describe('GLM specifics on the wire', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  test('prompt + systemPrompt become messages; extra merges into the body', async () => {
    h.mock.reset();
    await h.supervisor.chat({ provider: 'glm', prompt: 'hi', systemPrompt: 'You are terse.', extra: { thinking: { type: 'disabled' }, do_sample: false } });
    const body = h.mock.requests[0]!.body!;
    assert.deepEqual(body.messages, [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'hi' },
    ]);
    assert.deepEqual(body['thinking'], { type: 'disabled' });
    assert.equal(body['do_sample'], false);
    assert.equal(body['temperature'], 0.3);
  });

  test('web search: the web_search tool with the engine of the platform, sources in result.webSearch', async () => {
    h.mock.reset();
    const result = await h.supervisor.chat({ provider: 'glm', prompt: 'latest?', webSearch: { search_recency_filter: 'oneWeek', count: 5 } });
    const body = h.mock.requests[0]!.body!;
    assert.deepEqual(body['tools'], [
      { type: 'web_search', web_search: { enable: true, search_engine: 'search_pro_jina', search_result: true, search_recency_filter: 'oneWeek', count: 5 } },
    ]);
    assert.equal(body['tool_choice'], 'auto');
    assert.ok(Array.isArray(result.webSearch) && result.webSearch.length > 0);
    assert.equal((result.webSearch[0] as { link: string }).link, 'https://example.com/article');
  });

  test('tools get tool_choice auto; tool results are sent as strings; temperature clamped to (0, 1]', async () => {
    h.mock.reset();
    await h.supervisor.chat({
      provider: 'glm',
      temperature: 1.7,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: [{ type: 'text', text: 'sunny' }] },
      ],
    });
    const body = h.mock.requests[0]!.body!;
    assert.equal(body['tool_choice'], 'auto');
    assert.equal(body['temperature'], 1);
    assert.equal(body.messages![2]!.content, '[{"type":"text","text":"sunny"}]');
  });

  test('a `sensitive` ending is ERR_PROVIDER_RESPONSE, not a success; `network_error` is retried', async () => {
    const sensitive = await rejection(h.supervisor.chat({ provider: 'glm', prompt: '[[mock finishReason=sensitive]]' }));
    assert.equal(sensitive.code, 'ERR_PROVIDER_RESPONSE');
    assert.equal(sensitive['providerCode'], 'sensitive');
    h.mock.reset();
    const network = await rejection(h.supervisor.chat({ provider: 'glm', prompt: '[[mock finishReason=network_error]]' }));
    assert.equal(network.code, 'ERR_PROVIDER_RESPONSE');
    assert.equal(h.mock.totalRequests, 3, 'network_error is retryable');
  });
});

describe('streaming', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  for (const provider of ['kimi', 'glm', 'openai'] as const) {
    test(`${provider}: stream() yields deltas then one result whose content equals them`, async () => {
      let text = '';
      let result: ChatResult | undefined;
      let deltas = 0;
      for await (const event of h.supervisor.stream({ provider, messages: user('stream [[mock chunks=40 chunkDelayMs=1]]') })) {
        if (event.type === 'delta') {
          text += event.text;
          deltas++;
        } else if (event.type === 'result') result = event.result;
      }
      assert.ok(result);
      assert.equal(text, result.content);
      assert.ok(deltas >= 1);
      assert.equal(result.finishReason, 'stop');
      assert.ok(result.usage.completionTokens > 0, 'usage read from the stream');
      assert.equal(result.usage.totalTokens, result.usage.promptTokens + result.usage.completionTokens);
      assert.equal(h.mock.requests.at(-1)?.body?.stream, true);
    });
  }

  test('onDelta on chat receives the whole answer; a continued stream too', async () => {
    let text = '';
    const result = await h.supervisor.chat({
      provider: 'kimi',
      messages: user('go [[mock chunks=10 lengthRounds=1 completionTokens=10]]'),
      onDelta: (t) => (text += t),
    });
    assert.equal(result.metadata.continuation?.attempts, 2);
    assert.equal(text, result.content);
  });

  test('a stream that ends without a finish reason is ERR_PROVIDER_RESPONSE', async () => {
    const error = await rejection(h.supervisor.chat({ provider: 'glm', prompt: '[[mock noFinish]]', onDelta: () => {} }));
    assert.equal(error.code, 'ERR_PROVIDER_RESPONSE');
    assert.match(error.message, /without a finish reason/);
  });

  test('an idle stream fails the attempt; it is not retried once text was delivered', async () => {
    h.mock.reset();
    const error = await rejection(h.supervisor.chat({ provider: 'kimi', messages: user('[[mock hangAfterChunks=3]]'), idleTimeoutMs: 50, onDelta: () => {} }));
    assert.equal(error.code, 'ERR_PROVIDER_RESPONSE');
    assert.match(error.message, /sent nothing for 50 ms/);
    await h.mock.waitForClosed(1);
    assert.equal(h.mock.totalRequests, 1);
  });

  test('breaking out of the iterator aborts the session and closes the socket', async () => {
    h.mock.reset();
    const stream = h.supervisor.stream({ provider: 'glm', prompt: 'drip [[mock hangAfterChunks=3]]' });
    for await (const event of stream) {
      if (event.type === 'delta') break;
    }
    const [closed] = await h.mock.waitForClosed(1);
    assert.equal(closed?.closedEarly, true);
    await new Promise<void>((resolve) => {
      const check = () => h.supervisor.stats().aborted >= 1 && resolve();
      h.supervisor.on('transition', check);
      check();
    });
  });

  test('Kimi stream usage with include_usage: the trailing usage-only chunk is read', async () => {
    h.mock.reset();
    const result = await h.supervisor.chat({ provider: 'kimi', messages: user('u'), onDelta: () => {} });
    assert.deepEqual(h.mock.requests[0]?.body?.stream_options, { include_usage: true });
    assert.equal(result.usage.completionTokens, 16);
  });
});
