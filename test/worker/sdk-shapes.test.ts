// chat() and stream() speak the openai SDK's language: the messages it produces are accepted,
// typed parameters reach the body, results keep what the server sent, errors are named by status.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AuthenticationError, InvalidRequestError, NotFoundError, ProviderError, RateLimitError, type StreamEvent } from '../../src/index.ts';
import { harness, KEYS, rejection, user, type Harness } from '../support/helpers.ts';

// biome-ignore lint/suspicious/noExplicitAny: results compared field by field
type Json = Record<string, any>;

/** A mock behaviour that answers 200 with exactly this body (any completion shape a server might send). */
const served = (body: Json) => ({ mock: { status: 200, errorBody: body } });

describe('requests in the SDK language', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  test('every message form the SDK produces is accepted and passed on (openai dialect: unchanged)', async () => {
    const messages = [
      { role: 'developer' as const, content: 'Be brief.' },
      {
        role: 'user' as const,
        content: [
          { type: 'text', text: 'Look:' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } },
        ],
      },
      {
        role: 'assistant' as const,
        content: null,
        refusal: null,
        annotations: [],
        audio: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool' as const, tool_call_id: 'c1', content: [{ type: 'text', text: '42' }] },
      { role: 'assistant' as const, tool_calls: [{ id: 'c2', type: 'custom' as const, custom: { name: 'sql', input: 'select 1' } }] },
      { role: 'function' as const, name: 'f', content: null },
      { role: 'user' as const, content: 'go on' },
    ];
    h.mock.reset();
    await h.supervisor.chat({ provider: 'openai', messages });
    assert.deepEqual(h.mock.requests[0]?.body?.messages, messages);
  });

  test('Kimi and GLM get `developer` as `system`, without the OpenAI-only fields', async () => {
    const messages = [
      { role: 'developer' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'hi' },
      { role: 'assistant' as const, content: 'hello', refusal: null, annotations: [] },
      { role: 'user' as const, content: 'again' },
    ];
    h.mock.reset();
    await h.supervisor.chat({ provider: 'kimi', messages });
    await h.supervisor.chat({ provider: 'glm', messages });
    for (const record of h.mock.requests) {
      assert.deepEqual(record.body?.messages, [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'user', content: 'again' },
      ]);
    }
  });

  test('typed parameters reach the body under their wire names; extra keeps the rest', async () => {
    h.mock.reset();
    await h.supervisor.chat({
      provider: 'openai',
      messages: user('params'),
      topP: 0.9,
      stop: ['END'],
      seed: 3,
      responseFormat: { type: 'json_object' },
      parallelToolCalls: false,
      reasoningEffort: 'low',
      user: 'u-1',
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
      logitBias: { '50256': -100 },
      logprobs: true,
      topLogprobs: 3,
      serviceTier: 'flex',
      maxCompletionTokens: 99,
      extra: { store: false, verbosity: 'low' },
    });
    const { model: _, messages: __, ...body } = h.mock.requests[0]!.body!;
    assert.deepEqual(body, {
      top_p: 0.9,
      stop: ['END'],
      seed: 3,
      response_format: { type: 'json_object' },
      parallel_tool_calls: false,
      reasoning_effort: 'low',
      user: 'u-1',
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
      logit_bias: { '50256': -100 },
      logprobs: true,
      top_logprobs: 3,
      service_tier: 'flex',
      max_completion_tokens: 99,
      store: false,
      verbosity: 'low',
    });
  });

  const refused: Array<[string, Json, RegExp]> = [
    ['extra.model', { extra: { model: 'other' } }, /`extra\.model`: the engine sets this body field/],
    ['extra.messages', { extra: { messages: [] } }, /`extra\.messages`/],
    ['extra.stream', { extra: { stream: true } }, /`extra\.stream`/],
    ['extra.stream_options', { extra: { stream_options: {} } }, /`extra\.stream_options`/],
    ['extra.n', { extra: { n: 2 } }, /`extra\.n`.*use the `n` option/],
    ['extra.top_p with topP', { topP: 0.5, extra: { top_p: 0.1 } }, /`extra\.top_p`: also set by the `topP` option/],
    [
      'extra.max_tokens with maxOutputTokens',
      { maxOutputTokens: 5, extra: { max_tokens: 9 } },
      /`extra\.max_tokens`: also set by the `maxOutputTokens` option/,
    ],
    ['n with streaming', { n: 2, onDelta: () => {} }, /`n`: streaming returns one choice/],
    ['n with an explicit continuation', { n: 2, continuation: { maxAttempts: 2 } }, /`n`: continuation follows one choice/],
    ['an Authorization header', { headers: { Authorization: 'Bearer x' } }, /Authorization/],
    ['a header value with a line break', { headers: { 'x-a': 'b\r\nx-evil: 1' } }, /line breaks/],
    ['a user message without content', { messages: [{ role: 'user' }] }, /`messages\[0\]\.content`: expected `content`/],
  ];
  for (const [name, fields, message] of refused) {
    test(`refused before any work: ${name}`, async () => {
      const before = h.mock.totalRequests;
      const error = await rejection(h.supervisor.chat({ provider: 'openai', messages: user('x'), ...fields }));
      assert.ok(error instanceof InvalidRequestError);
      assert.equal(error.code, 'ERR_INVALID_REQUEST');
      assert.match(error.message, message);
      assert.equal(h.mock.totalRequests, before);
    });
  }

  test('n = 3 returns every choice; the first is also the top level', async () => {
    const result = await h.supervisor.chat({ provider: 'openai', messages: user('three'), n: 3 });
    assert.equal(result.choices.length, 3);
    assert.deepEqual(
      result.choices.map((c) => c.index),
      [0, 1, 2],
    );
    assert.equal(result.content, result.choices[0]?.message.content);
    assert.match(result.choices[2]?.message.content ?? '', /\(choice 2\)$/);
    assert.equal(result.metadata.continuation, undefined);
  });
});

