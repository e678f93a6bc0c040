// Hostile bytes on the stdio transport: an oversized message or a malformed line gets a JSON-RPC
// error, and the server stays up with its other calls running.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Progress } from '@modelcontextprotocol/client';
import { LineFramer } from '../../src/apps/mcp/line-framer.ts';
import { idFromEnds } from '../../src/apps/mcp/message-id.ts';
import { MAIN, processGone, spawnMcp, text, type StdioServer } from './mcp-helpers.ts';

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
/** Over the server's 4 MiB message limit, as in the finding: a prompt of 11 MB. */
const HUGE_PROMPT = 'x'.repeat(11 * 1024 * 1024);

interface Message {
  jsonrpc: string;
  id?: number | string | null;
  method?: string;
  result?: { structuredContent?: { content?: string }; tools?: unknown[] };
  error?: { code: number; message: string };
}

/** `sessionpool mcp --mock` on raw pipes: what an MCP client would never send, and every line it answers. */
class RawServer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly messages: Message[] = [];
  readonly exited: Promise<[number | null, string | null]>;
  #stdout = '';
  #waiters = new Set<() => void>();

  constructor() {
    this.child = spawn(process.execPath, [MAIN, 'mcp', '--mock', '--threads', '1'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env } });
    this.child.stderr.resume();
    // Writing to a server that already exited fails with EPIPE; the exit itself is what tests assert.
    this.child.stdin.on('error', () => {});
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve([code, signal])));
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.#stdout += chunk.toString('utf8');
      const lines = this.#stdout.split('\n');
      this.#stdout = lines.pop() ?? '';
      for (const line of lines) this.messages.push(JSON.parse(line) as Message);
      for (const wake of this.#waiters) wake();
    });
    this.child.once('exit', () => {
      for (const wake of this.#waiters) wake();
    });
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** The first message matching `match`; fails after `ms`, or at once if the server exited. */
  next(what: string, match: (m: Message) => boolean, ms = 30_000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.find(match);
        if (found !== undefined) return done(() => resolve(found));
        if (this.child.exitCode !== null) done(() => reject(new Error(`expected ${what}, but the server exited with ${this.child.exitCode}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`expected ${what} within ${ms} ms, got ${JSON.stringify(this.messages)}`))), ms);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        settle();
      };
      this.#waiters.add(check);
      check();
    });
  }

  async initialize(): Promise<void> {
    this.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 'init',
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      }),
    );
    await this.next('the initialize result', (m) => m.id === 'init');
    this.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  }
}

describe('malformed lines on stdio', () => {
  let server: RawServer;
  before(async () => {
    server = new RawServer();
    await server.initialize();
  });
  after(async () => {
    server.child.stdin.end();
    assert.deepEqual(await server.exited, [0, null]);
  });

  test('a line that is not JSON gets a parse error (id null), and the server answers the next request', async () => {
    server.send('this is not JSON {');
    const error = await server.next('a parse error', (m) => m.error?.code === PARSE_ERROR);
    assert.equal(error.id, null);
    assert.match(error.error?.message ?? '', /not JSON/i);
    server.send(JSON.stringify({ jsonrpc: '2.0', id: 10, method: 'tools/list' }));
    assert.equal((await server.next('the tools/list result', (m) => m.id === 10)).result?.tools?.length, 3);
  });

  test('JSON that is not JSON-RPC gets an invalid-request error, with the id when one can be read', async () => {
    server.send(JSON.stringify({ hello: 'world' }));
    server.send(JSON.stringify([1, 2, 3]));
    server.send(JSON.stringify({ jsonrpc: '2.0', id: 11 }));
    server.send(JSON.stringify({ jsonrpc: '1.0', id: 12, method: 'tools/list' }));
    const invalid = async (n: number) => {
      await server.next(`${n} invalid-request errors`, () => server.messages.filter((m) => m.error?.code === INVALID_REQUEST).length >= n);
      return server.messages.filter((m) => m.error?.code === INVALID_REQUEST);
    };
    const errors = await invalid(4);
    assert.deepEqual(
      errors.map((m) => m.id),
      [null, null, 11, 12],
    );
    for (const e of errors) assert.match(e.error?.message ?? '', /JSON-RPC/);
    server.send(JSON.stringify({ jsonrpc: '2.0', id: 13, method: 'tools/call', params: { name: 'chat', arguments: { prompt: 'still here?' } } }));
    assert.match((await server.next('the chat result', (m) => m.id === 13)).result?.structuredContent?.content ?? '', /^Answer to "still here\?"/);
  });

  test('an oversized line gets an invalid-request error naming the limit, with its id read from the end of the line', async () => {
    const call = { jsonrpc: '2.0', method: 'tools/call', params: { name: 'chat', arguments: { prompt: HUGE_PROMPT } } };
    server.send(JSON.stringify({ ...call, id: 20 })); // the id last, as the SDK's client writes it
    server.send(JSON.stringify({ id: 21, ...call })); // and first
    const first = await server.next('the oversized error for id 20', (m) => m.id === 20);
    assert.equal(first.error?.code, INVALID_REQUEST);
    assert.match(first.error?.message ?? '', /at most 4194304 bytes, got 11534\d{3} bytes/);
    assert.equal((await server.next('the oversized error for id 21', (m) => m.id === 21)).error?.code, INVALID_REQUEST);
    server.send(JSON.stringify({ jsonrpc: '2.0', id: 22, method: 'tools/list' }));
    assert.ok((await server.next('the tools/list result', (m) => m.id === 22)).result);
  });
});

describe('an oversized tool call from the SDK client over stdio', () => {
  let server: StdioServer;
  before(async () => {
    server = await spawnMcp(['--mock', '--threads', '1']);
  });
  after(() => server.client.close());

  test('is refused with a JSON-RPC error; the call running beside it completes; the server serves on', async () => {
    const progress: Progress[] = [];
    const firstProgress = Promise.withResolvers<void>();
    // Streams for ~5 s: running while the oversized message arrives (checked below by the order of events).
    const running = server.call(
      'chat',
      { prompt: 'beside it [[mock chunks=100 chunkDelayMs=50]]' },
      {
        onprogress: (p) => {
          progress.push(p);
          firstProgress.resolve();
        },
      },
    );
    await firstProgress.promise;
    const refused = await server.call('chat', { prompt: HUGE_PROMPT }).then(
      () => assert.fail('expected the oversized call to be refused'),
      (error: unknown) => error as { code: number; message: string },
    );
    const progressWhenRefused = progress.length;
    assert.equal(refused.code, INVALID_REQUEST, refused.message);
    assert.match(refused.message, /at most 4194304 bytes/);
    const answer = await running;
    assert.equal(answer.isError, undefined, text(answer));
    assert.ok(progress.length > progressWhenRefused, 'the other call was still streaming when the oversized one was refused');
    assert.match(text(await server.call('chat', { prompt: 'and after?' })), /^Answer to "and after\?"/);
    assert.equal(processGone(server.pid), false);
  });
});

describe('the pieces: line framing and reading the id of a message too large to parse', () => {
  test('lines split across chunks, CRLF, a line exactly at the limit, one over it spanning chunks, then a good one', () => {
    const framer = new LineFramer(10);
    assert.deepEqual(framer.push(Buffer.from('{"a"')), []);
    assert.deepEqual(framer.push(Buffer.from(':1}\r\n0123456789\n01234')), [
      { kind: 'line', text: '{"a":1}' },
      { kind: 'line', text: '0123456789' },
    ]);
    assert.deepEqual(framer.push(Buffer.from('56789')), []);
    assert.deepEqual(framer.push(Buffer.from('ABC\nok\n')), [
      { kind: 'oversized', bytes: 13, head: '0123456789ABC', tail: '0123456789ABC' },
      { kind: 'line', text: 'ok' },
    ]);
  });

  test('only a top-level id is read, at the start or the end', () => {
    const pad = '"x"';
    assert.equal(idFromEnds(`{"jsonrpc":"2.0","method":"m","params":{"p":${pad}`, `${pad}}},"id":7}`), 7);
    assert.equal(idFromEnds(`{"jsonrpc":"2.0","id":"req-1","method":"m","params":{"p":${pad}`, `${pad}}}}`), 'req-1');
    // An id inside params is not the message's.
    assert.equal(idFromEnds(`{"method":"m","params":{"cache":{"id":"c1"},"p":${pad}`, `${pad},"cache":{"id":"c2"}}}`), null);
    assert.equal(idFromEnds('{"params":{"id":5,', '"id":5}}'), null);
  });
});
