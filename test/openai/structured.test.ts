// Structured outputs for every dialect. OpenAI takes `response_format: { type: 'json_schema' }` and
// enforces it; Kimi and GLM document only `json_object` (fixtures/{kimi,glm}/json-mode.json record
// their request and answer shapes): there the schema goes into the system prompt, `json_object` is
// sent, and the answer is checked against the schema on the worker. Kimi's partial mode is never
// combined with `json_object`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { LengthFinishReasonError } from 'openai/core/error';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import glmJsonMode from '../../src/apps/mock/fixtures/glm/json-mode.json' with { type: 'json' };
import kimiJsonMode from '../../src/apps/mock/fixtures/kimi/json-mode.json' with { type: 'json' };
import type { MockBehaviour, MockRequestRecord } from '../../src/apps/mock/server.ts';
import { ProviderResponseError, type SessionPoolOpenAI } from '../../src/index.ts';
import { harness, rejection, type Harness } from '../support/helpers.ts';

// biome-ignore lint/suspicious/noExplicitAny: request bodies as the mock recorded them
type Json = any;

const FIXTURES = { kimi: kimiJsonMode, glm: glmJsonMode } as const;
const MODELS = { kimi: 'moonshot-v1-8k', glm: 'glm-4.5-flash' } as const;

// The documents of the two fixtures, as zod schemas (and a stricter one each answer misses).
const Article = z.object({ title: z.string(), author: z.string(), publish_time: z.string(), summary: z.string() });
const Product = z.object({ name: z.string(), price: z.number(), colors: z.array(z.string()) });
const SCHEMAS = { kimi: Article, glm: Product } as const;
const STRICTER = { kimi: Article.extend({ rating: z.number() }), glm: Product.extend({ price: z.string() }) } as const;

const CITY = zodResponseFormat(z.object({ city: z.string(), population: z.number().int() }), 'city');

/** Answers with the dialect's fixture body when a message says FIXTURE; a wrong then a right answer for RETRY. */
function scripted(record: MockRequestRecord): MockBehaviour | undefined {
  const text = JSON.stringify(record.body?.messages ?? []);
  if (text.includes('FIXTURE') && record.dialect !== 'openai') {
    return { rawBody: JSON.stringify(FIXTURES[record.dialect].response), headers: { 'content-type': 'application/json' } };
  }
  if (text.includes('RETRY') && !text.includes('does not match the JSON Schema')) return { content: '{"city": 3}' };
  if (text.includes('NOT JSON')) return { content: 'Here is your city: Paris' };
  return undefined;
}

