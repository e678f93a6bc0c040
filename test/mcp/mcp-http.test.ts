// Streamable HTTP: the SDK's own Client against serveHttp on 127.0.0.1, one MCP server per session.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Client, StreamableHTTPClientTransport, type CallToolResult, type Progress } from '@modelcontextprotocol/client';
import { requestGuard } from '../../src/apps/mcp/http-guard.ts';
import { serveHttp, type McpHttpServer } from '../../src/apps/mcp/http.ts';
import { createMcpServer, type ToolContext } from '../../src/apps/mcp/server.ts';
import { harness, type Harness } from '../support/helpers.ts';

const PROTOCOL = '2025-11-25';

async function connect(url: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: 'http-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

const chat = (client: Client, args: Record<string, unknown>, options?: Parameters<Client['callTool']>[1]) =>
  client.callTool({ name: 'chat', arguments: args }, options) as Promise<CallToolResult>;

/** A plain HTTP request with any headers (Host included), for what an SDK client would never send. */
function raw(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'POST', headers: init.headers, signal: init.signal }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': PROTOCOL };
const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

/** Opens a session by hand and returns its id. */
async function rawSession(url: string): Promise<string> {
  const init = await raw(url, { headers: JSON_HEADERS, body: initialize });
  const id = init.headers['mcp-session-id'];
  assert.equal(typeof id, 'string');
  await raw(url, {
    headers: { ...JSON_HEADERS, 'mcp-session-id': id as string },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  return id as string;
}

describe('sessionpool mcp over Streamable HTTP', () => {
  let h: Harness;
  let http: McpHttpServer;
  before(async () => {
    h = await harness();
    const context: ToolContext = { supervisor: h.supervisor, providers: {}, defaultProvider: 'kimi', version: 'test' };
    http = await serveHttp(() => createMcpServer(context), { port: 0 });
  });
  after(async () => {
    await http.close();
    await h.close();
  });

  test('each client gets its own session; calls and progress work; DELETE ends the session', async () => {
    const a = await connect(http.url);
    const b = await connect(http.url);
    assert.equal(http.sessionCount(), 2);
    assert.notEqual(a.transport.sessionId, b.transport.sessionId);
    const progress: Progress[] = [];
    const [first, second] = await Promise.all([
      chat(a.client, { prompt: 'from a [[mock chunks=10]]' }, { onprogress: (p) => progress.push(p) }),
      chat(b.client, { provider: 'glm', prompt: 'from b' }),
    ]);
    assert.match((first.structuredContent as { content: string }).content, /^Answer to "from a/);
    assert.equal(progress.map((p) => p.message).join(''), (first.structuredContent as { content: string }).content);
    assert.equal((second.structuredContent as { provider: string }).provider, 'glm');
    await a.transport.terminateSession();
    assert.equal(http.sessionCount(), 1);
    await b.transport.terminateSession();
    await Promise.all([a.client.close(), b.client.close()]);
    assert.equal(http.sessionCount(), 0);
  });

  test('notifications/cancelled (on another request than the call) aborts the session at the provider', async () => {
    h.mock.reset();
    const { client, transport } = await connect(http.url);
    const controller = new AbortController();
    const call = chat(client, { prompt: '[[mock hang]]' }, { signal: controller.signal });
    await h.mock.waitForRequests(1);
    controller.abort();
    await assert.rejects(call);
    const [closed] = await h.mock.waitForClosed(1);
    assert.equal(closed?.closedEarly, true);
    await transport.terminateSession();
    await client.close();
  });

  test('a client that disappears mid-call (its connection closes) aborts its session', async () => {
    h.mock.reset();
    const session = await rawSession(http.url);
    const gone = new AbortController();
    const call = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'chat', arguments: { prompt: '[[mock hang]]' } } });
    const pending = raw(http.url, { headers: { ...JSON_HEADERS, 'mcp-session-id': session }, body: call, signal: gone.signal }).catch((e: unknown) => e);
    await h.mock.waitForRequests(1);
    gone.abort();
    assert.ok((await pending) instanceof Error);
    const [closed] = await h.mock.waitForClosed(1);
    assert.equal(closed?.closedEarly, true);
    await raw(http.url, { method: 'DELETE', headers: { ...JSON_HEADERS, 'mcp-session-id': session } });
  });

  test('DELETE of a session with a call in flight aborts that call', async () => {
    h.mock.reset();
    const session = await rawSession(http.url);
    const call = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'chat', arguments: { prompt: '[[mock hang]]' } } });
    const pending = raw(http.url, { headers: { ...JSON_HEADERS, 'mcp-session-id': session }, body: call }).catch((e: unknown) => e);
    await h.mock.waitForRequests(1);
    const deleted = await raw(http.url, { method: 'DELETE', headers: { ...JSON_HEADERS, 'mcp-session-id': session } });
    assert.equal(deleted.status, 200);
    await h.mock.waitForClosed(1);
    await pending;
    assert.equal(http.sessionCount(), 0);
  });

  test('an oversized call (over 4 MiB) gets 413; the session and its other calls go on', async () => {
    h.mock.reset();
    const session = await rawSession(http.url);
    const headers = { ...JSON_HEADERS, 'mcp-session-id': session };
    const running = raw(http.url, {
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'chat', arguments: { prompt: 'beside it' } } }),
    });
    const huge = JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'chat', arguments: { prompt: 'x'.repeat(11 * 1024 * 1024) } } });
    // Refused on its Content-Length, before the body is read.
    const refused = await raw(http.url, { headers, body: huge });
    assert.equal(refused.status, 413);
    assert.match(refused.body, /must not exceed 4194304 bytes/);
    assert.match((await running).body, /Answer to \\"beside it\\"/);
    const ping = await raw(http.url, { headers, body: JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'ping' }) });
    assert.equal(ping.status, 200);
    await raw(http.url, { method: 'DELETE', headers });
  });

  test('Host and Origin must be loopback names: anything else gets 403 before any MCP work', async () => {
    const port = new URL(http.url).port;
    for (const headers of [{ host: `evil.example:${port}` }, { origin: 'http://evil.example' }, { host: `attacker.localhost.example:${port}` }] as Record<
      string,
      string
    >[]) {
      const refused = await raw(http.url, { headers: { ...JSON_HEADERS, ...headers }, body: initialize });
      assert.equal(refused.status, 403, JSON.stringify(headers));
    }
    for (const headers of [{ host: `localhost:${port}` }, { origin: `http://127.0.0.1:${port}` }] as Record<string, string>[]) {
      const accepted = await raw(http.url, { headers: { ...JSON_HEADERS, ...headers }, body: initialize });
      assert.equal(accepted.status, 200, JSON.stringify(headers));
      await raw(http.url, { method: 'DELETE', headers: { ...JSON_HEADERS, 'mcp-session-id': accepted.headers['mcp-session-id'] as string } });
    }
    assert.equal(http.sessionCount(), 0);
  });

  test('unknown sessions, requests without a session and other paths are refused; a failed initialize leaves no session', async () => {
    assert.equal((await raw(http.url, { headers: { ...JSON_HEADERS, 'mcp-session-id': 'nope' }, body: initialize })).status, 404);
    assert.equal((await raw(http.url, { method: 'GET', headers: JSON_HEADERS })).status, 400);
    assert.equal((await raw(http.url.replace('/mcp', '/other'), { headers: JSON_HEADERS, body: initialize })).status, 404);
    const notInit = JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list' });
    assert.equal((await raw(http.url, { headers: JSON_HEADERS, body: notInit })).status, 400);
    assert.equal(http.sessionCount(), 0);
  });
});

describe('binding beyond loopback', () => {
  test('a non-loopback host without allowed hosts is refused up front', () => {
    assert.throws(() => requestGuard('0.0.0.0'), /--allowed-host/);
    assert.doesNotThrow(() => requestGuard('0.0.0.0', ['mcp.internal.example']));
  });

  test('allowed hosts are accepted, and only they', async () => {
    const h = await harness();
    const context: ToolContext = { supervisor: h.supervisor, providers: {}, defaultProvider: 'kimi', version: 'test' };
    const http = await serveHttp(() => createMcpServer(context), { port: 0, allowedHosts: ['mcp.internal.example'] });
    try {
      const port = new URL(http.url).port;
      const ok = await raw(http.url, { headers: { ...JSON_HEADERS, host: `mcp.internal.example:${port}` }, body: initialize });
      assert.equal(ok.status, 200);
      const refused = await raw(http.url, { headers: { ...JSON_HEADERS, host: `other.example:${port}` }, body: initialize });
      assert.equal(refused.status, 403);
    } finally {
      await http.close();
      await h.close();
    }
  });
});