describe('results keep what the server sent, and only that', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  test('served model, id, created, fingerprint, tier, usage details and the provider request id', async () => {
    const result = await h.supervisor.chat({ provider: 'openai', model: 'gpt-4o-mini', messages: user('hi [[mock reasoning="a b c"]]') });
    assert.match(result.id ?? '', /^chatcmpl-mock-\d+$/);
    assert.equal(typeof result.created, 'number');
    assert.equal(result.systemFingerprint, 'fp_mock0001');
    assert.equal(result.serviceTier, 'default');
    assert.equal(result.refusal, null);
    assert.deepEqual(result.annotations, []);
    assert.equal(result.logprobs, null);
    assert.equal(result.usage.reasoningTokens, 3);
    assert.equal(result.usage.cachedTokens, 0);
    assert.deepEqual(result.usage.completionTokensDetails, {
      reasoning_tokens: 3,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    });
    assert.match(result.metadata.response?.requestId ?? '', /^req_mock_\d+$/);
    assert.equal(result.metadata.response?.usageReported, true);
  });

  test('the model the server names wins over the one asked for', async () => {
    const body = {
      id: 'x1',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o-mini-2024-07-18',
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    };
    const result = await h.supervisor.chat({ provider: 'openai', model: 'gpt-4o-mini', messages: user('x'), extra: served(body) });
    assert.equal(result.model, 'gpt-4o-mini-2024-07-18');
  });

  test('nothing is invented: null content, a minimal tool call, no usage, no fingerprint', async () => {
    const body = { choices: [{ message: { role: 'assistant', content: null, tool_calls: [{ function: { name: 'f' } }] }, finish_reason: 'tool_calls' }] };
    const result = await h.supervisor.chat({ provider: 'openai', messages: user('x'), extra: served(body) });
    assert.equal(result.content, '', 'content stays a string at the top level');
    assert.equal(result.choices[0]?.message.content, null, 'the message keeps the null');
    assert.deepEqual(result.toolCalls, [{ function: { name: 'f' } }]);
    assert.deepEqual(result.usage, { promptTokens: 0, completionTokens: 0, totalTokens: 0 });
    assert.equal(result.metadata.response?.usageReported, false);
    for (const field of ['id', 'created', 'systemFingerprint', 'serviceTier', 'refusal', 'annotations', 'logprobs'] as const)
      assert.equal(field in result, false, field);
    assert.equal('logprobs' in result.choices[0]!, false);
    const openai = await h.supervisor
      .openai()
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], mock: served(body).mock } as never);
    assert.equal('usage' in openai, false, 'the SDK says no usage: none');
  });

  test('a 200 body that holds only an error keeps the server message', async () => {
    const error = await rejection(
      h.supervisor.chat({ provider: 'openai', messages: user('x'), extra: served({ error: { message: 'model overloaded, try later', code: 'overloaded' } }) }),
    );
    assert.equal(error.code, 'ERR_PROVIDER_RESPONSE');
    assert.match(error.message, /model overloaded, try later/);
    assert.equal(error['providerCode'], 'overloaded');
  });
});

