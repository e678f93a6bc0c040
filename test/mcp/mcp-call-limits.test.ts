// What one client may ask of the server: a deadline no longer than the server's cap (a running call
// keeps its session unevictable and holds an engine slot for as long as it runs), and over HTTP no
// more tool calls in progress than its share (the engine's slots and queue are everyone's).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Client, StreamableHTTPClientTransport, type CallToolResult } from '@modelcontextprotocol/client';
import { DEFAULT_MAX_TIMEOUT_MS } from '../../src/apps/mcp/chat-schema.ts';
import { serveHttp, type McpHttpServer } from '../../src/apps/mcp/http.ts';
import { createMcpServer, type ToolContext } from '../../src/apps/mcp/server.ts';
import { harness, type Harness } from '../support/helpers.ts';
import { spawnMcp, text } from './mcp-helpers.ts';

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: 'limits-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

const chat = (client: Client, args: Record<string, unknown>) => client.callTool({ name: 'chat', arguments: args }) as Promise<CallToolResult>;

async function timeoutMaximum(client: Client): Promise<unknown> {
  const { tools } = await client.listTools();
  const properties = tools.find((t) => t.name === 'chat')?.inputSchema.properties as Record<string, { maximum?: number }> | undefined;
  return properties?.['timeoutMs']?.maximum;
}

describe('timeoutMs is capped by the server', () => {
  let h: Harness;
  let http: McpHttpServer;
  let client: Client;
  before(async () => {
    h = await harness();
    const context: ToolContext = { supervisor: h.supervisor, providers: {}, defaultProvider: 'kimi', version: 'test', maxTimeoutMs: 5_000 };
    http = await serveHttp(() => createMcpServer(context), { port: 0 });
    client = await connect(http.url);
  });
  after(async () => {
    await client.close();
    await http.close();
    await h.close();
  });

  test('a day-long timeoutMs is refused before any session starts; the cap is the advertised maximum; the cap itself is accepted', async () => {
    assert.equal(await timeoutMaximum(client), 5_000);
    const admitted = h.supervisor.stats().admitted;
    for (const timeoutMs of [86_400_000, 5_001]) {
      const refused = await chat(client, { prompt: '[[mock hang]]', timeoutMs });
      assert.equal(refused.isError, true, `timeoutMs ${timeoutMs} was accepted`);
      assert.match(text(refused), /timeoutMs/);
      assert.match(text(refused), /5000/);
    }
    assert.equal(h.supervisor.stats().admitted, admitted, 'no session was started for a refused call');
    const answer = await chat(client, { prompt: 'within the cap', timeoutMs: 5_000 });
    assert.equal(answer.isError, undefined, text(answer));
  });
});

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' };

interface Posted {
  /** The reply's status and headers, as soon as they arrive. */
  head: Promise<{ status: number; sessionId?: string }>;
  /** The whole body, once the reply ends (or its connection is cut). */
  done: Promise<string>;
  /** Cuts the connection: a client that leaves mid-call. */
  cut: AbortController;
}

/** A POST from a given loopback source address (each address is another client). */
function post(url: string, from: string, session: string | undefined, body: unknown): Posted {
  const head = Promise.withResolvers<{ status: number; sessionId?: string }>();
  const cut = new AbortController();
  const headers = session === undefined ? JSON_HEADERS : { ...JSON_HEADERS, 'mcp-session-id': session };
  let text = '';
  const done = new Promise<string>((resolve) => {
    const req = request(url, { method: 'POST', headers, localAddress: from, signal: cut.signal }, (res) => {
      const id = res.headers['mcp-session-id'];
      head.resolve({ status: res.statusCode ?? 0, ...(typeof id === 'string' ? { sessionId: id } : {}) });
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => resolve(text));
      res.on('error', () => resolve(text));
    });
    req.on('error', (error) => {
      head.reject(error);
      resolve(text);
    });
    req.end(JSON.stringify(body));
  });
  return { head: head.promise, done, cut };
}

async function openSession(url: string, from: string): Promise<string> {
  const params = { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } };
  const init = post(url, from, undefined, { jsonrpc: '2.0', id: 1, method: 'initialize', params });
  const { status, sessionId } = await init.head;
  assert.equal(status, 200);
  assert.ok(sessionId);
  await init.done;
  await post(url, from, sessionId, { jsonrpc: '2.0', method: 'notifications/initialized' }).done;
  return sessionId;
}

const chatCall = (id: number, prompt: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'chat', arguments: { prompt } } });

