// The worker's end of its two long-lived channels to the supervisor, set up once when the worker
// starts: events go out in batches (one Comlink call per event-loop turn, never one per chunk),
// abort requests come in and go to the sessions' signals (src/abort/worker-aborts.ts).
import * as Comlink from 'comlink';
import { MessageChannel, parentPort, threadId } from 'node:worker_threads';
import { SessionAborts } from '../abort/worker-aborts.ts';
import { portEndpoint } from '../endpoint.ts';
import type { AbortReason, ChannelHello, SessionEvent, SessionTask, SupervisorInbox, WorkerControl } from '../protocol.ts';

/** What a running session sees of its worker. */
export interface SessionScope {
  readonly sessionId: string;
  readonly requestId: string;
  /** Aborts at the deadline, on the caller's signal and on close; its reason is the session's SessionPoolError. */
  readonly signal: AbortSignal;
  emit(event: SessionEvent): void;
  /** Sends pending events now instead of at the end of this event-loop turn. */
  flush(): void;
}

export class WorkerChannel implements WorkerControl {
  #inbox: Comlink.Remote<SupervisorInbox> | undefined;
  #pending: SessionEvent[] = [];
  #flushScheduled = false;
  readonly #aborts = new SessionAborts();
  #reportStarts = false;
  readonly #flush = () => this.#send();

  constructor(port?: Comlink.Endpoint) {
    if (port !== undefined) this.#inbox = Comlink.wrap<SupervisorInbox>(port);
  }

  /** Starts a session's scope; `alwaysReport` for sessions that may block the thread before it can say where they run. */
  open(task: SessionTask, alwaysReport: boolean): SessionScope {
    const { sessionId, requestId } = task;
    const signal = this.#aborts.open(sessionId, requestId, task.budgetMs);
    if (task.abort !== undefined) this.#aborts.abort(sessionId, task.abort);
    if (alwaysReport || this.#reportStarts) this.emit({ type: 'started', sessionId, run: task.run });
    return { sessionId, requestId, signal, emit: (event) => this.emit(event), flush: this.#flush };
  }

  close(sessionId: string): void {
    this.#aborts.close(sessionId);
  }

  abort(sessionId: string, reason: AbortReason): boolean {
    return this.#aborts.abort(sessionId, reason);
  }

  forget(sessionId: string): void {
    this.#aborts.forget(sessionId);
  }

  reportStarts(on: boolean): void {
    this.#reportStarts = on;
  }

  emit(event: SessionEvent): void {
    const last = this.#pending.at(-1);
    // Consecutive deltas (text, or reasoning) of one session travel as one.
    const joins = (event.type === 'delta' || event.type === 'reasoning') && last?.type === event.type && last.sessionId === event.sessionId;
    if (joins) (last as { text: string }).text += (event as { text: string }).text;
    else this.#pending.push(event.type === 'delta' || event.type === 'reasoning' ? { ...event } : event);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flush);
    }
  }

  #send(): void {
    this.#flushScheduled = false;
    const events = this.#pending;
    this.#pending = [];
    if (events.length === 0 || this.#inbox === undefined) return;
    // Not awaited: the reply only acknowledges; a lost batch must never fail a session.
    this.#inbox.receive({ threadId, events }).catch(() => {});
  }
}

/** Creates the two channels, exposes this worker's control on one and posts both far ends to the pool. */
export function openWorkerChannel(): WorkerChannel {
  if (parentPort === null) return new WorkerChannel();
  const events = new MessageChannel();
  const control = new MessageChannel();
  const channel = new WorkerChannel(portEndpoint(events.port1));
  const exposed: WorkerControl = {
    abort: (sessionId, reason) => channel.abort(sessionId, reason),
    forget: (sessionId) => channel.forget(sessionId),
    reportStarts: (on) => channel.reportStarts(on),
  };
  Comlink.expose(exposed, portEndpoint(control.port1));
  const hello: ChannelHello = { type: 'sessionpool:channel', threadId, events: events.port2, control: control.port2 };
  parentPort.postMessage(hello, [events.port2, control.port2]);
  return channel;
}