describe('errors by status and causes', () => {
  let h: Harness;
  before(async () => {
    h = await harness({ supervisor: { retry: { maxRetries: 0 } } });
  });
  after(() => h.close());

  for (const [status, Class] of [
    [401, AuthenticationError],
    [404, NotFoundError],
    [429, RateLimitError],
  ] as const) {
    test(`HTTP ${status} from chat() is a ${Class.name}, code ERR_PROVIDER, scrubbed headers, requestID`, async () => {
      const error = await rejection(h.supervisor.chat({ provider: 'kimi', messages: user(`x [[mock status=${status}]]`) }));
      assert.ok(error instanceof Class && error instanceof ProviderError);
      assert.equal(error.name, Class.name);
      assert.equal(error.code, 'ERR_PROVIDER');
      const e = error as unknown as ProviderError;
      assert.equal(e.status, status);
      assert.match(e.requestID ?? '', /^req_mock_/);
      assert.equal(e.headers?.['x-request-id'], e.requestID);
      assert.equal(JSON.stringify(e).includes(KEYS.kimi), false);
    });
  }

  test('response headers are scrubbed of the key and of credential headers', async () => {
    const headers = { 'x-echo': `key=${KEYS.openai}`, 'set-cookie': 'session=secret' };
    const error = (await rejection(
      h.supervisor.chat({ provider: 'openai', messages: user('x'), extra: { mock: { status: 400, headers } } }),
    )) as unknown as ProviderError;
    assert.equal(error.headers?.['x-echo'], 'key=[redacted]');
    assert.equal(error.headers?.['set-cookie'], undefined);
  });

  test("the caller's abort reason is the error's cause", async () => {
    const controller = new AbortController();
    const pending = h.supervisor.chat({ provider: 'glm', messages: user('x [[mock hang]]'), signal: controller.signal });
    await h.mock.waitForInFlight(1);
    const reason = new Error('shutting down the tab');
    controller.abort(reason);
    const error = await rejection(pending);
    assert.equal(error.code, 'ERR_SESSION_ABORTED');
    assert.equal(error.cause, reason);
  });
});

describe('stream() carries reasoning, tool-call deltas and usage', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  async function events(request: Parameters<Harness['supervisor']['stream']>[0]): Promise<StreamEvent[]> {
    const out: StreamEvent[] = [];
    for await (const event of h.supervisor.stream(request)) out.push(event);
    return out;
  }

  for (const provider of ['kimi', 'glm', 'openai'] as const) {
    test(`${provider}: reasoning and usage events add up to the result`, async () => {
      const reasoning = Array.from({ length: 60 }, (_, i) => `r${i}`).join(' ');
      const seen = await events({ provider, messages: user(`think [[mock reasoning="${reasoning}" chunks=20]]`) });
      const result = seen.at(-1)?.type === 'result' ? (seen.at(-1) as { result: Json }).result : undefined;
      assert.ok(result);
      const text = (type: 'delta' | 'reasoning') => seen.flatMap((e) => (e.type === type ? [e.text] : [])).join('');
      assert.equal(text('reasoning'), reasoning);
      assert.equal(text('delta'), result.content);
      // 60 reasoning chunks written at once travel as a few joined events, not one message each.
      assert.ok(seen.filter((e) => e.type === 'reasoning').length <= 3, 'reasoning pieces are joined per worker turn');
      const usage = seen.filter((e) => e.type === 'usage');
      assert.ok(usage.length >= 1);
      assert.deepEqual((usage.at(-1) as { usage: unknown }).usage, result.usage);
      assert.equal(seen.filter((e) => e.type === 'response').length, 1);
    });
  }

  test('tool-call deltas carry the id and name once and the arguments in pieces', async () => {
    const toolCalls = [
      { name: 'lookup', arguments: { q: 'x' } },
      { name: 'noop', arguments: '{}' },
    ];
    const seen = await events({ provider: 'glm', messages: user('tools'), extra: { mock: { toolCalls } } });
    const parts = seen.filter((e) => e.type === 'tool-call');
    const byIndex = [0, 1].map((i) => parts.filter((p) => p.index === i));
    assert.deepEqual(
      byIndex.map((list) => list.map((p) => p.name).join('')),
      ['lookup', 'noop'],
    );
    assert.deepEqual(
      byIndex.map((list) => list.map((p) => p.arguments ?? '').join('')),
      ['{"q":"x"}', '{}'],
    );
    const result = (seen.at(-1) as { result: Json }).result;
    assert.deepEqual(
      byIndex.map((list) => list.find((p) => p.id)?.id),
      result.toolCalls.map((c: Json) => c.id),
    );
  });
});
