// The worker's end of its two long-lived channels to the supervisor, set up once when the worker
// starts. The events port carries plain one-way messages: chat sessions come in as task batches
// (src/pool/lanes.ts), and events and run outcomes go out together, one message per event-loop
// turn, never one per chunk (a Comlink call would also cost the host a reply per message); only the
// result of the last session running goes at once, since there is nothing left to batch it with. The
// control port is Comlink: abort requests come in and go to the sessions' signals
// (src/worker/call/worker-aborts.ts).
import * as Comlink from 'comlink';
import { MessageChannel, type MessagePort, parentPort, threadId } from 'node:worker_threads';
import { SessionAborts } from './worker-aborts.ts';
import { portEndpoint } from '../../util/endpoint.ts';
import type { ChannelHello, RunOutcome, SessionEvent, SessionTask, TaskMessage, TaskOutcome, WorkerControl, WorkerReport } from '../../wire/protocol.ts';
import type { AbortReason } from '../../types/session.ts';

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

const STARTS_PER_TURN = 128;

export class WorkerChannel implements WorkerControl {
  readonly #port: MessagePort | undefined;
  #pending: SessionEvent[] = [];
  #outcomes: RunOutcome[] = [];
  #flushScheduled = false;
  readonly #aborts = new SessionAborts();
  #reportStarts = false;
  readonly #flush = () => {
    this.#flushScheduled = false;
    this.#send();
  };
  readonly #sendNow = () => this.#send();
  #running = 0;

  constructor(port?: MessagePort) {
    this.#port = port;
  }

  /**
   * Runs the chat sessions the supervisor sends on the events port (provider-call threads only), at
   * most STARTS_PER_TURN a turn: thousands opening connections in one turn overflow a provider's
   * accept queue (connection resets at 10,000 in flight), and the turns between let I/O through.
   */
  serve(run: (task: SessionTask) => Promise<TaskOutcome>): void {
    this.#run = run;
    this.#port?.on('message', (message: TaskMessage) => {
      this.#toStart.push(message.task);
      if (!this.#startScheduled) this.#startSome();
    });
  }

  #toStart: SessionTask[] = [];
  #startScheduled = false;
  #run: ((task: SessionTask) => Promise<TaskOutcome>) | undefined;
  readonly #startMore = () => this.#startSome();

  #startSome(): void {
    this.#startScheduled = false;
    const run = this.#run as (task: SessionTask) => Promise<TaskOutcome>;
    const now = this.#toStart.length <= STARTS_PER_TURN ? this.#toStart : this.#toStart.splice(0, STARTS_PER_TURN);
    if (now === this.#toStart) this.#toStart = [];
    this.#running += now.length;
    for (const task of now) void run(task).then((outcome) => this.#settled(task, outcome));
    if (this.#toStart.length === 0) return;
    this.#startScheduled = true;
    setImmediate(this.#startMore);
  }

  #settled(task: SessionTask, outcome: TaskOutcome): void {
    this.#running--;
    this.#outcomes.push({ sessionId: task.sessionId, run: task.run, outcome });
    // The last session running has nothing to wait for: its result goes now, a turn earlier
    // (~0.1 ms one call at a time). While others run, results wait for the turn's end to go together.
    if (this.#running === 0 && this.#toStart.length === 0) this.#send();
    else this.#schedule();
  }

  /** Starts a session's scope; `alwaysReport` for sessions that may block the thread before it can say where they run. */
  open(task: SessionTask, alwaysReport: boolean): SessionScope {
    const { sessionId, requestId } = task;
    const signal = this.#aborts.open(sessionId, requestId, task.budgetMs);
    if (task.abort !== undefined) this.#aborts.abort(sessionId, task.abort);
    if (alwaysReport || this.#reportStarts) this.emit({ type: 'started', sessionId, run: task.run });
    return { sessionId, requestId, signal, emit: (event) => this.emit(event), flush: this.#sendNow };
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
    this.#schedule();
  }

  #schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(this.#flush);
  }

  #send(): void {
    const report: WorkerReport = { threadId, events: this.#pending, outcomes: this.#outcomes };
    this.#pending = [];
    this.#outcomes = [];
    if ((report.events.length === 0 && report.outcomes.length === 0) || this.#port === undefined) return;
    try {
      this.#port.postMessage(report);
    } catch (error) {
      this.#sendApart(report, error);
    }
  }

  /** Something in the report cannot be cloned: every outcome goes on its own, one that cannot as a failure. */
  #sendApart(report: WorkerReport, error: unknown): void {
    const port = this.#port as MessagePort;
    try {
      port.postMessage({ threadId, events: report.events, outcomes: [] } satisfies WorkerReport);
    } catch {
      // Events are progress only: the outcomes below still settle every session.
    }
    const why = error instanceof Error ? error.message : String(error);
    for (const entry of report.outcomes) {
      try {
        port.postMessage({ threadId, events: [], outcomes: [entry] } satisfies WorkerReport);
      } catch {
        const failed: TaskOutcome = {
          ok: false,
          error: { code: 'ERR_HANDLER', name: 'Error', message: `The worker could not send the session's outcome back: ${why}` },
          attempts: entry.outcome.attempts,
          threadId,
        };
        port.postMessage({ threadId, events: [], outcomes: [{ ...entry, outcome: failed }] } satisfies WorkerReport);
      }
    }
  }
}

/**
 * Creates the two channels and exposes this worker's control on one; `greet` posts both far ends to
 * the pool (once), which takes the thread as up from then on.
 */
export function openWorkerChannel(): { channel: WorkerChannel; greet(): void } {
  if (parentPort === null) return { channel: new WorkerChannel(), greet: () => {} };
  const parent = parentPort;
  const events = new MessageChannel();
  const control = new MessageChannel();
  const channel = new WorkerChannel(events.port1);
  const exposed: WorkerControl = {
    abort: (sessionId, reason) => channel.abort(sessionId, reason),
    forget: (sessionId) => channel.forget(sessionId),
    reportStarts: (on) => channel.reportStarts(on),
  };
  Comlink.expose(exposed, portEndpoint(control.port1));
  let greeted = false;
  const greet = () => {
    if (greeted) return;
    greeted = true;
    const hello: ChannelHello = { type: 'sessionpool:channel', threadId, events: events.port2, control: control.port2 };
    parent.postMessage(hello, [events.port2, control.port2]);
  };
  return { channel, greet };
}
