// The supervisor's end of every worker's two long-lived channels (see src/call/channel.ts):
// it exposes its event inbox on one and holds the worker's control on the other. Strong refs to
// ports and proxies are kept here until the worker goes: a proxy collected mid-call hangs it.
import * as Comlink from 'comlink';
import type { MessagePort } from 'node:worker_threads';
import { portEndpoint } from '../endpoint.ts';
import type { AbortReason, ChannelHello, EventBatch, SupervisorInbox, WorkerControl } from '../protocol.ts';

interface WorkerLink {
  control: Comlink.Remote<WorkerControl>;
  ports: MessagePort[];
}

export class WorkerChannels {
  readonly #links = new Map<number, WorkerLink>();
  readonly #inbox: SupervisorInbox;

  constructor(onBatch: (batch: EventBatch) => void) {
    this.#inbox = { receive: onBatch };
  }

  get size(): number {
    return this.#links.size;
  }

  attach(hello: ChannelHello): void {
    Comlink.expose(this.#inbox, portEndpoint(hello.events));
    const control = Comlink.wrap<WorkerControl>(portEndpoint(hello.control));
    // Channels must not keep the host alive on their own: idle pools let the process exit.
    hello.events.unref();
    hello.control.unref();
    this.#links.set(hello.threadId, { control, ports: [hello.events, hello.control] });
  }

  /** Asks the worker that runs `sessionId` to abort it; resolves false when that worker is gone. */
  async abort(threadId: number, sessionId: string, reason: AbortReason): Promise<boolean> {
    const link = this.#links.get(threadId);
    if (link === undefined) return false;
    return link.control.abort(sessionId, reason).catch(() => false);
  }

  detach(threadId: number): void {
    const link = this.#links.get(threadId);
    if (link === undefined) return;
    this.#links.delete(threadId);
    for (const port of link.ports) port.close();
  }

  closeAll(): void {
    for (const threadId of [...this.#links.keys()]) this.detach(threadId);
  }
}
