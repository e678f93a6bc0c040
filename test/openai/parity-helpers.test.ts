// Parity, part 2: the openai SDK's chat helpers as its helpers documentation shows them —
// `parse()` with zodResponseFormat and zodFunction, `stream()` with its events, `runTools()` with
// plain and zod tools, `maxChatCompletions`, aborting — run unchanged against the plain SDK and
// `supervisor.openai()` on the same mock: the same values, the same events in the same order
// (chunk-level runs merged, see normalizeEvents), the same error classes at the same places.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import { ChatCompletionRunner } from 'openai/lib/ChatCompletionRunner';
import { ChatCompletionStream } from 'openai/lib/ChatCompletionStream';
import { ChatCompletionStreamingRunner } from 'openai/lib/ChatCompletionStreamingRunner';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { attempt, bench, describeError, normalizeEvents, plain, record, STREAM_EVENTS, type Bench } from './parity-support.ts';

const Step = z.object({ explanation: z.string(), output: z.string() });
const MathResponse = z.object({ steps: z.array(Step), final_answer: z.string() });

// The helpers docs' query example (auto-parsed function tool arguments).
const Table = z.enum(['orders', 'customers', 'products']);
const Column = z.enum(['id', 'status', 'expected_delivery_date', 'delivered_at', 'shipped_at', 'ordered_at', 'canceled_at']);
const Operator = z.enum(['=', '>', '<', '<=', '>=', '!=']);
const OrderBy = z.enum(['asc', 'desc']);
const DynamicValue = z.object({ column_name: z.string() });
const Condition = z.object({ column: z.string(), operator: Operator, value: z.union([z.string(), z.number(), DynamicValue]) });
const Query = z.object({ table_name: Table, columns: z.array(Column), conditions: z.array(Condition), order_by: OrderBy });

const mathMessages: ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are a helpful math tutor.' },
  { role: 'user', content: 'solve 8x + 31 = 2' },
];

async function getCurrentLocation() {
  return 'Boston'; // Simulate lookup
}

async function getWeather(args: { location: string }) {
  const { location } = args;
  return { temperature: '50degF', precipitation: 'high', location };
}

