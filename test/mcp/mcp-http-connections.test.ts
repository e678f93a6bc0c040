// Connections cost file descriptors, which the provider calls need too: a client reopening idle
// connections (each lives up to Node's 60 s header timeout) could hold thousands and leave none for
// anyone. At most maxConnectionsPerClient per client; an IPv6 client counts by its /64. Bodies being
// received cost memory (each up to 4 MiB, sent as slowly as Node's 300 s request timeout allows):
// at most maxBodyBytesPerClient per client.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { clientKey } from '../../src/apps/mcp/client-address.ts';
import { serveHttp, type McpHttpServer } from '../../src/apps/mcp/http.ts';
import { createMcpServer, type ToolContext } from '../../src/apps/mcp/server.ts';
import { harness, type Harness } from '../support/helpers.ts';

/** Rejects with `what` when `promise` is not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`expected ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

interface Probe {
  socket: Socket;
  /** 'served' when an HTTP answer arrived, 'closed' when the server closed the connection first. */
  outcome: Promise<'served' | 'closed'>;
}

/** A TCP connection from `from` that asks for a path the server answers 404, and keeps the connection. */
function probe(port: number, from: string): Probe {
  const socket = connect({ port, host: '127.0.0.1', localAddress: from });
  const outcome = new Promise<'served' | 'closed'>((resolve) => {
    socket.once('data', () => resolve('served'));
    socket.once('close', () => resolve('closed'));
    socket.on('error', () => {}); // a reset is a close here
  });
  socket.write('GET /elsewhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  return { socket, outcome };
}

describe('connections per client', () => {
  let h: Harness;
  let http: McpHttpServer;
  let port: number;
  before(async () => {
    h = await harness();
    const context: ToolContext = { supervisor: h.supervisor, providers: {}, defaultProvider: 'kimi', version: 'test' };
    http = await serveHttp(() => createMcpServer(context), { port: 0, maxConnectionsPerClient: 3 });
    port = Number(new URL(http.url).port);
  });
  after(async () => {
    await http.close();
    await h.close();
  });

  test('a client holding its 3 connections has a fourth closed at once; another address is served; a place freed is a place taken', async () => {
    const held = [probe(port, '127.0.0.2'), probe(port, '127.0.0.2'), probe(port, '127.0.0.2')];
    for (const p of held) assert.equal(await within(p.outcome, 10_000, 'a held connection to be served'), 'served');
    // Still open, with a request begun: what an attacker holding connections sends.
    for (const p of held) p.socket.write('GET /elsewhere HTTP/1.1\r\n');
    const fourth = probe(port, '127.0.0.2');
    assert.equal(await within(fourth.outcome, 10_000, 'the fourth connection to be closed'), 'closed');
    const other = probe(port, '127.0.0.3');
    assert.equal(await within(other.outcome, 10_000, 'another address to be served'), 'served');
    other.socket.destroy();
    // One held connection ends; once the server has seen it end, the client gets a place again.
    held[0]?.socket.destroy();
    const servedAgain = async () => {
      for (;;) {
        const again = probe(port, '127.0.0.2');
        const outcome = await again.outcome;
        again.socket.destroy();
        if (outcome === 'served') return;
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    await within(servedAgain(), 10_000, 'a new connection to be served once one of the three closed');
    for (const p of held) p.socket.destroy();
  });
});

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' };

/** A POST that declares `declared` bytes and sends `sent` of them, then waits: a slow upload. */
function slowPost(url: string, from: string, declared: number, sent: number) {
  const cut = new AbortController();
  const req = request(url, { method: 'POST', headers: { ...JSON_HEADERS, 'content-length': String(declared) }, localAddress: from, signal: cut.signal });
  req.on('error', () => {}); // cut by the test
  req.write(`{"pad":"${'x'.repeat(sent - 8)}`);
  return cut;
}

/** A complete POST of `bytes` bytes (a JSON body that is not an initialize): resolves with its status. */
function fullPost(url: string, from: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = `{"pad":"${'x'.repeat(bytes - 10)}"}`;
    const req = request(url, { method: 'POST', headers: JSON_HEADERS, localAddress: from }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('request bodies being received per client', () => {
  let h: Harness;
  let http: McpHttpServer;
  before(async () => {
    h = await harness();
    const context: ToolContext = { supervisor: h.supervisor, providers: {}, defaultProvider: 'kimi', version: 'test' };
    http = await serveHttp(() => createMcpServer(context), { port: 0, maxBodyBytesPerClient: 1_000_000 });
  });
  after(async () => {
    await http.close();
    await h.close();
  });

  test('two slow uploads holding 900 KB: the client gets 429 for more body bytes; another address is read; cut uploads free their bytes', async () => {
    const slow = [slowPost(http.url, '127.0.0.2', 4_000_000, 450_000), slowPost(http.url, '127.0.0.2', 4_000_000, 450_000)];
    // Once the server holds the two uploads' 900 KB, a third body of 200 KB does not fit.
    const received = async () => {
      while (http.receivingBytes() < 900_000) await new Promise((resolve) => setImmediate(resolve));
    };
    await within(received(), 10_000, 'the server to hold both uploads (900 KB)');
    assert.equal(await within(fullPost(http.url, '127.0.0.2', 200_000), 10_000, 'an answer to the third body'), 429);
    assert.equal(http.receivingBytes(), 900_000, 'the refused body holds nothing');
    assert.equal(await within(fullPost(http.url, '127.0.0.3', 200_000), 10_000, 'another address read'), 400);
    for (const cut of slow) cut.abort();
    const released = async () => {
      while (http.receivingBytes() > 0) await new Promise((resolve) => setImmediate(resolve));
    };
    await within(released(), 10_000, 'the cut uploads to free their bytes');
    assert.equal(await within(fullPost(http.url, '127.0.0.2', 200_000), 10_000, "the client's next body"), 400);
  });
});

test('client keys: IPv4 as itself (also seen over IPv6), IPv6 by its /64', () => {
  assert.equal(clientKey('127.0.0.2'), '127.0.0.2');
  assert.equal(clientKey('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:0db8:0001:0002:ffff:eeee:dddd:cccc'), '2001:db8:1:2::/64');
  assert.notEqual(clientKey('2001:db8:1:3::1'), clientKey('2001:db8:1:2::1'));
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
  assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(clientKey(undefined), 'unknown');
});
