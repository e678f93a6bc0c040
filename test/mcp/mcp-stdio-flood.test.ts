// A stdio client that floods requests and never reads the answers: stdout to a pipe buffers without
// bound (measured: 19 MB queued in 2 s), so the server would grow until it died. The line transport
// stops reading its input while its output is backed up, and reads on once it drains.
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { LineTransport } from '../../src/apps/mcp/stdio-transport.ts';

/** Rejects with `what` when `promise` is not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`expected ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** An output nobody reads until `startReading()`: its writes complete only from then on. */
class UnreadOutput extends Writable {
  readonly #pending: (() => void)[] = [];
  #reading = false;
  constructor() {
    super({ highWaterMark: 16 * 1024 });
  }
  override _write(_chunk: Buffer, _encoding: string, done: () => void): void {
    if (this.#reading) done();
    else this.#pending.push(done);
  }
  startReading(): void {
    this.#reading = true;
    for (const done of this.#pending.splice(0)) done();
  }
}

test('requests keep coming and nobody reads the answers: input is paused once the output is backed up, and resumed when it drains', async () => {
  const input = new PassThrough();
  const output = new UnreadOutput();
  const transport = new LineTransport(input, output);
  let delivered = 0;
  const allDelivered = Promise.withResolvers<void>();
  const TOTAL = 400;
  transport.onmessage = (message: JSONRPCMessage) => {
    delivered++;
    // Each answer is 1 KB: 16 answers fill the output's buffer.
    void transport.send({ jsonrpc: '2.0', id: (message as { id: number }).id, result: { pad: 'x'.repeat(1024) } }).catch(() => {});
    if (delivered === TOTAL) allDelivered.resolve();
  };
  await transport.start();
  const paused = new Promise<void>((resolve) => input.once('pause', () => resolve()));
  // One request per chunk, as a client writing them one by one.
  for (let id = 1; id <= TOTAL; id++) input.write(`${JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' })}\n`);
  await within(Promise.race([paused, allDelivered.promise]), 10_000, 'the input to be paused (or every request delivered)');
  assert.equal(input.isPaused(), true, `all ${delivered} requests were read while nobody read an answer`);
  assert.ok(delivered < TOTAL, `expected reading to stop before ${TOTAL} requests, read ${delivered}`);
  const whenPaused = delivered;
  // Still paused a turn later: nothing more is read.
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(delivered, whenPaused);
  // The client reads: the rest is delivered.
  output.startReading();
  await within(allDelivered.promise, 10_000, 'every request to be delivered once the output drains');
  await transport.close();
});
