// The supervisor's end of every worker's two long-lived channels (see src/worker/call/channel.ts): the
// events port brings the worker's reports (events, then run outcomes) and takes its chat sessions
// (lanes.ts); the control port is the worker's Comlink control. Strong refs to ports and proxies
// are kept here until the worker goes: a proxy collected mid-call hangs it.
import * as Comlink from 'comlink';
import type { MessagePort } from 'node:worker_threads';
import { portEndpoint } from '../util/endpoint.ts';
import type { ChannelHello, EventBatch, RunOutcome, WorkerControl, WorkerReport } from '../wire/protocol.ts';
import type { AbortReason } from '../types/session.ts';

interface WorkerLink {
  control: Comlink.Remote<WorkerControl>;
  ports: MessagePort[];
}

export interface ChannelHandlers {
  onBatch(batch: EventBatch): void;
  onOutcomes(outcomes: RunOutcome[]): void;
  /** The worker's channels are up; `events` is the port its sessions may be sent on. */
  onAttach(threadId: number, events: MessagePort): void;
}

export class WorkerChannels {
  readonly #links = new Map<number, WorkerLink>();
  readonly #handlers: ChannelHandlers;
  readonly #onReport = (report: WorkerReport) => this.#receive(report);
  #reportStarts = false;

  constructor(handlers: ChannelHandlers) {
    this.#handlers = handlers;
  }

  attach(hello: ChannelHello): void {
    hello.events.on('message', this.#onReport);
    const control = Comlink.wrap<WorkerControl>(portEndpoint(hello.control));
    // Channels must not keep the host alive on their own: idle pools let the process exit.
    hello.events.unref();
    hello.control.unref();
    this.#links.set(hello.threadId, { control, ports: [hello.events, hello.control] });
    if (this.#reportStarts) void control.reportStarts(true).catch(() => {});
    this.#handlers.onAttach(hello.threadId, hello.events);
  }

  #receive(report: WorkerReport): void {
    if (report.events.length > 0) this.#handlers.onBatch({ threadId: report.threadId, events: report.events });
    if (report.outcomes.length > 0) this.#handlers.onOutcomes(report.outcomes);
  }

  /**
   * Asks the worker that runs `sessionId` to abort it — every worker when the thread is not known —
   * and resolves with the thread that ran it, or undefined (gone, or not arrived yet: then the
   * workers abort it when it arrives).
   */
  async abort(threadId: number | undefined, sessionId: string, reason: AbortReason): Promise<number | undefined> {
    const targets = threadId === undefined ? [...this.#links] : [[threadId, this.#links.get(threadId)] as const];
    const answers = await Promise.all(targets.map(async ([id, link]) => ((await link?.control.abort(sessionId, reason).catch(() => false)) ? id : undefined)));
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
