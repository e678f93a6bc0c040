// The main thread's side of a stream's window (see src/worker/call/flow.ts): as the consumer of
// `stream()` reads, the worker is told how much was read, on a BroadcastChannel of this supervisor,
// every half window. The worker never gets more than a window ahead of the consumer, so neither
// thread buffers more than that for a slow reader.
import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import type { CreditMessage, FlowSettings } from '../wire/protocol.ts';

/** Characters a worker may send a `stream()` consumer beyond what it has read. */
export const STREAM_WINDOW_CHARS = 64 * 1024;

export class FlowChannel {
  readonly settings: FlowSettings;
  #channel: BroadcastChannel | undefined;

  constructor(windowChars = STREAM_WINDOW_CHARS) {
    this.settings = { channel: `sessionpool:flow:${randomUUID()}`, windowChars };
  }

  /** Reports reads of one session's consumer. */
  credit(sessionId: string): (chars: number) => void {
    let consumed = 0;
    let told = 0;
    const step = Math.max(1, Math.floor(this.settings.windowChars / 2));
    return (chars) => {
      consumed += chars;
      if (consumed - told < step) return;
      told = consumed;
      this.#post({ sessionId, consumed });
    };
  }

  close(): void {
    this.#channel?.close();
    this.#channel = undefined;
  }

  #post(message: CreditMessage): void {
    if (this.#channel === undefined) {
      this.#channel = new BroadcastChannel(this.settings.channel);
      (this.#channel as { unref?: () => void }).unref?.();
    }
    this.#channel.postMessage(message);
  }
}
