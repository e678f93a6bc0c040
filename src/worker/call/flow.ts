// The worker's side of a stream's window: a session may have at most `windowChars` characters sent
// and not yet read by its consumer on the main thread; beyond that the reader of the provider's
// stream waits (and with it the socket: TCP pushes back to the provider). The main thread says how
// much was read on a BroadcastChannel of its own (see src/engine/stream-credit.ts): cumulative
// counts, rare (every half window), and nothing at all for answers shorter than half a window.
import { BroadcastChannel } from 'node:worker_threads';
import type { CreditMessage, FlowSettings } from '../../wire/protocol.ts';

const windows = new Map<string, StreamWindow>();
const channels = new Map<string, BroadcastChannel>();

function listen(name: string): void {
  if (channels.has(name)) return;
  const channel = new BroadcastChannel(name);
  channel.onmessage = (event) => {
    const { sessionId, consumed } = (event as { data: CreditMessage }).data;
    windows.get(sessionId)?.read(consumed);
  };
  (channel as { unref?: () => void }).unref?.();
  channels.set(name, channel);
}

export class StreamWindow {
  readonly #sessionId: string;
  readonly #windowChars: number;
  readonly #signal: AbortSignal;
  #sent = 0;
  #consumed = 0;
  #wake: (() => void) | undefined;

  constructor(sessionId: string, settings: FlowSettings, signal: AbortSignal) {
    this.#sessionId = sessionId;
    this.#windowChars = settings.windowChars;
    this.#signal = signal;
    listen(settings.channel);
    windows.set(sessionId, this);
  }

  /** Counts `chars` sent; resolves once the consumer is close enough again, or undefined at once. */
  sent(chars: number): Promise<void> | undefined {
    this.#sent += chars;
    if (this.#sent - this.#consumed <= this.#windowChars) return undefined;
    return new Promise<void>((resolve, reject) => {
      if (this.#signal.aborted) return reject(this.#signal.reason);
      const onAbort = () => reject(this.#signal.reason);
      this.#signal.addEventListener('abort', onAbort, { once: true });
      this.#wake = () => {
        this.#signal.removeEventListener('abort', onAbort);
        resolve();
      };
    });
  }

  read(consumed: number): void {
    if (consumed <= this.#consumed) return;
    this.#consumed = consumed;
    if (this.#wake !== undefined && this.#sent - this.#consumed <= this.#windowChars) {
      const wake = this.#wake;
      this.#wake = undefined;
      wake();
    }
  }

  close(): void {
    if (windows.get(this.#sessionId) === this) windows.delete(this.#sessionId);
  }
}
