// Streamable HTTP sessions under clients that never say goodbye: one client must not lock out the
// others. Script-style clients (connect, list tools, close: no DELETE), busy sessions, expiry on an
// injected clock, limits per remote address, and a client that vanishes mid-call.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, afterEach, before, describe, test } from 'node:test';
import { Client, StreamableHTTPClientTransport, type CallToolResult } from '@modelcontextprotocol/client';
import { serveHttp, type McpHttpOptions, type McpHttpServer } from '../../src/apps/mcp/http.ts';
import { createMcpServer, type ToolContext } from '../../src/apps/mcp/server.ts';
import type { TransitionEvent } from '../../src/index.ts';
import { harness, type Harness, waitForTransition } from '../support/helpers.ts';

const PROTOCOL = '2025-11-25';
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': PROTOCOL };

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: 'sessions-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

/** What a script does with the SDK: connect, list the tools, close. The client sends no DELETE. */
async function scriptRun(url: string): Promise<void> {
  const client = await connect(url);
  assert.equal((await client.listTools()).tools.length, 3);
  await client.close();
}

interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A plain HTTP request, optionally from another loopback source address (another "client"). */
function raw(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; from?: string; signal?: AbortSignal }): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const options = { method: init.method ?? 'POST', headers: init.headers, signal: init.signal, ...(init.from ? { localAddress: init.from } : {}) };
    const req = request(url, options, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

/** Opens a session by hand from `from`; returns the reply (a session id on 200). */
async function rawInitialize(url: string, from?: string): Promise<{ status: number; id?: string }> {
  const reply = await raw(url, { headers: JSON_HEADERS, body: initialize, ...(from ? { from } : {}) });
  const id = reply.headers['mcp-session-id'];
  if (typeof id !== 'string') return { status: reply.status };
  await raw(url, {
    headers: { ...JSON_HEADERS, 'mcp-session-id': id },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    ...(from ? { from } : {}),
  });
  return { status: reply.status, id };
}

/** Starts a tool call that hangs at the provider; the returned controller cuts its connection. */
function rawHangingCall(url: string, session: string, from?: string): { cut: AbortController; done: Promise<unknown> } {
  const cut = new AbortController();
  const body = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'chat', arguments: { prompt: '[[mock hang]]' } } });
  const done = raw(url, { headers: { ...JSON_HEADERS, 'mcp-session-id': session }, body, signal: cut.signal, ...(from ? { from } : {}) }).catch(
    (e: unknown) => e,
  );
  return { cut, done };
}

/** Rejects with `what` when `promise` is not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`expected ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The engine session of the tool call made on MCP session `id`, once released. */
function releasedOn(h: Harness, id: string | undefined) {
  const match = (e: TransitionEvent) => e.to === 'released' && (e.metadata as { mcp?: { sessionId?: string } } | undefined)?.mcp?.sessionId === id;
  return within(waitForTransition(h, match), 30_000, `the session of MCP session ${id} to be released`);
}

/** Opens the session's standing GET stream, as a live SDK client does; resolves once the server answered its headers. */
async function openStream(url: string, session: string): Promise<AbortController> {
  const cut = new AbortController();
  await new Promise<void>((resolve, reject) => {
    const req = request(url, { method: 'GET', headers: { ...JSON_HEADERS, 'mcp-session-id': session }, signal: cut.signal }, (res) => {
      assert.equal(res.statusCode, 200);
      res.on('error', () => {}); // cut by the test at its end
      resolve();
    });
    req.on('error', (error) => (cut.signal.aborted ? undefined : reject(error)));
    req.end();
  });
  return cut;
}