describe('parity: the chat helpers, as in the openai helpers docs', () => {
  let b: Bench;
  before(async () => {
    b = await bench();
  });
  after(() => b.h.close());

  test('parse() with zodResponseFormat: message.parsed', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const completion = await client.chat.completions.parse({
        model: 'gpt-4o-2024-08-06',
        messages: mathMessages,
        response_format: zodResponseFormat(MathResponse, 'math_response'),
      });
      const message = completion.choices[0]?.message;
      const out = { completion: plain(completion), steps: null as unknown, answer: null as unknown };
      if (message?.parsed) {
        out.steps = message.parsed.steps;
        out.answer = `answer: ${message.parsed.final_answer}`;
      }
      return out;
    });
    assert.deepEqual(pool, sdk);
    assert.ok(Array.isArray(sdk.steps) && sdk.steps.length > 0, 'the mock answered the schema');
  });

  test('parse() with a raw json_schema response_format (not zod): parsed by JSON.parse', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const completion = await client.chat.completions.parse({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'A city' }],
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'city',
            strict: true,
            schema: {
              type: 'object',
              properties: { name: { type: 'string' }, population: { type: 'integer' } },
              required: ['name', 'population'],
              additionalProperties: false,
            },
          },
        },
      });
      return completion.choices[0]?.message.parsed;
    });
    assert.deepEqual(pool, sdk);
    assert.equal(typeof sdk.name, 'string');
  });

  test('parse(): a refusal leaves parsed null and sets message.refusal', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const completion = await client.chat.completions.parse({
        model: 'gpt-4o-2024-08-06',
        messages: [{ role: 'user', content: 'solve this [[mock refusal="I cannot help with that."]]' }],
        response_format: zodResponseFormat(MathResponse, 'math_response'),
      });
      const message = completion.choices[0]?.message;
      return { refusal: message?.refusal, parsed: message?.parsed };
    });
    assert.deepEqual(pool, sdk);
    assert.equal(sdk.refusal, 'I cannot help with that.');
  });

  for (const [name, directive, errorClass] of [
    ['length', '[[mock lengthRounds=1]]', 'LengthFinishReasonError'],
    ['content_filter', '[[mock finishReason=content_filter]]', 'ContentFilterFinishReasonError'],
  ] as const) {
    test(`parse(): finish_reason ${name} rejects with the SDK's ${errorClass}`, async () => {
      const [sdk, pool] = await b.both((client) =>
        attempt('parse', () =>
          client.chat.completions.parse({
            model: 'gpt-4o-2024-08-06',
            messages: [{ role: 'user', content: `solve 8x + 31 = 2 ${directive}` }],
            response_format: zodResponseFormat(MathResponse, 'math_response'),
          }),
        ),
      );
      assert.deepEqual(pool, sdk);
      assert.equal(sdk.parse.threw.class, errorClass);
      assert.equal(sdk.parse.threw.openAIError, true);
    });
  }

  test('parse() with zodFunction tools: tool_calls[].function.parsed_arguments', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const completion = await client.chat.completions.parse({
        model: 'gpt-4o-2024-08-06',
        messages: [
          {
            role: 'system',
            content:
              'You are a helpful assistant. The current date is August 6, 2024. You help users query for the data they are looking for by calling the query function.',
          },
          { role: 'user', content: 'look up all my orders in november of last year that were fulfilled but not delivered on time' },
        ],
        tools: [zodFunction({ name: 'query', parameters: Query })],
      });
      const toolCall = completion.choices[0]?.message.tool_calls?.[0];
      if (toolCall?.type !== 'function') return { toolCall: null };
      const args = toolCall.function.parsed_arguments as z.infer<typeof Query>;
      return { args, table: args.table_name, completion: plain(completion) };
    });
    assert.deepEqual(pool, sdk);
    assert.equal(sdk.table, 'orders');
  });

  test('parse() refuses a tool not marked strict, synchronously, with the same OpenAIError', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      try {
        void client.chat.completions.parse({
          model: 'gpt-4o',
          messages: [{ role: 'user', content: 'hi' }],
          tools: [{ type: 'function', function: { name: 'loose', parameters: { type: 'object', properties: {} } } }],
        });
        return { threw: false };
      } catch (error) {
        return { threw: describeError(error) };
      }
    });
    assert.deepEqual(pool, sdk);
    assert.equal(sdk.threw.class, 'OpenAIError');
  });

  test('stream(): content events, then done() and finalChatCompletion()', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const stream = client.chat.completions.stream({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'Say this is a test' }],
        stream_options: { include_usage: true },
      });
      const events = record(stream, STREAM_EVENTS);
      let written = '';
      stream.on('content', (delta) => {
        written += delta;
      });
      await stream.done();
      const completion = await stream.finalChatCompletion();
      return { events: normalizeEvents(events), written, completion: plain(completion), finalContent: await stream.finalContent() };
    });
    assert.deepEqual(pool, sdk);
    assert.ok(sdk.written.length > 0);
  });

  test('stream() with zodResponseFormat: content.delta parsed snapshots, content.done parsed, refusal.done absent', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const stream = client.chat.completions
        .stream({ model: 'gpt-4o-2024-08-06', messages: mathMessages, response_format: zodResponseFormat(MathResponse, 'math_response') })
        .on('refusal.done', () => console.log('request refused'));
      const events = record(stream, STREAM_EVENTS);
      await stream.done();
      const completion = await stream.finalChatCompletion();
      return { events: normalizeEvents(events), parsed: completion.choices[0]?.message.parsed };
    });
    assert.deepEqual(pool, sdk);
    assert.ok(sdk.parsed?.final_answer !== undefined);
  });

  test('stream(): a refusal streams refusal.delta and refusal.done', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const stream = client.chat.completions.stream({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'Refuse [[mock refusal="No, I will not."]]' }],
        response_format: zodResponseFormat(MathResponse, 'math_response'),
      });
      const events = record(stream, STREAM_EVENTS);
      await stream.done();
      return { events: normalizeEvents(events), message: plain((await stream.finalChatCompletion()).choices[0]?.message) };
    });
    assert.deepEqual(pool, sdk);
  });

  test('stream(): iterating the helper yields chunks; stream.abort() ends it with the abort event', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const stream = client.chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Long [[mock chunks=40 chunkDelayMs=10]]' }] });
      const events = record(stream, ['connect', 'abort', 'error', 'end']);
      let seen = 0;
      const loop = await attempt('loop', async () => {
        for await (const chunk of stream) if (chunk.choices[0]?.delta?.content && ++seen === 2) stream.abort();
      });
      const done = await attempt('done', () => stream.done());
      return { loop, done, events, aborted: stream.aborted };
    });
    assert.deepEqual(pool, sdk);
    assert.equal(sdk.done.done.threw.class, 'APIUserAbortError');
  });

  test('stream(): a 401 reaches done() and the error event as AuthenticationError', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const stream = client.chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'No [[mock status=401]]' }] }, { maxRetries: 0 });
      const events = record(stream, ['connect', 'error', 'abort', 'end']);
      const done = await attempt('done', () => stream.done());
      return { done, events };
    });
    assert.deepEqual(pool, sdk);
    assert.equal(sdk.done.done.threw.class, 'AuthenticationError');
  });

  test('runTools(): the weather example with plain function tools (message events, finalContent)', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const runner = client.chat.completions.runTools({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'How is the weather this week?' }],
        tools: [
          { type: 'function', function: { function: getCurrentLocation, description: 'Where the user is', parameters: { type: 'object', properties: {} } } },
          {
            type: 'function',
            function: {
              function: getWeather,
              description: 'The weather at a place',
              parse: JSON.parse,
              parameters: { type: 'object', properties: { location: { type: 'string' } } },
            },
          },
        ],
      });
      const events = record(runner, STREAM_EVENTS);
      const finalContent = await runner.finalContent();
      return { finalContent, events: normalizeEvents(events), messages: plain(runner.messages), usage: await runner.totalUsage() };
    });
    assert.deepEqual(pool, sdk);
    assert.match(sdk.finalContent, /50degF/);
  });

  test('runTools() with zodFunction tools: parsed arguments reach the function', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const seen: unknown[] = [];
      const runner = client.chat.completions.runTools({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'How is the weather this week?' }],
        tools: [
          zodFunction({ name: 'getCurrentLocation', parameters: z.object({}), function: getCurrentLocation }),
          zodFunction({
            name: 'getWeather',
            parameters: z.object({ location: z.string() }),
            function: async (args) => {
              seen.push(args);
              return getWeather(args);
            },
          }),
        ],
      });
      const events = record(runner, STREAM_EVENTS);
      const final = await runner.finalChatCompletion();
      return { seen, events: normalizeEvents(events), final: plain(final), call: await runner.finalFunctionToolCall() };
    });
    assert.deepEqual(pool, sdk);
    assert.deepEqual(sdk.seen, [{ location: 'Boston' }]);
  });

  test('runTools() with stream: true (the streaming runner): content and tool events, finalContent', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const runner = client.chat.completions.runTools({
        model: 'gpt-4o',
        stream: true,
        messages: [{ role: 'user', content: 'How is the weather this week?' }],
        tools: [
          zodFunction({ name: 'getCurrentLocation', parameters: z.object({}), function: getCurrentLocation }),
          zodFunction({ name: 'getWeather', parameters: z.object({ location: z.string() }), function: getWeather }),
        ],
      });
      const events = record(runner, STREAM_EVENTS);
      const finalContent = await runner.finalContent();
      return { finalContent, events: normalizeEvents(events) };
    });
    assert.deepEqual(pool, sdk);
  });

  test('runTools(): parallel tool calls of one turn', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const runner = client.chat.completions.runTools({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'The weather, two at once' }],
        tools: [zodFunction({ name: 'getWeather', parameters: z.object({ location: z.string() }), function: getWeather })],
      });
      return { content: await runner.finalContent(), messages: plain(runner.messages) };
    });
    assert.deepEqual(pool, sdk);
  });

  for (const stream of [false, true]) {
    test(`runTools(${stream ? '{ stream: true }' : ''}): maxChatCompletions stops a model that never stops calling tools; afterCompletion runs after each`, async () => {
      const [sdk, pool] = await b.both(async (client) => {
        let calls = 0;
        let after = 0;
        const runner = client.chat.completions.runTools(
          {
            model: 'gpt-4o',
            stream: stream as true, // both runners, one example (the overloads pick one by the literal)
            messages: [{ role: 'user', content: 'Please never stop calling ping' }],
            tools: [zodFunction({ name: 'ping', parameters: z.object({ n: z.number() }), function: async ({ n }) => `pong ${n} (${++calls})` })],
          },
          {
            maxChatCompletions: 3,
            afterCompletion: () => {
              after++;
            },
          },
        );
        const done = await attempt('done', () => runner.done());
        return { done, calls, after, completions: runner.allChatCompletions().length, final: await runner.finalFunctionToolCallResult() };
      });
      assert.deepEqual(pool, sdk);
      assert.equal(sdk.completions, 3);
      assert.equal(sdk.after, 3);
    });
  }

  test('runTools(): runner.abort() from a tool ends it with APIUserAbortError and the abort event', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const runner = client.chat.completions.runTools({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'How is the weather this week?' }],
        tools: [
          zodFunction({
            name: 'getCurrentLocation',
            parameters: z.object({}),
            function: async () => {
              runner.abort();
              return 'Boston';
            },
          }),
          zodFunction({ name: 'getWeather', parameters: z.object({ location: z.string() }), function: getWeather }),
        ],
      });
      const events = record(runner, ['abort', 'error', 'end', 'functionToolCallResult']);
      const done = await attempt('done', () => runner.done());
      return { done, events, aborted: runner.aborted, completions: runner.allChatCompletions().length };
    });
    assert.deepEqual(pool, sdk);
    assert.equal(sdk.done.done.threw.class, 'APIUserAbortError');
  });

  test('runTools(): a signal aborted while the provider is answering rejects with APIUserAbortError', async () => {
    const [sdk, pool] = await b.both(async (client) => {
      const runner = client.chat.completions.runTools(
        {
          model: 'gpt-4o',
          messages: [{ role: 'user', content: 'Never answered [[mock hang]]' }],
          tools: [zodFunction({ name: 'getWeather', parameters: z.object({ location: z.string() }), function: getWeather })],
        },
        { signal: AbortSignal.timeout(80) },
      );
      const done = await attempt('done', () => runner.done());
      return { done, aborted: runner.aborted };
    });
    assert.deepEqual(pool, sdk);
  });

  test('runTools() rejects n > 1 with the same OpenAIError', async () => {
    const [sdk, pool] = await b.both((client) =>
      attempt('done', () =>
        client.chat.completions
          .runTools({
            model: 'gpt-4o',
            n: 2,
            messages: [{ role: 'user', content: 'hi' }],
            tools: [zodFunction({ name: 'x', parameters: z.object({}), function: async () => 1 })],
          })
          .done(),
      ),
    );
    assert.deepEqual(pool, sdk);
  });

  test('the helpers are the SDK classes themselves', () => {
    const stream = b.pool.chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    assert.ok(stream instanceof ChatCompletionStream);
    stream.abort();
    void stream.done().catch(() => undefined);
    const tools = [zodFunction({ name: 'x', parameters: z.object({}), function: async () => 1 })];
    const runner = b.pool.chat.completions.runTools({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], tools });
    assert.ok(runner instanceof ChatCompletionRunner);
    runner.abort();
    void runner.done().catch(() => undefined);
    const streaming = b.pool.chat.completions.runTools({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }], tools });
    assert.ok(streaming instanceof ChatCompletionStreamingRunner);
    streaming.abort();
    void streaming.done().catch(() => undefined);
  });
});
