// The OpenAI-shaped client against the plain openai SDK: the same bodies, the same mock, and the
// objects compared field by field (ids and timestamps aside).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import { ProviderError, resultOf, sessionOf, type SessionPoolOpenAI } from '../../src/index.ts';
import { harness, KEYS, released, rejection, waitForTransition, type Harness } from '../support/helpers.ts';

// biome-ignore lint/suspicious/noExplicitAny: SDK objects compared field by field
type Json = Record<string, any>;

/** Ids and timestamps differ between two calls; everything else must not. */
function comparable(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (key, v) => (key === 'id' || key === 'created' ? undefined : v));
}

/**
 * The SDK's stream helper adds `parsed: null` to every message (its own, for `.parse()`), and keeps
 * only the last piece of a field it does not know (`reasoning_content`): both are left out here, and
 * the reasoning is checked on its own.
 */
function helperComparable(completion: unknown): unknown {
  return comparable(JSON.parse(JSON.stringify(completion), (key, v) => (key === 'parsed' || key === 'reasoning_content' ? undefined : v)));
}

const body = (content: string, extra: Partial<ChatCompletionCreateParamsNonStreaming> = {}): ChatCompletionCreateParamsNonStreaming => ({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'developer', content: 'Be brief.' },
    { role: 'user', content },
  ],
  ...extra,
});

const TOOLS: ChatCompletionCreateParamsNonStreaming['tools'] = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
];

