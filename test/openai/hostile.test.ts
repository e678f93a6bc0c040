// supervisor.openai() and the structured-output path fed hostile input: options of the wrong type,
// body and option names that are Object.prototype's, JSON schemas whose check never ends (a `pattern`
// that backtracks, a $ref cycle) and answers nested deeper than a check can follow. Each one ends
// typed: ERR_INVALID_REQUEST before any provider call, or ERR_PROVIDER_RESPONSE after it, and the
// worker thread serves the next session.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { createSupervisor, ProviderResponseError, type SessionPoolOpenAI, type Supervisor } from '../../src/index.ts';
import { harness, rejection, type Harness } from '../support/helpers.ts';

// biome-ignore lint/suspicious/noExplicitAny: hostile input, typed as no caller would type it
type Any = any;

const user = (content: string) => [{ role: 'user' as const, content }];

/** The promise's value, or a failure naming what it waited for after `ms`. */
function bounded<T>(promise: Promise<T>, what: string, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** An answer nested `depth` arrays deep around a null. */
const nested = (depth: number) => `${'['.repeat(depth)}null${']'.repeat(depth)}`;

describe('supervisor.openai() with hostile input', () => {
  let h: Harness;
  let pool: SessionPoolOpenAI;
  let kimi: SessionPoolOpenAI;
  before(async () => {
    h = await harness({
      // One thread: a session that blocks it would block the next one too.
      supervisor: { threads: 1 },
      mock: {
        behave: (record) => {
          const text = JSON.stringify(record.body?.messages ?? []);
          if (text.includes('BACKTRACK')) return { content: JSON.stringify({ word: `${'a'.repeat(40)}!` }) };
          if (text.includes('DEEP')) return { content: nested(200_000) };
          return undefined;
        },
      },
    });
    pool = h.supervisor.openai();
    kimi = h.supervisor.openai({ provider: 'kimi' });
  });
  after(() => h.close());

  test('a `signal` that is not an AbortSignal is ERR_INVALID_REQUEST with stream: true too, before any call', async () => {
    h.mock.reset();
    for (const stream of [false, true]) {
      const error = await bounded(
        rejection(pool.chat.completions.create({ model: 'gpt-4o-mini', messages: user('hi'), stream } as Any, { signal: 'soon' as Any })),
        `create(stream: ${stream})`,
      );
      assert.equal(error.code, 'ERR_INVALID_REQUEST', `stream: ${stream}: ${error.message}`);
      assert.match(error.message, /`signal`/);
    }
    assert.equal(h.mock.requests.length, 0, 'no provider call');
  });

  test('a `timeout` out of range is refused under its own name; `headers` that are not headers are refused, not sent as 0, 1, 2', async () => {
    h.mock.reset();
    for (const stream of [false, true]) {
      for (const [options, name] of [
        [{ timeout: Number.NaN }, '`timeout`'],
        [{ timeout: 0 }, '`timeout`'],
        [{ timeout: '100' }, '`timeout`'],
        [{ headers: 'Authorization: Bearer sk-never-quoted' }, '`headers`'],
        [{ headers: 42 }, '`headers`'],
      ] as const) {
        const error = await bounded(
          rejection(pool.chat.completions.create({ model: 'gpt-4o-mini', messages: user('hi'), stream } as Any, options as Any)),
          `create(${JSON.stringify(options)})`,
        );
        assert.equal(error.code, 'ERR_INVALID_REQUEST', `${JSON.stringify(options)}: ${error.message}`);
        assert.ok(error.message.includes(name), error.message);
        assert.doesNotMatch(error.message, /sk-never-quoted/);
      }
    }
    assert.equal(h.mock.requests.length, 0, 'no provider call');
  });

  test('JSON nested 20000 levels deep in any field is ERR_INVALID_REQUEST, not a bare RangeError', async () => {
    h.mock.reset();
    let deep: unknown = 'x';
    for (let i = 0; i < 20_000; i++) deep = [deep];
    let schema: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 20_000; i++) schema = { type: 'object', properties: { a: schema } };
    const tries: Array<[string, () => Promise<unknown>]> = [
      ['a body field', () => pool.chat.completions.create({ model: 'gpt-4o-mini', messages: user('hi'), metadata: { a: deep } } as Any)],
      ['options.metadata', () => pool.chat.completions.create({ model: 'gpt-4o-mini', messages: user('hi') }, { metadata: { a: deep } })],
      ['options.query', () => pool.chat.completions.create({ model: 'gpt-4o-mini', messages: user('hi'), stream: true }, { query: { a: deep } })],
      [
        'tools',
        () =>
          pool.chat.completions.create({
            model: 'gpt-4o-mini',
            messages: user('hi'),
            tools: [{ type: 'function', function: { name: 'f', parameters: schema } }],
          }),
      ],
      ...(['openai', 'kimi'] as const).map((provider): [string, () => Promise<unknown>] => [
        `a ${provider} schema`,
        () =>
          h.supervisor
            .openai({ provider })
            .chat.completions.parse({ model: 'm', messages: user('hi'), response_format: { type: 'json_schema', json_schema: { name: 'deep', schema } } }),
      ]),
    ];
    const assistant = (extra: Record<string, unknown>) => [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'a', ...extra },
      { role: 'user', content: 'again' },
    ];
    tries.push(
      [
        "a tool call's extra field",
        () =>
          pool.chat.completions.create({
            model: 'm',
            messages: assistant({ tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' }, extra: deep }] }) as Any,
          }),
      ],
      ["an annotation's extra field", () => pool.chat.completions.create({ model: 'm', messages: assistant({ annotations: [{ type: 'x', deep }] }) as Any })],
    );
    for (const [what, call] of tries) {
      const error = await bounded(rejection(call()), what);
      assert.equal(error.code, 'ERR_INVALID_REQUEST', `${what}: ${error.name}: ${error.message}`);
      assert.match(error.message, /nested at most 1000 levels/, what);
    }
    assert.equal(h.mock.requests.length, 0, 'no provider call');
  });

  test('a body that is not an object, and options that are not an object, are ERR_INVALID_REQUEST naming them; null options are none, as with the SDK', async () => {
    h.mock.reset();
    for (const stream of [false, true]) {
      for (const body of [null, 'hello', ['hi']]) {
        const error = await bounded(rejection(pool.chat.completions.create(body as Any)), `create(${JSON.stringify(body)})`);
        assert.equal(error.code, 'ERR_INVALID_REQUEST', `${JSON.stringify(body)}: ${error.name}: ${error.message}`);
        assert.match(error.message, /`body`/);
      }
      for (const options of ['sk-never-quoted', 42, [1]]) {
        const error = await bounded(rejection(pool.chat.completions.create({ model: 'm', messages: user('hi'), stream } as Any, options as Any)), 'create()');
        assert.equal(error.code, 'ERR_INVALID_REQUEST', `${JSON.stringify(options)}: ${error.name}: ${error.message}`);
        assert.match(error.message, /`options`/);
        assert.doesNotMatch(error.message, /sk-never-quoted/);
      }
    }
    assert.equal(h.mock.requests.length, 0, 'no provider call');
    const completion = await bounded(pool.chat.completions.create({ model: 'm', messages: user('hi') }, null as Any), 'create(body, null)');
    assert.equal(typeof completion.choices[0]?.message.content, 'string');
  });

  test("body fields named like Object.prototype's members are sent as they are, as the SDK sends them", async () => {
    h.mock.reset();
    const body = { model: 'gpt-4o-mini', messages: user('hi'), constructor: 'c', toString: 't', valueOf: 'v' } as Any as ChatCompletionCreateParamsNonStreaming;
    const completion = await bounded(pool.chat.completions.create(body), 'create()');
    assert.equal(typeof completion.choices[0]?.message.content, 'string');
    const sent = h.mock.requests[0]?.body as Any;
    assert.equal(sent.constructor, 'c');
    assert.equal(sent.toString, 't');
    assert.equal(sent.valueOf, 'v');
    h.mock.reset();
    // A body parsed from JSON may hold its own `__proto__` field: sent as a field, the prototype of nothing.
    await bounded(
      pool.chat.completions.create(JSON.parse('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"__proto__":{"polluted":true}}')),
      'create()',
    );
    assert.deepEqual(Object.getOwnPropertyDescriptor(h.mock.requests[0]?.body as Any, '__proto__')?.value, { polluted: true });
    assert.equal(({} as Any).polluted, undefined);
  });

  test("options named like Object.prototype's members are refused as unknown, naming them", async () => {
    h.mock.reset();
    for (const options of [{ toString: 1 }, { constructor: 1 }, JSON.parse('{"__proto__": {"polluted": true}}')]) {
      const error = await bounded(rejection(pool.chat.completions.create({ model: 'gpt-4o-mini', messages: user('hi') }, options)), 'create()');
      assert.equal(error.code, 'ERR_INVALID_REQUEST');
      assert.match(error.message, /not a request option of supervisor\.openai\(\)$/, error.message);
      assert.doesNotMatch(error.message, /native code|\[object Object\]/);
    }
    assert.equal(({} as Any).polluted, undefined);
    assert.equal(h.mock.requests.length, 0, 'no provider call');
  });

  test('a schema that is a $ref cycle is ERR_INVALID_REQUEST before any call (kimi checks answers on the worker)', async () => {
    h.mock.reset();
    const schemas: Array<Record<string, unknown>> = [{ $ref: '#' }, { $ref: '#/$defs/a', $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } } }];
    for (const schema of schemas) {
      const error = await bounded(
        rejection(
          kimi.chat.completions.parse({
            model: 'moonshot-v1-8k',
            messages: user('hi'),
            response_format: { type: 'json_schema', json_schema: { name: 'loop', schema } },
          }),
        ),
        'parse()',
      );
      assert.equal(error.code, 'ERR_INVALID_REQUEST', `${JSON.stringify(schema)}: ${error.message}`);
      assert.match(error.message, /responseFormat\.json_schema\.schema/);
    }
    assert.equal(h.mock.requests.length, 0, 'no provider call');
  });

  test('a schema that names `__proto__` (zod would leave it unchecked) is ERR_INVALID_REQUEST where answers are checked', async () => {
    h.mock.reset();
    const schema = JSON.parse('{"type":"object","properties":{"__proto__":{"type":"string"}},"required":["__proto__"],"additionalProperties":false}');
    const error = await bounded(
      rejection(
        kimi.chat.completions.parse({
          model: 'moonshot-v1-8k',
          messages: user('hi'),
          response_format: { type: 'json_schema', json_schema: { name: 'p', schema } },
        }),
      ),
      'parse()',
    );
    assert.equal(error.code, 'ERR_INVALID_REQUEST', `${error.name}: ${error.message}`);
    assert.match(error.message, /__proto__/);
    assert.equal(h.mock.requests.length, 0, 'no provider call');
  });

  test('a `pattern` that backtracks without end against the answer: ERR_PROVIDER_RESPONSE, and the thread serves the next session', async () => {
    h.mock.reset();
    const response_format = {
      type: 'json_schema' as const,
      json_schema: { name: 'word', schema: { type: 'object', properties: { word: { type: 'string', pattern: '^(a+)+$' } }, required: ['word'] } },
    };
    const error = await bounded(
      rejection(kimi.chat.completions.parse({ model: 'moonshot-v1-8k', messages: user('BACKTRACK'), response_format }, { timeout: 60_000 })),
      'parse() with a backtracking pattern',
    );
    assert.ok(error instanceof ProviderResponseError, `${error.name}: ${error.message}`);
    assert.equal(error.code, 'ERR_PROVIDER_RESPONSE');
    assert.match(error.message, /could not be checked/);
    const next = await bounded(kimi.chat.completions.create({ model: 'moonshot-v1-8k', messages: user('hi') }), 'the next session on the same thread');
    assert.equal(typeof next.choices[0]?.message.content, 'string');
  });

  test('an answer nested deeper than the check can follow is ERR_PROVIDER_RESPONSE, not a crash of the check', async () => {
    h.mock.reset();
    const schema = { anyOf: [{ type: 'null' }, { type: 'array', items: { $ref: '#' } }] };
    const error = await bounded(
      rejection(
        kimi.chat.completions.parse({
          model: 'moonshot-v1-8k',
          messages: user('DEEP'),
          response_format: { type: 'json_schema', json_schema: { name: 'tree', schema } },
        }),
      ),
      'parse() of a deep answer',
    );
    assert.ok(error instanceof ProviderResponseError, `${error.name} ${error.code}: ${error.message}`);
    assert.match(error.message, /nested too deeply/);
    const next = await bounded(kimi.chat.completions.create({ model: 'moonshot-v1-8k', messages: user('hi') }), 'the next session');
    assert.equal(typeof next.choices[0]?.message.content, 'string');
  });
});

