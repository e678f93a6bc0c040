// JSON of a shape V8 parses slowly: 3 MB of `[[[…]]]` took 1.2 s of the main thread, an object of
// 300,000 keys 2-3 s through the server (flat JSON of that size: 13 ms), so one client could stall
// every other client and every deadline timer with a message a second. Both transports refuse such
// shapes (json-limits.ts) before parsing.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { serveHttp, type McpHttpServer } from '../../src/apps/mcp/http.ts';
import { JSON_LIMITS, jsonTooCostly } from '../../src/apps/mcp/json-limits.ts';
import { createMcpServer, type ToolContext } from '../../src/apps/mcp/server.ts';
import { LineTransport } from '../../src/apps/mcp/stdio-transport.ts';
import { harness, type Harness } from '../support/helpers.ts';

const PROTOCOL = '2025-11-25';
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': PROTOCOL };
const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
/** A chat call whose `_meta` carries `meta` (raw JSON text): the SDK passes `_meta` through unchecked. */
const callWithMeta = (id: number, meta: string) =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"chat","arguments":{"prompt":"deep"},"_meta":{"x":${meta}}}}`;

function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Rejects with `what` when `promise` is not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`expected ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const manyKeys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":1`).join(',')}}`;
const manyObjects = (n: number) => `[${Array.from({ length: n }, () => '{}').join(',')}]`;

test('the scan: depth, members of one object, containers in all; brackets and commas inside strings (escaped quotes included) do not count', () => {
  assert.equal(jsonTooCostly(nested(JSON_LIMITS.depth)), undefined);
  assert.equal(jsonTooCostly(nested(JSON_LIMITS.depth + 1)), 'JSON nested deeper than 100 levels');
  assert.equal(jsonTooCostly(`${'{"a":'.repeat(101)}1${'}'.repeat(101)}`), 'JSON nested deeper than 100 levels');
  assert.equal(jsonTooCostly(JSON.stringify({ s: `\\"${'['.repeat(500)}` })), undefined);
  assert.equal(jsonTooCostly(JSON.stringify([`"${'{'.repeat(500)}`, 'x'])), undefined);
  assert.equal(jsonTooCostly(manyKeys(JSON_LIMITS.keys)), undefined);
  assert.equal(jsonTooCostly(manyKeys(JSON_LIMITS.keys + 1)), 'a JSON object with more than 1000 members');
  // Commas of an array, or of a string, are not an object's members.
  assert.equal(jsonTooCostly(`{"a":[${'1,'.repeat(5000)}1],"b":"${','.repeat(5000)}"}`), undefined);
  assert.equal(jsonTooCostly(manyObjects(JSON_LIMITS.containers - 1)), undefined);
  assert.equal(jsonTooCostly(manyObjects(JSON_LIMITS.containers)), 'JSON with more than 100000 arrays and objects');
});

describe('over Streamable HTTP', () => {
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

  test('a body nested 1.5 million levels deep, or with an object of 300,000 keys, is refused as a parse error, unparsed; 100 levels still pass', async () => {
    const init = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"${PROTOCOL}","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`;
    const opened = await post(http.url, JSON_HEADERS, init);
    const headers = { ...JSON_HEADERS, 'mcp-session-id': opened.headers['mcp-session-id'] as string };
    const admitted = h.supervisor.stats().admitted;
    const deep = await post(http.url, headers, callWithMeta(2, nested(1_500_000)));
    assert.equal(deep.status, 400, deep.body.slice(0, 200));
    assert.deepEqual(JSON.parse(deep.body).error, { code: -32700, message: 'Parse error: JSON nested deeper than 100 levels' });
    const wide = await post(http.url, headers, callWithMeta(2, manyKeys(300_000)));
    assert.equal(wide.status, 400, wide.body.slice(0, 200));
    assert.deepEqual(JSON.parse(wide.body).error, { code: -32700, message: 'Parse error: a JSON object with more than 1000 members' });
    // Before a session too: an initialize nested deep is refused the same way.
    assert.equal((await post(http.url, JSON_HEADERS, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":${nested(1_000)}}`)).status, 400);
    assert.equal(h.supervisor.stats().admitted, admitted, 'no session was started');
    const shallow = await post(http.url, headers, callWithMeta(3, nested(JSON_LIMITS.depth - 4)));
    assert.equal(shallow.status, 200);
    assert.match(shallow.body, /Answer to \\"deep\\"/);
  });
});

test('over stdio: a deep line gets a parse error naming the limit, and the next line is delivered', async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  const transport = new LineTransport(input, output);
  const delivered: JSONRPCMessage[] = [];
  const next = Promise.withResolvers<void>();
  transport.onmessage = (message) => {
    delivered.push(message);
    next.resolve();
  };
  await transport.start();
  const answered = new Promise<string>((resolve) => output.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8'))));
  input.write(`${callWithMeta(1, nested(1_500_000))}\n`);
  const error = JSON.parse(await within(answered, 10_000, 'an answer to the deep line')) as { id: unknown; error: { code: number; message: string } };
  assert.equal(error.id, null);
  assert.equal(error.error.code, -32700);
  assert.match(error.error.message, /nested deeper than 100 levels/);
  assert.equal(delivered.length, 0);
  input.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' })}\n`);
  await within(next.promise, 10_000, 'the ping to be delivered');
  assert.equal((delivered[0] as { id?: unknown }).id, 2);
  await transport.close();
});