describe('supervisor.openai() against the plain openai SDK', () => {
  let h: Harness;
  let sdk: OpenAI;
  let pool: SessionPoolOpenAI;
  before(async () => {
    h = await harness({
      mock: {
        behave: (record) =>
          JSON.stringify(record.body?.messages ?? []).includes('WEATHER?') ? { toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] } : undefined,
      },
    });
    sdk = new OpenAI({ apiKey: KEYS.openai, baseURL: h.mock.baseURL('openai'), maxRetries: 0 });
    pool = h.supervisor.openai();
  });
  after(() => h.close());

  const cases: Array<[string, ChatCompletionCreateParamsNonStreaming]> = [
    ['a plain answer', body('Say hello')],
    ['tool calls (content null)', body('WEATHER? in Paris', { tools: TOOLS, tool_choice: 'auto', parallel_tool_calls: true })],
    ['n = 3 choices', body('Three ways', { n: 3 })],
    [
      'logprobs and sampling parameters',
      body('Log me', { logprobs: true, top_logprobs: 2, top_p: 0.5, seed: 7, stop: ['\n\n'], presence_penalty: 0.1, frequency_penalty: 0.2, user: 'u1' }),
    ],
    ['a refusal', body('Refuse [[mock refusal="I cannot help with that."]]')],
    ['reasoning and its token count', body('Think [[mock reasoning="step one step two"]]', { reasoning_effort: 'low' })],
    ['a cut answer (no continuation, as with the SDK)', body('Long [[mock lengthRounds=2]]', { max_tokens: 16 })],
  ];

  for (const [name, request] of cases) {
    test(`non-streamed: ${name} — the same ChatCompletion, field by field`, async () => {
      const expected = await sdk.chat.completions.create(request);
      const actual = await pool.chat.completions.create(request);
      assert.deepEqual(comparable(actual), comparable(expected));
      assert.equal(typeof actual.id, 'string');
      assert.equal(typeof actual.created, 'number');
    });
  }

  test('the request the provider receives is the one the SDK sends (auth and SDK headers aside)', async () => {
    const request = body('Same body', { n: 2, logprobs: true, top_p: 0.3, response_format: { type: 'json_object' }, metadata: { k: 'v' }, store: false });
    h.mock.reset();
    await sdk.chat.completions.create(request);
    await pool.chat.completions.create(request);
    const [viaSdk, viaPool] = h.mock.requests;
    assert.deepEqual(viaPool?.body, viaSdk?.body);
  });

  for (const [name, request] of cases.filter(([n]) => !n.startsWith('n ='))) {
    test(`streamed: ${name} — finalChatCompletion() equals the SDK's own stream helper's`, async () => {
      const streaming: ChatCompletionCreateParamsStreaming = { ...request, stream: true, stream_options: { include_usage: true } };
      const expected = await sdk.chat.completions.stream(streaming).finalChatCompletion();
      const stream = await pool.chat.completions.create(streaming);
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      const actual = await stream.finalChatCompletion();
      assert.deepEqual(helperComparable(actual), helperComparable(expected));
      const reasoning = (actual.choices[0]?.message as { reasoning_content?: string } | undefined)?.reasoning_content;
      if (name.startsWith('reasoning')) assert.equal(reasoning, 'step one step two');
      else assert.equal(reasoning, undefined);
      // The chunks themselves add up to the same message.
      assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), expected.choices[0]?.message.content ?? '');
      for (const chunk of chunks) {
        assert.equal(chunk.object, 'chat.completion.chunk');
        assert.equal(chunk.model, expected.model);
        assert.equal(chunk.id, actual.id);
      }
      assert.deepEqual(chunks.at(-1)?.usage, expected.usage, 'include_usage: the last chunk carries usage');
    });
  }

  test('streamed tool calls arrive as tool_calls deltas', async () => {
    const stream = await pool.chat.completions.create({ ...body('WEATHER? streamed', { tools: TOOLS }), stream: true });
    const deltas = [];
    for await (const chunk of stream) deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
    assert.deepEqual(
      deltas.map((d) => [d.index, d.function?.name, d.function?.arguments]),
      [[0, 'get_weather', '{"city":"Paris"}']],
    );
    assert.equal(stream.result?.finishReason, 'tool_calls');
    assert.equal(deltas.length > 0 && typeof deltas[0]?.id, 'string');
  });

  const statuses: Array<[number, new (...args: never[]) => Error, string]> = [
    [400, OpenAI.BadRequestError, 'BadRequestError'],
    [401, OpenAI.AuthenticationError, 'AuthenticationError'],
    [404, OpenAI.NotFoundError, 'NotFoundError'],
    [422, OpenAI.UnprocessableEntityError, 'UnprocessableEntityError'],
    [429, OpenAI.RateLimitError, 'RateLimitError'],
    [500, OpenAI.InternalServerError, 'InternalServerError'],
  ];
  for (const [status, Class, name] of statuses) {
    test(`HTTP ${status}: the SDK's own ${name}, with status, headers and requestID; the engine's error is its cause`, async () => {
      const request = body(`fail [[mock status=${status}]]`);
      const expected = (await rejection(sdk.chat.completions.create(request))) as unknown as InstanceType<typeof OpenAI.APIError>;
      const actual = (await rejection(pool.chat.completions.create(request, { maxRetries: 0 }))) as unknown as InstanceType<typeof OpenAI.APIError>;
      assert.ok(actual instanceof Class, `${actual.name} is the SDK's ${name}`);
      assert.equal(actual.constructor, expected.constructor);
      assert.equal(actual.message, expected.message);
      assert.equal(actual.status, expected.status);
      assert.deepEqual(actual.error, expected.error);
      assert.match(actual.requestID ?? '', /^req_mock_\d+$/);
      assert.equal(actual.headers?.get('x-request-id'), actual.requestID);
      assert.equal(actual.headers?.get('content-type'), expected.headers?.get('content-type'));
      const engine = actual.cause as ProviderError;
      assert.ok(engine instanceof ProviderError, 'the engine error is the cause');
      assert.equal(engine.code, 'ERR_PROVIDER');
      assert.equal(engine.status, status);
      assert.equal(typeof engine.sessionId, 'string');
    });
  }

  test('a round trip: choices[0].message (refusal, annotations, tool_calls) goes back in unchanged', async () => {
    const first = await pool.chat.completions.create(body('WEATHER? round trip', { tools: TOOLS }));
    const message = first.choices[0]!.message;
    assert.equal(message.content, null);
    assert.equal(message.refusal, null);
    assert.deepEqual(message.annotations, []);
    const call = message.tool_calls![0]!;
    h.mock.reset();
    const second = await pool.chat.completions.create({
      ...body('WEATHER? round trip', { tools: TOOLS }),
      messages: [
        ...body('WEATHER? round trip').messages,
        message,
        { role: 'tool', tool_call_id: call.id, content: '{"temp":21}' },
        { role: 'user', content: 'And now?' },
      ],
    });
    assert.equal(second.choices[0]?.finish_reason, 'tool_calls');
    const sent = h.mock.requests[0]?.body?.messages as Json[];
    assert.deepEqual(sent[2], JSON.parse(JSON.stringify(message)));
    assert.equal(sent[0]?.role, 'developer');
  });

  test('each call is a session: sessionOf(completion) and lifecycle events', async () => {
    const completion = await pool.chat.completions.create(body('Which session?'), { requestId: 'sdk-call-1' });
    const session = sessionOf(completion);
    assert.equal(session?.requestId, 'sdk-call-1');
    assert.equal(Object.keys(completion).includes('metadata'), false, 'nothing added to the SDK object');
    assert.equal(resultOf(completion)?.metadata.response?.requestId?.startsWith('req_mock_'), true);
    const event = await waitForTransition(h, released(session!.sessionId));
    assert.equal(event.outcome, 'completed');
  });

  test('options: timeout is the session deadline, headers are sent, continuation when asked', async () => {
    h.mock.reset();
    const cut = await pool.chat.completions.create(body('Long [[mock lengthRounds=2 completionTokens=4]]'), {
      headers: { 'x-tenant': 't1', 'x-none': null },
      continuation: true,
    });
    assert.equal(cut.choices[0]?.finish_reason, 'stop');
    assert.equal(resultOf(cut)?.metadata.continuation?.attempts, 3);
    assert.equal(h.mock.requests[0]?.headers['x-tenant'], 't1');
    assert.equal('x-none' in (h.mock.requests[0]?.headers ?? {}), false);
    const late = await rejection(pool.chat.completions.create(body('hang [[mock hang]]'), { timeout: 200 }));
    assert.ok(late instanceof OpenAI.APIConnectionTimeoutError);
    assert.equal((late.cause as { code?: string }).code, 'ERR_SESSION_TIMEOUT');
  });

  test('stream.controller.abort() ends the loop quietly, as in the SDK, and stops the session and its provider call', async () => {
    h.mock.reset();
    const stream = await pool.chat.completions.create({ ...body('Slow [[mock chunks=50 chunkDelayMs=20]]'), stream: true });
    let pieces = 0;
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content && ++pieces === 1) stream.controller.abort();
    assert.equal(pieces, 1);
    assert.equal(stream.result, undefined);
    await h.mock.waitForClosed(1);
    const aborted = h.transitions.filter((e) => e.to === 'failed' && e.outcome === 'aborted');
    assert.ok(aborted.length >= 1, 'the session ended as aborted');
  });

  test("the caller's signal aborts a call: the SDK's APIUserAbortError, whose cause is the engine's error (and its cause the reason)", async () => {
    const controller = new AbortController();
    const reason = new Error('user went away');
    const pending = pool.chat.completions.create(body('hang [[mock hang]]'), { signal: controller.signal });
    await h.mock.waitForInFlight(1);
    controller.abort(reason);
    const error = await rejection(pending);
    assert.ok(error instanceof OpenAI.APIUserAbortError);
    const engine = error.cause as { code?: string; cause?: unknown };
    assert.equal(engine.code, 'ERR_SESSION_ABORTED');
    assert.equal(engine.cause, reason);
  });
});

// Compile-time only: the typed forms of the overloads.
export type NonStreamed =
  Awaited<ReturnType<SessionPoolOpenAI['chat']['completions']['create']>> extends ChatCompletion | AsyncIterable<unknown> ? true : never;