/** One SSE chunk of a chat completion stream. */
const sse = (delta: object, extra: object = {}) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: null, ...extra }] })}\n\n`;

describe('supervisor.openai() against a provider that sends hostile streams', () => {
  let server: http.Server;
  let supervisor: Supervisor;
  before(async () => {
    // A stream whose tool call names the index its last message asks for; any other message gets a plain answer.
    server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (data) => (raw += data));
      req.on('end', () => {
        const body = JSON.parse(raw);
        const last = String(body.messages.at(-1).content);
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (last.startsWith('INDEX ')) {
          const index = Number(last.slice(6));
          res.end(
            `${sse({ role: 'assistant', tool_calls: [{ index, id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }] })}${sse({}, { finish_reason: 'tool_calls' })}data: [DONE]\n\n`,
          );
        } else res.end(`${sse({ role: 'assistant', content: 'fine' })}${sse({}, { finish_reason: 'stop' })}data: [DONE]\n\n`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    supervisor = createSupervisor({
      threads: 1,
      logger: false,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
      providers: { openai: { baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-hostile-stream' } },
    });
  });
  after(async () => {
    await supervisor.close({ timeoutMs: 1000 });
    await new Promise((resolve) => server.close(resolve));
  });

  for (const index of [4_294_967_294, 1e9, -1, 1.5]) {
    test(`a streamed tool call at index ${index} is ERR_PROVIDER_RESPONSE at once, and the thread serves the next session`, async () => {
      const pool = supervisor.openai();
      const started = Date.now();
      const error = await bounded(
        rejection(
          (async () => {
            const stream = await pool.chat.completions.create({ model: 'm', messages: user(`INDEX ${index}`), stream: true }, { maxRetries: 0 });
            for await (const _ of stream) void _;
          })(),
        ),
        `the stream with index ${index}`,
        5000,
      );
      assert.ok(error instanceof ProviderResponseError, `${error.name}: ${error.message}`);
      assert.match(error.message, /tool call/);
      assert.ok(Date.now() - started < 2000, `ended after ${Date.now() - started} ms`);
      const next = await bounded(pool.chat.completions.create({ model: 'm', messages: user('hi'), stream: true }), 'the next session', 5000);
      let text = '';
      for await (const chunk of next) text += chunk.choices[0]?.delta.content ?? '';
      assert.equal(text, 'fine');
    });
  }
});