/** Rejects with `what` when `promise` is not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`expected ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('tool calls in progress per client (HTTP)', () => {
  let h: Harness;
  let http: McpHttpServer;
  before(async () => {
    h = await harness();
    const context: ToolContext = { supervisor: h.supervisor, providers: {}, defaultProvider: 'kimi', version: 'test' };
    http = await serveHttp(() => createMcpServer(context), { port: 0, maxCallsPerClient: 2 });
  });
  after(async () => {
    await http.close();
    await h.close();
  });

  test('a client at its limit gets 429 for one more call, on any of its sessions; another client is served; a call ending frees a place', async () => {
    const hog = '127.0.0.2';
    const [a, b] = [await openSession(http.url, hog), await openSession(http.url, hog)];
    const running = [post(http.url, hog, a, chatCall(2, '[[mock hang]]')), post(http.url, hog, b, chatCall(2, '[[mock hang]]'))];
    await within(h.mock.waitForRequests(2), 30_000, "the hog's two calls at the provider");
    for (const id of [a, b]) {
      const third = post(http.url, hog, id, chatCall(3, '[[mock hang]]'));
      assert.equal((await within(third.head, 30_000, 'an answer to a third call')).status, 429);
      const error = JSON.parse(await third.done) as { id: unknown; error: { message: string } };
      assert.equal(error.id, 3);
      assert.match(error.error.message, /at most 2 in progress per client/);
    }
    assert.equal(h.mock.inFlight, 2, 'the refused calls never reached the provider');
    // Another address is another client: served at once.
    const other = await openSession(http.url, '127.0.0.1');
    assert.match(await within(post(http.url, '127.0.0.1', other, chatCall(2, 'my turn')).done, 30_000, 'the other client answered'), /Answer to/);
    // One of the hog's calls ends (its client cut it): the hog may call again.
    const freed = h.mock.waitForClosed(1);
    running[0]?.cut.abort();
    await within(freed, 30_000, 'the cut call to end at the provider');
    await within(
      (async () => {
        // The place is free once the aborted call's answer went out: a few event-loop turns after the provider saw the close.
        for (;;) {
          const again = post(http.url, hog, a, chatCall(4, 'again'));
          if ((await again.head).status === 200) return again.done;
          await again.done;
          await new Promise((resolve) => setImmediate(resolve));
        }
      })(),
      30_000,
      'the hog to be served again once a call of its own ended',
    );
    running[1]?.cut.abort();
    await within(h.mock.waitForClosed(2), 30_000, 'the last call to end');
  });
});

describe('progress tokens are short', () => {
  let h: Harness;
  let http: McpHttpServer;
  let client: Client;
  before(async () => {
    h = await harness();
    const context: ToolContext = { supervisor: h.supervisor, providers: {}, defaultProvider: 'kimi', version: 'test' };
    http = await serveHttp(() => createMcpServer(context), { port: 0 });
    client = await connect(http.url);
  });
  after(async () => {
    await client.close();
    await http.close();
    await h.close();
  });

  test('a 1 MB token (each notification echoes it: 200 chunks made 206 MB) is refused unstarted; one of 256 characters streams', async () => {
    const admitted = h.supervisor.stats().admitted;
    const params = (progressToken: string) => ({ name: 'chat', arguments: { prompt: 'tokens [[mock chunks=20]]' }, _meta: { progressToken } });
    const refused = (await client.callTool(params('T'.repeat(1_000_000)))) as CallToolResult;
    assert.equal(refused.isError, true);
    assert.match(text(refused), /^ERR_INVALID_REQUEST: .*`_meta.progressToken`: at most 256 characters, got 1000000/);
    assert.equal(h.supervisor.stats().admitted, admitted, 'no session was started');
    const notified: string[] = [];
    client.setNotificationHandler('notifications/progress', (n) => {
      notified.push(String(n.params.progressToken));
    });
    const token = 't'.repeat(256);
    const answer = (await client.callTool(params(token))) as CallToolResult;
    assert.equal(answer.isError, undefined, text(answer));
    assert.ok(notified.length > 0 && notified.every((t) => t === token), 'the answer streamed with the token');
  });
});

describe('the CLI: --max-timeout, and its default', () => {
  test('default: 10 minutes, or the default deadline (--timeout) when that is longer; --max-timeout sets it', async () => {
    const cases: [string[], number][] = [
      [[], DEFAULT_MAX_TIMEOUT_MS],
      [['--timeout', '900000'], 900_000],
      [['--max-timeout', '30000'], 30_000],
    ];
    for (const [flags, expected] of cases) {
      const server = await spawnMcp(['--mock', '--threads', '1', ...flags]);
      try {
        assert.equal(await timeoutMaximum(server.client), expected, flags.join(' '));
      } finally {
        await server.client.close();
      }
    }
  });
});