describe('structured outputs in every dialect', () => {
  let h: Harness;
  before(async () => {
    h = await harness({ mock: { behave: scripted } });
  });
  after(() => h.close());
  const client = (provider: string): SessionPoolOpenAI => h.supervisor.openai({ provider });

  for (const dialect of ['kimi', 'glm'] as const) {
    const fixture = FIXTURES[dialect];
    const format = zodResponseFormat(SCHEMAS[dialect], 'document');

    test(`${dialect}: a json_schema request goes out in the documented json_object shape (fixture ${dialect}/json-mode.json)`, async () => {
      h.mock.reset();
      await h.supervisor.chat({
        provider: dialect,
        model: MODELS[dialect],
        messages: fixture.request.messages as Json,
        temperature: 0.3,
        responseFormat: format,
      });
      const sent = h.mock.requests[0]?.body as Json;
      assert.deepEqual(sent.response_format, fixture.request.response_format);
      assert.deepEqual(Object.keys(sent).sort(), Object.keys(fixture.request).sort(), 'the fixture request fields, no other');
      assert.equal(JSON.stringify(sent).includes('json_schema'), false);
      assert.equal(sent.messages.length, fixture.request.messages.length);
      assert.equal(sent.messages[0].role, 'system');
      assert.ok(sent.messages[0].content.startsWith(fixture.request.messages[0]?.content), "the caller's system prompt comes first");
      assert.ok(sent.messages[0].content.includes(JSON.stringify(format.json_schema.schema)), 'the schema is in the system prompt');
      assert.deepEqual(sent.messages[1], fixture.request.messages[1]);
    });

    test(`${dialect}: without a system message, the schema comes in one of its own, first`, async () => {
      h.mock.reset();
      await h.supervisor.chat({ provider: dialect, prompt: 'Hi', responseFormat: format });
      const sent = h.mock.requests[0]?.body as Json;
      assert.deepEqual(
        sent.messages.map((m: Json) => m.role),
        ['system', 'user'],
      );
    });

    test(`${dialect}: the fixture's answer is checked and parsed: chat() and parse() return the parsed value`, async () => {
      const expected = JSON.parse(fixture.response.choices[0]!.message.content);
      const result = await h.supervisor.chat({ provider: dialect, prompt: 'FIXTURE', responseFormat: format });
      assert.deepEqual(result.parsed, expected);
      assert.equal(result.content, fixture.response.choices[0]!.message.content);
      const completion = await client(dialect).chat.completions.parse({
        model: MODELS[dialect],
        messages: [{ role: 'user', content: 'FIXTURE' }],
        response_format: format,
      });
      assert.deepEqual(completion.choices[0]?.message.parsed, expected);
    });

    test(`${dialect}: an answer that misses the schema is ERR_PROVIDER_RESPONSE with its issues`, async () => {
      const stricter = zodResponseFormat(STRICTER[dialect], 'document');
      const error = await rejection(h.supervisor.chat({ provider: dialect, prompt: 'FIXTURE', responseFormat: stricter }));
      assert.ok(error instanceof ProviderResponseError);
      assert.equal(error.code, 'ERR_PROVIDER_RESPONSE');
      assert.equal(error.retryable, false);
      const issues = error.issues ?? [];
      assert.ok(issues.length > 0 && issues.every((i) => typeof i === 'string'));
      assert.match(issues.join('\n'), dialect === 'kimi' ? /^rating: /m : /^price: /m);
      // The same through parse(): the engine's error, as it is (the SDK has no class for it).
      const viaParse = await rejection(
        client(dialect).chat.completions.parse({ model: MODELS[dialect], messages: [{ role: 'user', content: 'FIXTURE' }], response_format: stricter }),
      );
      assert.ok(viaParse instanceof ProviderResponseError);
      assert.deepEqual(viaParse.issues, issues);
    });

    test(`${dialect}: structuredRetries asks again once with the issues, then parses the new answer`, async () => {
      h.mock.reset();
      const result = await h.supervisor.chat({ provider: dialect, prompt: 'RETRY please', responseFormat: CITY, structuredRetries: 1 });
      assert.deepEqual(result.parsed, { city: 'mock', population: 1 });
      assert.equal(JSON.parse(result.content).city, 'mock', 'the content is the second answer only');
      const [first, second] = h.mock.requests.map((r) => r.body as Json);
      assert.equal(h.mock.requests.length, 2);
      const turns = second.messages.slice(-2);
      assert.deepEqual(turns[0], { role: 'assistant', content: '{"city": 3}' });
      assert.equal(turns[1].role, 'user');
      assert.match(turns[1].content, /city: Invalid input: expected string, received number/);
      assert.equal(first.messages.length + 2, second.messages.length);
      assert.ok(result.usage.completionTokens > 0);
      assert.equal(result.metadata.session.attempts, 1, 'asking again is not a retry of a failed call');
      // Without retries the same answer fails, naming the issue.
      const error = await rejection(h.supervisor.chat({ provider: dialect, prompt: 'RETRY please', responseFormat: CITY }));
      assert.deepEqual((error as unknown as ProviderResponseError).issues, [
        'city: Invalid input: expected string, received number',
        'population: Invalid input: expected number, received undefined',
      ]);
    });

    test(`${dialect}: an answer that is not JSON names that`, async () => {
      const error = await rejection(h.supervisor.chat({ provider: dialect, prompt: 'NOT JSON', responseFormat: CITY }));
      assert.match(((error as unknown as ProviderResponseError).issues ?? []).join(), /^\(root\): the answer is not JSON/);
    });

    test(`${dialect}: stream() with zodResponseFormat gives the parsed value; a stream that misses the schema fails after its text`, async () => {
      const stream = client(dialect).chat.completions.stream({
        model: MODELS[dialect],
        messages: [{ role: 'user', content: 'A city' }],
        response_format: CITY,
      });
      const final = await stream.finalChatCompletion();
      assert.deepEqual(final.choices[0]?.message.parsed, { city: 'mock', population: 1 });
      let text = '';
      const failure = await rejection(
        (async () => {
          for await (const event of h.supervisor.stream({ provider: dialect, prompt: 'RETRY please', responseFormat: CITY }))
            if (event.type === 'delta') text += event.text;
        })(),
      );
      assert.equal(text, '{"city": 3}', 'the text went out before the check');
      assert.equal(failure.code, 'ERR_PROVIDER_RESPONSE');
      // The SDK's stream helper reports it as it reports any error that is not its own: an OpenAIError whose cause it is.
      const helper = client(dialect).chat.completions.stream({
        model: MODELS[dialect],
        messages: [{ role: 'user', content: 'RETRY please' }],
        response_format: CITY,
      });
      const viaHelper = await rejection(helper.done());
      assert.ok(viaHelper instanceof OpenAI.OpenAIError);
      assert.ok(viaHelper.cause instanceof ProviderResponseError);
    });

    test(`${dialect}: a JSON answer cut at length is not continued (no partial mode with json_object): LengthFinishReasonError`, async () => {
      h.mock.reset();
      const error = await rejection(
        client(dialect).chat.completions.parse({
          model: MODELS[dialect],
          messages: [{ role: 'user', content: 'A city [[mock lengthRounds=2]]' }],
          response_format: CITY,
        }),
      );
      assert.ok(error instanceof LengthFinishReasonError);
      assert.equal(h.mock.requests.length, 1, 'one call: nothing continued');
      const result = await h.supervisor.chat({ provider: dialect, prompt: 'A city [[mock lengthRounds=2]]', responseFormat: { type: 'json_object' } });
      assert.equal(result.finishReason, 'length');
      assert.equal('parsed' in result, false);
      assert.equal(result.metadata.continuation, undefined);
      for (const record of h.mock.requests) assert.equal(JSON.stringify(record.body).includes('"partial":true'), false);
    });
  }

  test('kimi: partial mode and a JSON format are refused together, before anything is sent', async () => {
    const partial = [
      { role: 'user' as const, content: 'Give me JSON' },
      { role: 'assistant' as const, content: '{', partial: true },
    ];
    for (const responseFormat of [{ type: 'json_object' }, CITY]) {
      const refused = await rejection(h.supervisor.chat({ provider: 'kimi', messages: partial, responseFormat }));
      assert.equal(refused.code, 'ERR_INVALID_REQUEST');
      assert.match(refused.message, /partial/);
      const continued = await rejection(h.supervisor.chat({ provider: 'kimi', prompt: 'x', responseFormat, continuation: {} }));
      assert.equal(continued.code, 'ERR_INVALID_REQUEST');
      assert.match(continued.message, /`continuation`/);
    }
    // Through `extra` too.
    const viaExtra = await rejection(h.supervisor.chat({ provider: 'kimi', messages: partial, extra: { response_format: { type: 'json_object' } } }));
    assert.equal(viaExtra.code, 'ERR_INVALID_REQUEST');
    // Without a JSON format, partial mode is Kimi's continuation as before.
    const plain = await h.supervisor.chat({ provider: 'kimi', messages: partial });
    assert.equal(typeof plain.content, 'string');
  });

  test('the mock holds Kimi and GLM to their documented shapes: no json_schema, no partial with json_object', async () => {
    for (const dialect of ['kimi', 'glm'] as const) {
      const response = await fetch(`${h.mock.baseURL(dialect)}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-x', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }], response_format: CITY }),
      });
      assert.equal(response.status, 400);
    }
    const response = await fetch(`${h.mock.baseURL('kimi')}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-x', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'assistant', content: '{', partial: true }], response_format: { type: 'json_object' } }),
    });
    assert.equal(response.status, 400);
  });

  test('openai: json_schema is sent as it is (the provider enforces it) and parsed, not checked, as the SDK does', async () => {
    h.mock.reset();
    const result = await h.supervisor.chat({ provider: 'openai', prompt: 'A city', responseFormat: CITY });
    const sent = h.mock.requests[0]?.body as Json;
    assert.deepEqual(sent.response_format, JSON.parse(JSON.stringify(CITY)));
    assert.deepEqual(result.parsed, { city: 'mock', population: 1 });
    const loose = await h.supervisor.chat({ provider: 'openai', prompt: 'RETRY', responseFormat: CITY });
    assert.deepEqual(loose.parsed, { city: 3 }, 'not checked: OpenAI enforces strict schemas itself');
    const notJson = await h.supervisor.chat({ provider: 'openai', prompt: 'NOT JSON', responseFormat: CITY });
    assert.equal('parsed' in notJson, false);
  });

  test('request checks: responseFormat.json_schema, structuredRetries', async () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['a name with spaces', { responseFormat: { type: 'json_schema', json_schema: { name: 'a b', schema: {} } } }, /json_schema\.name/],
      [
        'a schema zod cannot read (kimi)',
        { responseFormat: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'foo' } } } },
        /json_schema\.schema`.*Unsupported type/,
      ],
      ['a schema that is not an object', { responseFormat: { type: 'json_schema', json_schema: { name: 'x', schema: [] } } }, /json_schema\.schema/],
      ['structuredRetries without a schema', { structuredRetries: 1 }, /`structuredRetries`/],
      ['structuredRetries too large', { responseFormat: CITY, structuredRetries: 9 }, /structuredRetries/],
    ];
    for (const [name, fields, message] of cases) {
      const error = await rejection(h.supervisor.chat({ provider: 'kimi', prompt: 'x', ...fields }));
      assert.equal(error.code, 'ERR_INVALID_REQUEST', name);
      assert.match(error.message, message, name);
    }
    const streamed = await rejection(
      (async () => {
        for await (const _ of h.supervisor.stream({ provider: 'glm', prompt: 'x', responseFormat: CITY, structuredRetries: 1 })) void _;
      })(),
    );
    assert.match(streamed.message, /`structuredRetries`: a streamed answer/);
    // OpenAI reads its own schemas: one zod cannot read still goes.
    const result = await h.supervisor.chat({
      provider: 'openai',
      prompt: 'x',
      responseFormat: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', if: {} } } },
    });
    assert.equal(result.finishReason, 'stop');
  });
});
