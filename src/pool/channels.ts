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
  #reportStarts = false;

  readonly #onAttach: (threadId: number) => void;

  constructor(onBatch: (batch: EventBatch) => void, onAttach: (threadId: number) => void) {
    this.#inbox = { receive: onBatch };
    this.#onAttach = onAttach;
  }

  attach(hello: ChannelHello): void {
    Comlink.expose(this.#inbox, portEndpoint(hello.events));
    const control = Comlink.wrap<WorkerControl>(portEndpoint(hello.control));
    // Channels must not keep the host alive on their own: idle pools let the process exit.
    hello.events.unref();
    hello.control.unref();
    this.#links.set(hello.threadId, { control, ports: [hello.events, hello.control] });
    if (this.#reportStarts) void control.reportStarts(true).catch(() => {});
    this.#onAttach(hello.threadId);
  }

  /**
   * Asks the worker that runs `sessionId` to abort it — every worker when the thread is not known —
   * and resolves with the thread that ran it, or undefined (gone, or not arrived yet: then the
   * workers abort it when it arrives).
   */
  async abort(threadId: number | undefined, sessionId: string, reason: AbortReason): Promise<number | undefined> {
    const targets = threadId === undefined ? [...this.#links] : [[threadId, this.#links.get(threadId)] as const];
    const answers = await Promise.all(
      targets.map(async ([id, link]) => ((await link?.control.abort(sessionId, reason).catch(() => false)) ? id : undefined)),
    );
    return answers.find((id) => id !== undefined);
  }

  /** Whether the thread's channels are up (it is alive and can be told). */
  reaches(threadId: number): boolean {
    return this.#links.has(threadId);
  }

  /** Tells one worker (every worker when undefined) to drop an abort it may keep for the session. */
  forget(sessionId: string, threadId?: number): void {
    const links = threadId === undefined ? [...this.#links.values()] : [this.#links.get(threadId)];
    for (const link of links) void link?.control.forget(sessionId).catch(() => {});
  }

  /** Turns `started` reports of every session on or off, on every worker now and to come. */
  reportStarts(on: boolean): void {
    if (on === this.#reportStarts) return;
    this.#reportStarts = on;
    for (const link of this.#links.values()) void link.control.reportStarts(on).catch(() => {});
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