const ping = (url: string, session: string) =>
  raw(url, { headers: { ...JSON_HEADERS, 'mcp-session-id': session }, body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' }) });

describe('Streamable HTTP sessions: no client locks out the others', () => {
  let h: Harness;
  let context: ToolContext;
  let http: McpHttpServer | undefined;
  const clock = { now: 1_000_000 };
  const serve = async (options: Partial<McpHttpOptions>) => {
    http = await serveHttp(() => createMcpServer(context), { port: 0, now: () => clock.now, ...options });
    return http;
  };
  before(async () => {
    h = await harness();
    context = { supervisor: h.supervisor, providers: {}, defaultProvider: 'kimi', version: 'test' };
  });
  afterEach(async () => {
    await http?.close();
    http = undefined;
    h.mock.reset();
  });
  after(() => h.close());

  test('40 script runs of the SDK client (no DELETE) against 10 session slots: the next client still gets in and calls', async () => {
    const server = await serve({ maxSessions: 10 });
    for (let run = 0; run < 40; run++) await scriptRun(server.url);
    assert.ok(server.sessionCount() <= 10, `expected at most 10 sessions, got ${server.sessionCount()}`);
    const client = await connect(server.url);
    const answer = (await client.callTool({ name: 'chat', arguments: { prompt: 'let me in' } })) as CallToolResult;
    assert.equal(answer.isError, undefined);
    await client.close();
  });

  test('a session with a tool call running is never evicted; when every session is busy a newcomer is refused, nobody evicted', async () => {
    const server = await serve({ maxSessions: 2 });
    const a = await rawInitialize(server.url);
    const b = await rawInitialize(server.url);
    const calls = [rawHangingCall(server.url, a.id as string), rawHangingCall(server.url, b.id as string)];
    await h.mock.waitForRequests(2);
    const refused = await rawInitialize(server.url);
    assert.equal(refused.status, 503);
    for (let run = 0; run < 5; run++) await assert.rejects(scriptRun(server.url), /503|Too many sessions/);
    // Both sessions are still there, and their calls still at the provider.
    assert.equal((await ping(server.url, a.id as string)).status, 200);
    assert.equal((await ping(server.url, b.id as string)).status, 200);
    assert.equal(h.mock.inFlight, 2);
    // One call ends: its session is idle again, and is the one a newcomer's session replaces.
    const aEnded = releasedOn(h, a.id);
    calls[0]?.cut.abort();
    assert.equal((await aEnded).outcome, 'aborted');
    assert.equal((await rawInitialize(server.url)).status, 200);
    assert.equal((await ping(server.url, a.id as string)).status, 404);
    assert.equal((await ping(server.url, b.id as string)).status, 200);
    assert.equal(h.mock.inFlight, 1);
    calls[1]?.cut.abort();
    await h.mock.waitForClosed(2);
  });

  test('on the clock: a client that left without calling a tool expires after freshIdleMs, one that called one after idleMs; a connected one stays', async () => {
    const server = await serve({ freshIdleMs: 60_000, idleMs: 600_000 });
    for (let run = 0; run < 3; run++) await rawInitialize(server.url); // connect and leave
    const worker = await rawInitialize(server.url);
    const stats = JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'stats', arguments: {} } });
    assert.match((await raw(server.url, { headers: { ...JSON_HEADERS, 'mcp-session-id': worker.id as string }, body: stats })).body, /"admitted"/);
    const listener = await rawInitialize(server.url);
    const stream = await openStream(server.url, listener.id as string); // still connected, no tool called yet
    assert.equal(server.sessionCount(), 5);
    clock.now += 60_001;
    assert.equal((await rawInitialize(server.url)).status, 200); // admission first closes what has expired
    assert.equal(server.sessionCount(), 3, 'the three that left without a tool call expired');
    assert.equal((await ping(server.url, worker.id as string)).status, 200);
    assert.equal((await ping(server.url, listener.id as string)).status, 200);
    clock.now += 600_001;
    assert.equal((await rawInitialize(server.url)).status, 200);
    assert.equal((await ping(server.url, worker.id as string)).status, 404, 'idle past idleMs, the tool user expired too');
    assert.equal((await ping(server.url, listener.id as string)).status, 200, 'a client with its stream open is not expired');
    stream.abort();
  });

  test('per remote address: a client at its limit replaces its own idle sessions or is refused (429); other addresses get in', async () => {
    const server = await serve({ maxSessions: 100, maxSessionsPerClient: 2 });
    const [x1, x2] = [await rawInitialize(server.url, '127.0.0.2'), await rawInitialize(server.url, '127.0.0.2')];
    const x3 = await rawInitialize(server.url, '127.0.0.2');
    assert.equal(x3.status, 200);
    assert.equal((await ping(server.url, x1.id as string)).status, 404, "the address's least recently used idle session made room");
    const calls = [rawHangingCall(server.url, x2.id as string, '127.0.0.2'), rawHangingCall(server.url, x3.id as string, '127.0.0.2')];
    await h.mock.waitForRequests(2);
    const refused = await raw(server.url, { headers: JSON_HEADERS, body: initialize, from: '127.0.0.2' });
    assert.equal(refused.status, 429);
    assert.match(refused.body, /at most 2 sessions per client/);
    // Another address is another client.
    assert.equal((await rawInitialize(server.url, '127.0.0.1')).status, 200);
    await scriptRun(server.url);
    for (const call of calls) call.cut.abort();
    await h.mock.waitForClosed(2);
  });

  test('a client that vanishes mid-call: its session ends typed (aborted) and the server serves the next client', async () => {
    const server = await serve({});
    const session = await rawInitialize(server.url);
    const call = rawHangingCall(server.url, session.id as string);
    await h.mock.waitForRequests(1);
    const ended = releasedOn(h, session.id);
    call.cut.abort();
    const released = await ended;
    assert.equal(released.outcome, 'aborted');
    assert.equal(released.error?.code, 'ERR_SESSION_ABORTED');
    const client = await connect(server.url);
    const answer = (await client.callTool({ name: 'chat', arguments: { prompt: 'after the vanished one' } })) as CallToolResult;
    assert.equal(answer.isError, undefined);
    await client.close();
  });
});

test('session limits must be whole numbers from 1: a 0 is refused before the server listens', async () => {
  const h = await harness();
  try {
    const context: ToolContext = { supervisor: h.supervisor, providers: {}, defaultProvider: 'kimi', version: 'test' };
    await assert.rejects(
      serveHttp(() => createMcpServer(context), { port: 0, freshIdleMs: 0 }),
      /expected `freshIdleMs` to be a whole number from 1 and up, got 0 \(number\)/,
    );
    await assert.rejects(
      serveHttp(() => createMcpServer(context), { port: 0, maxSessionsPerClient: 1.5 }),
      /`maxSessionsPerClient`/,
    );
  } finally {
    await h.close();
  }
});
