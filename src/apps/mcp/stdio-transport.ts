/**
 * MCP's stdio transport (one JSON-RPC message per line), for input nobody vetted. The SDK's own
 * (StdioServerTransport) closes itself on a message over its buffer size, which ended the process
 * and every call in flight, and drops a line that is not JSON without a word. Here each bad line
 * gets a JSON-RPC error and the transport goes on:
 * - over `maxMessageBytes`: "Invalid Request" (-32600), the message never parsed nor kept;
 * - not JSON, or JSON of a shape slow for V8 to parse (json-limits.ts): "Parse error" (-32700), id null;
 * - JSON but not a JSON-RPC message: "Invalid Request", with the id when one can be read;
 * - a request whose id is that of a request still in progress: "Invalid Request" (the SDK would let
 *   it replace the first one's abort controller: that call could no longer be cancelled).
 * A client that does not read its output stops being read: while the output is over its buffer
 * (stdout to a pipe buffers without bound), input is paused until it drains, so answers waiting to
 * be read cannot pile up in memory.
 */
import type { Readable, Writable } from 'node:stream';
import { type JSONRPCMessage, parseJSONRPCMessage, type Transport } from '@modelcontextprotocol/server';
import { LineFramer, type Frame } from './line-framer.ts';
import { jsonTooCostly } from './json-limits.ts';
import { idFromEnds, idOf } from './message-id.ts';
import { RequestsInFlight, requestOf } from './requests-in-flight.ts';

/** The same bound as the Streamable HTTP transport's request body (4 MiB), so both refuse the same message. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;

export class LineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  readonly #input: Readable;
  readonly #output: Writable;
  readonly #maxBytes: number;
  readonly #framer: LineFramer;
  readonly #requests = new RequestsInFlight();
  #closed = false;
  /** Input paused until the output drains. */
  #held = false;

  constructor(input: Readable, output: Writable, maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES) {
    this.#input = input;
    this.#output = output;
    this.#maxBytes = maxMessageBytes;
    this.#framer = new LineFramer(maxMessageBytes);
  }

  async start(): Promise<void> {
    this.#input.on('data', this.#onData);
    this.#input.on('end', this.#onEnd);
    this.#input.on('close', this.#onEnd);
    // An unheard 'error' would throw: a broken stdin ends the transport, as its end does.
    this.#input.on('error', this.#onStreamError);
    this.#output.on('error', this.#onStreamError);
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the stdio transport is closed'));
    this.#requests.sent(message);
    const line = `${JSON.stringify(message)}\n`;
    return new Promise((resolve, reject) => this.#write(line, (error) => (error ? reject(error) : resolve())));
  }

  #write(line: string, done?: (error: Error | null | undefined) => void): void {
    if (this.#output.write(line, done) || this.#held) return;
    this.#held = true;
    this.#input.pause();
    this.#output.once('drain', () => {
      this.#held = false;
      if (!this.#closed) this.#input.resume();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#input.off('data', this.#onData);
    this.#input.off('end', this.#onEnd);
    this.#input.off('close', this.#onEnd);
    this.#input.off('error', this.#onStreamError);
    this.#input.pause();
    this.onclose?.();
  }

  readonly #onData = (chunk: Buffer | string): void => {
    for (const frame of this.#framer.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) this.#receive(frame);
  };

  readonly #onEnd = (): void => void this.close();

  readonly #onStreamError = (error: Error): void => {
    if (this.#closed) return;
    this.onerror?.(error);
    void this.close();
  };

  #receive(frame: Frame): void {
    if (frame.kind === 'oversized') {
      const problem = `a message must be at most ${this.#maxBytes} bytes, got ${frame.bytes} bytes`;
      return this.#refuse(idFromEnds(frame.head, frame.tail), INVALID_REQUEST, `Invalid Request: ${problem}`);
    }
    if (frame.text.trim() === '') return; // a blank line carries nothing to answer
    const costly = jsonTooCostly(frame.text);
    if (costly !== undefined) return this.#refuse(null, PARSE_ERROR, `Parse error: ${costly} (checked before parsing)`);
    let value: unknown;
    try {
      value = JSON.parse(frame.text);
    } catch {
      return this.#refuse(null, PARSE_ERROR, 'Parse error: a line that is not JSON (expected one JSON-RPC message per line)');
    }
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(value);
    } catch {
      const got = Array.isArray(value)
        ? 'an array'
        : value === null || typeof value !== 'object'
          ? `a JSON ${value === null ? 'null' : typeof value}`
          : 'an object that is none of them';
      return this.#refuse(idOf(value), INVALID_REQUEST, `Invalid Request: expected a JSON-RPC 2.0 request, notification or response, got ${got}`);
    }
    const request = requestOf(message);
    if (request !== undefined && this.#requests.conflict([message]) !== undefined) {
      return this.#refuse(request.id, INVALID_REQUEST, `Invalid Request: id ${JSON.stringify(request.id)} is in use by a request in progress`);
    }
    this.#requests.delivered(message);
    try {
      this.onmessage?.(message);
    } catch (error) {
      // A handler that throws must not take the input stream (and every other call) down with it.
      this.onerror?.(error as Error);
    }
  }

  /** A reply that cannot be written (the client left) is the output's 'error', handled there. */
  #refuse(id: string | number | null, code: number, message: string): void {
    if (!this.#closed) this.#write(`${JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })}\n`);
  }
}
