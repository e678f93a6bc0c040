// The MCP SDK's own Client drives a spawned `sessionpool mcp` over stdio, as a desktop assistant would.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Progress } from '@modelcontextprotocol/client';
import { startMockProvider } from '../../src/index.ts';
import type { MockProvider } from '../../src/apps/mock/server.ts';
import { MAIN, processGone, spawnMcp, text, type StdioServer } from './mcp-helpers.ts';

const UUID = /^[0-9a-f-]{36}$/;

describe('sessionpool mcp --mock over stdio', () => {
  let server: StdioServer;
  before(async () => {
    server = await spawnMcp(['--mock', '--threads', '2']);
  });
  after(() => server.client.close());

  test('lists chat, providers and stats, each with an input and an output schema', async () => {
    const { tools } = await server.client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['chat', 'providers', 'stats']);
    const chat = tools.find((t) => t.name === 'chat');
    const fields = Object.keys(chat?.inputSchema.properties ?? {});
    for (const field of [
      'provider',
      'model',
      'prompt',
      'messages',
      'systemPrompt',
      'temperature',
      'maxOutputTokens',
      'webSearch',
      'cache',
      'continuation',
      'timeoutMs',
    ]) {
      assert.ok(fields.includes(field), `chat accepts ${field}`);
    }
    assert.ok(tools.every((t) => t.outputSchema?.type === 'object'));
  });

  test('chat, not streamed: the answer as text, usage and session metadata as structured content', async () => {
    const result = await server.call('chat', { prompt: 'Hello there', systemPrompt: 'Be brief.' });
    assert.equal(result.isError, undefined);
    const answer = result.structuredContent as {
      content: string;
      provider: string;
      finishReason: string;
      usage: { completionTokens: number };
      metadata: { session: { sessionId: string; requestId: string; attempts: number } };
    };
    assert.match(text(result), /^Answer to "Hello there"/);
    assert.equal(answer.content, text(result));
    assert.equal(answer.provider, 'kimi');
    assert.equal(answer.finishReason, 'stop');
    assert.equal(answer.usage.completionTokens, 16);
    assert.match(answer.metadata.session.sessionId, UUID);
    assert.match(answer.metadata.session.requestId, UUID);
    assert.equal(answer.metadata.session.attempts, 1);
  });

  test('chat, streamed: a progress token gets the answer as progress notifications that add up to it', async () => {
    const progress: Progress[] = [];
    const result = await server.call(
      'chat',
      { provider: 'glm', prompt: 'stream please [[mock chunks=40 chunkDelayMs=2]]' },
      { onprogress: (p) => progress.push(p) },
    );
    const content = (result.structuredContent as { content: string }).content;
    assert.ok(progress.length >= 1);
    // The SDK's client drops a notification that arrives in the same read as the answer (its
    // progress handler is gone by the time it runs), which a loaded machine makes likely: what it
    // passed on is the answer's beginning, in order; 'on the wire' below checks that every
    // notification was sent, and before the answer.
    const streamed = progress.map((p) => p.message).join('');
    assert.ok(content.startsWith(streamed), `progress ${JSON.stringify(streamed)} is not the beginning of ${JSON.stringify(content)}`);
    assert.deepEqual(
      progress.map((p) => p.progress),
      progress.map((_, i) => progress.slice(0, i + 1).reduce((n, p) => n + (p.message?.length ?? 0), 0)),
      'each progress value counts the characters sent so far',
    );
  });

  test('continuation: a cut answer is continued and reported in the metadata', async () => {
    const result = await server.call('chat', { prompt: 'long one [[mock lengthRounds=2]]' });
    const answer = result.structuredContent as { finishReason: string; metadata: { continuation: { attempts: number; complete: boolean } } };
    assert.equal(answer.finishReason, 'stop');
    assert.deepEqual([answer.metadata.continuation.attempts, answer.metadata.continuation.complete], [3, true]);
  });

  test('web search and the Kimi cache: their results pass the output schema', async () => {
    const glm = await server.call('chat', { provider: 'glm', prompt: 'latest news?', webSearch: true });
    assert.equal(glm.isError, undefined, text(glm));
    assert.ok(((glm.structuredContent as { webSearch: unknown[] }).webSearch ?? []).length >= 1);
    const kimi = await server.call('chat', { provider: 'kimi', prompt: 'news today?', webSearch: true });
    assert.equal(kimi.isError, undefined, text(kimi));
    const cached = await server.call('chat', { provider: 'kimi', prompt: 'cached question', cache: { id: 'cache-mcp', resetTtlSeconds: 60 } });
    assert.equal(cached.isError, undefined, text(cached));
    assert.equal((cached.structuredContent as { metadata: { cache: { id: string } } }).metadata.cache.id, 'cache-mcp');
  });

  test('invalid arguments: a tool error with the schema message, nothing started', async () => {
    const before = (await server.call('stats', {})).structuredContent as { admitted: number };
    const wrongType = await server.call('chat', { prompt: 42 });
    assert.equal(wrongType.isError, true);
    assert.match(text(wrongType), /Input validation error/);
    assert.match(text(wrongType), /prompt/);
    const neither = await server.call('chat', { model: 'x' });
    assert.match(text(neither), /expected `prompt` or `messages`/);
    const typo = await server.call('chat', { promt: 'hi' });
    assert.match(text(typo), /Unrecognized key: "promt"/);
    const unknownProvider = await server.call('chat', { provider: 'nope', prompt: 'hi' });
    assert.equal(unknownProvider.isError, true);
    assert.match(text(unknownProvider), /^ERR_INVALID_REQUEST: .*`provider`: expected one of "kimi"\|"glm"\|"openai"/);
    const after = (await server.call('stats', {})).structuredContent as { admitted: number };
    assert.equal(after.admitted, before.admitted);
  });

  test('a provider failure is a tool result with isError and the code, not a protocol error', async () => {
    const refused = await server.call('chat', { prompt: 'no [[mock status=401]]' });
    assert.equal(refused.isError, true);
    assert.match(text(refused), /^ERR_PROVIDER \(status 401\): /);
    const detail = refused._meta?.['sessionpool/error'] as { code: string; status: number; retryable: boolean; sessionId: string };
    assert.deepEqual([detail.code, detail.status, detail.retryable], ['ERR_PROVIDER', 401, false]);
    assert.match(detail.sessionId, UUID);
    const late = await server.call('chat', { prompt: '[[mock hang]]', timeoutMs: 200 });
    assert.equal(late.isError, true);
    assert.match(text(late), /^ERR_SESSION_TIMEOUT: /);
  });

  test('providers: names, default models, whether a key is there, never the key', async () => {
    const result = await server.call('providers', {});
    const { providers, defaultProvider } = result.structuredContent as {
      defaultProvider: string;
      providers: { name: string; hasKey: boolean; defaultModel: string }[];
    };
    assert.equal(defaultProvider, 'kimi');
    assert.deepEqual(
      providers.map((p) => [p.name, p.hasKey, p.defaultModel]),
      [
        ['kimi', true, 'moonshot-v1-8k'],
        ['glm', true, 'glm-4.5-flash'],
        ['openai', true, 'gpt-4o-mini'],
      ],
    );
    assert.doesNotMatch(JSON.stringify(result), /sk-sessionpool-mock/);
  });

  test('20 concurrent tool calls each get their own answer, as 20 sessions', async () => {
    const before = (await server.call('stats', {})).structuredContent as { admitted: number; completed: number };
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => server.call('chat', { provider: i % 2 ? 'glm' : 'kimi', prompt: `call number ${i} [[mock latencyMs=20]]` })),
    );
    results.forEach((result, i) => assert.match(text(result), new RegExp(`^Answer to "call number ${i} `)));
    const sessions = new Set(results.map((r) => (r.structuredContent as { metadata: { session: { sessionId: string } } }).metadata.session.sessionId));
    assert.equal(sessions.size, 20);
    const after = (await server.call('stats', {})).structuredContent as { admitted: number; completed: number; states: Record<string, number> };
    assert.equal(after.admitted - before.admitted, 20);
    assert.equal(after.completed - before.completed, 20);
    assert.equal(after.states['processing'], 0);
  });

  test('a cancelled call: the client gets an abort, the server goes on serving', async () => {
    const controller = new AbortController();
    const call = server.call('chat', { prompt: '[[mock hang]]' }, { signal: controller.signal });
    controller.abort();
    await assert.rejects(call);
    assert.match(text(await server.call('chat', { prompt: 'still there?' })), /^Answer to "still there\?"/);
  });
});

