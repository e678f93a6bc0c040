/**
 * Newline-delimited messages from a byte stream, with a bound on a message's size. A line over the
 * bound is not kept: its bytes are counted and dropped as they arrive, and only its first and last
 * few hundred bytes stay (enough to read a JSON-RPC id), so an endless line costs no memory.
 */

/** A complete line, or what is known of one that was over the limit. */
export type Frame = { kind: 'line'; text: string } | { kind: 'oversized'; bytes: number; head: string; tail: string };

/** Bytes kept of each end of an oversized line. */
const EDGE_BYTES = 512;
const NEWLINE = 0x0a;

export class LineFramer {
  readonly #maxBytes: number;
  #chunks: Buffer[] = [];
  #size = 0;
  /** Set once the line in progress passed the limit. */
  #over: { head: Buffer; tail: Buffer } | undefined;

  /** @param maxBytes the largest line accepted, its newline excluded */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** The frames the chunk completes, in order. */
  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      this.#append(chunk.subarray(start, end));
      frames.push(this.#finish());
      start = end + 1;
    }
    if (start < chunk.length) this.#append(chunk.subarray(start));
    return frames;
  }

  #append(part: Buffer): void {
    this.#size += part.length;
    if (this.#over !== undefined) {
      this.#over.tail = lastBytes(Buffer.concat([this.#over.tail, part]));
      return;
    }
    this.#chunks.push(part);
    if (this.#size <= this.#maxBytes) return;
    const all = Buffer.concat(this.#chunks);
    this.#over = { head: Buffer.from(all.subarray(0, EDGE_BYTES)), tail: lastBytes(all) };
    this.#chunks = [];
  }

  #finish(): Frame {
    const frame: Frame =
      this.#over === undefined
        ? { kind: 'line', text: Buffer.concat(this.#chunks).toString('utf8').replace(/\r$/, '') }
        : { kind: 'oversized', bytes: this.#size, head: this.#over.head.toString('utf8'), tail: this.#over.tail.toString('utf8').replace(/\r$/, '') };
    this.#chunks = [];
    this.#size = 0;
    this.#over = undefined;
    return frame;
  }
}

function lastBytes(buffer: Buffer): Buffer {
  return buffer.length <= EDGE_BYTES ? buffer : Buffer.from(buffer.subarray(buffer.length - EDGE_BYTES));
}
