// A request id that is still in flight, sent again: the SDK's Protocol would let the second request
// replace the first one's abort controller, and the first call could then be neither cancelled nor
// aborted by its session's end (it ran on to its deadline, holding an engine slot). Refused on both
// transports. And over HTTP only an initialize may make room for a new session.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { PassThrough } from 'node:stream';
import { after, afterEach, before, describe, test } from 'node:test';
import { serveHttp, type McpHttpOptions, type McpHttpServer } from '../../src/apps/mcp/http.ts';
import { createMcpServer, type ToolContext } from '../../src/apps/mcp/server.ts';
import { LineTransport } from '../../src/apps/mcp/stdio-transport.ts';
import { harness, type Harness } from '../support/helpers.ts';

const PROTOCOL = '2025-11-25';
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': PROTOCOL };
const INVALID_REQUEST = -32600;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A POST (or any method) with any headers; resolves when the whole reply is in. */
function raw(url: string, init: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'POST', headers: init.headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const rpc = (id: string | number, method: string, params: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id, method, params });
const chatCall = (id: string | number, prompt: string) => rpc(id, 'tools/call', { name: 'chat', arguments: { prompt } });
const initialize = rpc(1, 'initialize', { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'raw', version: '1' } });

async function openSession(url: string): Promise<string> {
  const reply = await raw(url, { headers: JSON_HEADERS, body: JSON.stringify(initialize) });
  const id = reply.headers['mcp-session-id'];
  assert.equal(typeof id, 'string', `initialize: ${reply.status} ${reply.body}`);
  await raw(url, {
    headers: { ...JSON_HEADERS, 'mcp-session-id': id as string },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  return id as string;
}

/** Rejects with `what` when `promise` is not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`expected ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('over Streamable HTTP', () => {
  let h: Harness;
  let context: ToolContext;
  let http: McpHttpServer | undefined;
  const serve = async (options: Partial<McpHttpOptions> = {}) => {
    http = await serveHttp(() => createMcpServer(context), { port: 0, ...options });
    return http.url;
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

  test('the id of a call in progress, sent again: 409 with a JSON-RPC error for that id; the first call still ends with its session', async () => {
    const url = await serve();
    const headers = { ...JSON_HEADERS, 'mcp-session-id': await openSession(url) };
    const first = raw(url, { headers, body: JSON.stringify(chatCall(7, '[[mock hang]]')) });
    await within(h.mock.waitForRequests(1), 30_000, 'the first call at the provider');
    const again = await raw(url, { headers, body: JSON.stringify(chatCall(7, 'same id')) });
    assert.equal(again.status, 409, again.body);
    assert.deepEqual(JSON.parse(again.body), {
      jsonrpc: '2.0',
      id: 7,
      error: { code: INVALID_REQUEST, message: 'Invalid Request: id 7 is in use by a request in progress' },
    });
    // A ping may not take the id either (it would replace the call's abort controller just the same).
    assert.equal((await raw(url, { headers, body: JSON.stringify(rpc(7, 'ping')) })).status, 409);
    assert.equal(h.mock.requests.length, 1, 'the refused call never reached the provider');
    // The session ends: its call, still the first one, is aborted at the provider.
    assert.equal((await raw(url, { method: 'DELETE', headers })).status, 200);
    const [closed] = await within(h.mock.waitForClosed(1), 30_000, 'the first call to be aborted by DELETE');
    assert.equal(closed?.closedEarly, true);
    await first;
  });

  test('a batch repeating an id is refused whole; an id is free again once answered, and once its request was refused unread', async () => {
    const url = await serve();
    const headers = { ...JSON_HEADERS, 'mcp-session-id': await openSession(url) };
    const batch = await raw(url, { headers, body: JSON.stringify([rpc(3, 'ping'), rpc(3, 'tools/list')]) });
    assert.equal(batch.status, 409);
    assert.equal(JSON.parse(batch.body).id, 3);
    for (let round = 0; round < 2; round++) {
      const answered = await raw(url, { headers, body: JSON.stringify(chatCall(4, `round ${round}`)) });
      assert.equal(answered.status, 200);
      assert.match(answered.body, /Answer to \\"round/);
    }
    // Refused by the transport before the Protocol saw it (an unsupported protocol version): id 5 stays free.
    const refused = await raw(url, { headers: { ...headers, 'mcp-protocol-version': '1999-01-01' }, body: JSON.stringify(chatCall(5, 'x')) });
    assert.equal(refused.status, 400);
    assert.equal((await raw(url, { headers, body: JSON.stringify(chatCall(5, 'now')) })).status, 200);
  });

  test('a POST without a session that is not an initialize is refused before any session is closed to make room', async () => {
    const url = await serve({ maxSessions: 2 });
    const sessions = [await openSession(url), await openSession(url)];
    const malformedInitializes = [{ method: 'initialize' }, { ...initialize, params: {} }, { ...initialize, jsonrpc: '1.0' }];
    for (const body of [rpc(9, 'tools/list'), [initialize, rpc(2, 'ping')], { jsonrpc: '2.0', method: 'notifications/initialized' }, ...malformedInitializes]) {
      const refused = await raw(url, { headers: JSON_HEADERS, body: JSON.stringify(body) });
      assert.equal(refused.status, 400, JSON.stringify(body));
    }
    assert.equal((await raw(url, { headers: JSON_HEADERS, body: '{"jsonrpc":' })).status, 400);
    for (const id of sessions) {
      const ping = await raw(url, { headers: { ...JSON_HEADERS, 'mcp-session-id': id }, body: JSON.stringify(rpc(1, 'ping')) });
      assert.equal(ping.status, 200, 'no session was evicted for a request that could not open one');
    }
  });
});

describe('over stdio (our line transport)', () => {
  test('the id of a call in progress, sent again: an Invalid Request error for it; cancelling the id then aborts the first call', async (t) => {
    const h = await harness();
    const input = new PassThrough();
    const output = new PassThrough();
    const server = createMcpServer({ supervisor: h.supervisor, providers: {}, defaultProvider: 'kimi', version: 'test' });
    t.after(async () => {
      await server.close();
      await h.close();
    });
    await server.connect(new LineTransport(input, output));
    const lines: { id?: unknown; error?: { code: number; message: string } }[] = [];
    let text = '';
    const arrived = new Set<() => void>();
    output.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const parts = text.split('\n');
      text = parts.pop() ?? '';
      for (const part of parts) lines.push(JSON.parse(part));
      for (const wake of arrived) wake();
    });
    const answerTo = (id: unknown) =>
      within(
        new Promise<(typeof lines)[number]>((resolve) => {
          const check = () => {
            const found = lines.find((m) => m.id === id);
            if (found) resolve(found);
          };
          arrived.add(check);
          check();
        }),
        30_000,
        `an answer to id ${String(id)}`,
      );
    const send = (message: unknown) => input.write(`${JSON.stringify(message)}\n`);
    send(initialize);
    await answerTo(1);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send(chatCall('c', '[[mock hang]]'));
    await within(h.mock.waitForRequests(1), 30_000, 'the call at the provider');
    send(chatCall('c', 'same id'));
    const refused = await answerTo('c');
    assert.equal(refused.error?.code, INVALID_REQUEST);
    assert.match(refused.error?.message ?? '', /id "c" is in use by a request in progress/);
    send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'c', reason: 'test' } });
    const [closed] = await within(h.mock.waitForClosed(1), 30_000, 'the first call to be aborted by its cancellation');
    assert.equal(closed?.closedEarly, true);
    assert.equal(h.mock.requests.length, 1);
  });
});