describe('sessionpool mcp --config, against a mock provider the test watches', () => {
  const KEY = 'sk-config-test-31415926';
  let mock: MockProvider;
  let dir: string;
  let configPath: string;
  before(async () => {
    mock = await startMockProvider({ apiKey: KEY });
    dir = await mkdtemp(join(tmpdir(), 'sessionpool-mcp-'));
    configPath = join(dir, 'config.json');
    const config = { providers: { kimi: { baseURL: mock.baseURL('kimi'), apiKeyEnv: 'TEST_KIMI_KEY' } }, supervisor: { threads: 1 } };
    await writeFile(configPath, JSON.stringify(config));
  });
  after(async () => {
    await mock.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('notifications/cancelled aborts the session: the provider sees its connection close', async () => {
    const server = await spawnMcp(['--config', configPath], { TEST_KIMI_KEY: KEY });
    try {
      mock.reset();
      const controller = new AbortController();
      const call = server.call('chat', { prompt: 'wait forever [[mock hang]]' }, { signal: controller.signal });
      await mock.waitForRequests(1);
      controller.abort();
      await assert.rejects(call);
      const [closed] = await mock.waitForClosed(1);
      assert.equal(closed?.closedEarly, true);
      assert.equal(closed?.headers['authorization'], `Bearer ${KEY}`);
      const providers = await server.call('providers', {});
      assert.doesNotMatch(JSON.stringify(providers), new RegExp(KEY));
    } finally {
      await server.client.close();
    }
  });

  test('stdin closed mid-call: the server exits by itself, and no call is left open at the provider', async () => {
    const server = await spawnMcp(['--config', configPath], { TEST_KIMI_KEY: KEY });
    mock.reset();
    const calls = [1, 2, 3].map((i) => server.call('chat', { prompt: `hang ${i} [[mock hang]]` }).catch((e: unknown) => e));
    await mock.waitForRequests(3);
    assert.equal(mock.inFlight, 3);
    await server.transport.close(); // ends the server's stdin; it would send SIGTERM only 2 s later
    assert.equal(await server.stopReason(), 'stdin end');
    await server.closed;
    for (const outcome of await Promise.all(calls)) assert.ok(outcome instanceof Error);
    const closed = await mock.waitForClosed(3);
    assert.ok(closed.every((r) => r.closedEarly));
    assert.equal(mock.inFlight, 0);
    assert.ok(processGone(server.pid));
    // Each session ended once, typed: released as aborted, not left to its deadline nor lost.
    const released = server
      .stderr()
      .split('\n')
      .filter((line) => line.includes('"msg":"session released"'));
    assert.equal(released.length, 3, server.stderr());
    for (const line of released) assert.match(line, /"outcome":"aborted".*"code":"ERR_SESSION_ABORTED"/);
  });

  test('SIGTERM mid-call: the supervisor is closed, the call aborted, the process gone', async () => {
    const server = await spawnMcp(['--config', configPath], { TEST_KIMI_KEY: KEY });
    mock.reset();
    const call = server.call('chat', { prompt: 'hang [[mock hang]]' }).catch((e: unknown) => e);
    await mock.waitForRequests(1);
    process.kill(server.pid, 'SIGTERM');
    assert.equal(await server.stopReason(), 'SIGTERM');
    await mock.waitForClosed(1);
    assert.ok((await call) instanceof Error);
    await server.closed;
    assert.equal(mock.inFlight, 0);
  });
});

describe('sessionpool mcp with keys from the environment', () => {
  test('providers reports the key that is set and the ones that are not, never the value', async () => {
    const server = await spawnMcp([], { ZHIPUAI_API_KEY: 'glm-env-secret-271828' });
    try {
      const result = await server.call('providers', {});
      const { providers, defaultProvider } = result.structuredContent as { defaultProvider: string; providers: { name: string; hasKey: boolean }[] };
      assert.equal(defaultProvider, 'glm');
      assert.deepEqual(
        providers.map((p) => [p.name, p.hasKey]),
        [
          ['kimi', false],
          ['glm', true],
          ['openai', false],
        ],
      );
      assert.doesNotMatch(JSON.stringify(result), /glm-env-secret/);
      const noKey = await server.call('chat', { provider: 'kimi', prompt: 'hi' });
      assert.equal(noKey.isError, true);
      assert.match(text(noKey), /^ERR_INVALID_REQUEST: .*MOONSHOT_API_KEY/);
    } finally {
      await server.client.close();
    }
  });
});

test('on the wire: stdout carries only JSON-RPC lines, the progress token is echoed, stdin end exits 0', async () => {
  const child = spawn(process.execPath, [MAIN, 'mcp', '--mock', '--threads', '1'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, SESSIONPOOL_LOG_LEVEL: 'debug' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<[number | null, string | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
  const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
  send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  send({
    jsonrpc: '2.0',
    id: 2,
    method: 'tools/call',
    params: { name: 'chat', arguments: { prompt: 'wire [[mock chunks=12]]' }, _meta: { progressToken: 'tok-1' } },
  });
  send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'chat', arguments: { prompt: 'no token [[mock chunks=12]]' } } });
  // stdin ends once both answers are in: the server must then exit by itself.
  await new Promise<void>((resolve) => child.stdout.on('data', () => /"id":2[,}]/.test(stdout) && /"id":3[,}]/.test(stdout) && resolve()));
  child.stdin.end();
  assert.deepEqual(await exited, [0, null]);
  const messages = stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { jsonrpc: string; id?: number; method?: string; params?: { progressToken?: string; message?: string } });
  assert.ok(messages.every((m) => m.jsonrpc === '2.0'));
  // Only the call that sent a token gets progress, under that token.
  const progress = messages.filter((m) => m.method === 'notifications/progress');
  assert.ok(progress.length >= 1 && progress.every((m) => m.params?.progressToken === 'tok-1'));
  const answer = messages.find((m) => m.id === 2) as unknown as { result: { structuredContent: { content: string } } };
  assert.equal(progress.map((m) => m.params?.message).join(''), answer.result.structuredContent.content);
  assert.ok(messages.findIndex((m) => m.id === 2) > messages.lastIndexOf(progress.at(-1) as never), 'every progress notification precedes the answer');
  assert.match(stderr, /"msg":"session released"/);
  assert.match(stderr, /"reason":"stdin end"/);
});
