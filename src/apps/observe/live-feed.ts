// What the live view's page is fed: the supervisor's `transition` and `started` events, batched
// (one message per interval for every connected page, serialized once), with a stats() snapshot.
// A page that connects late gets the machine, the newest events (a bounded history) and stats first.
// Nothing here runs, and the supervisor builds no event objects, unless a LiveFeed exists; its timer
// runs only while a page is connected.
import type { SupervisorStats, StartedEvent, TransitionEvent, Supervisor } from '../../api/public.ts';
import { sessionMachine } from '../../api/public.ts';
import { serializeMachine } from './machine-export.ts';
import { transitionLabel } from './mermaid.ts';

export type FeedEvent = ({ type: 'transition' } & TransitionEvent) | ({ type: 'started' } & StartedEvent);

/** The machine as the page draws it: states in definition order, transitions by event. */
export interface FeedMachine {
  id: string;
  initial: string;
  states: Array<{ name: string; type: string; transitions: Array<{ label: string; target: string | null }> }>;
}

export type FeedMessage =
  | { type: 'hello'; now: number; machine: FeedMachine; stats: SupervisorStats; events: FeedEvent[]; windowMs: number }
  | { type: 'batch'; now: number; stats: SupervisorStats; events: FeedEvent[]; dropped: number };

export interface LiveFeedOptions {
  /** Events kept for pages that connect later. @default 5000 */
  historySize?: number;
  /** How often connected pages get a batch. @default 100 */
  intervalMs?: number;
  /** Events held between two batches at most (older ones are dropped and counted). @default 20_000 */
  maxPending?: number;
  /** Time span the page's timeline shows. @default 30_000 */
  windowMs?: number;
  /** The clock of the supervisor's event times. @default performance.now */
  now?: () => number;
}

type Send = (message: string) => void;

export class LiveFeed {
  readonly #supervisor: Supervisor;
  readonly #options: Required<LiveFeedOptions>;
  readonly #subscribers = new Set<Send>();
  readonly #onTransition = (e: TransitionEvent) => this.#push({ type: 'transition', ...e });
  readonly #onStarted = (e: StartedEvent) => this.#push({ type: 'started', ...e });
  #history: FeedEvent[] = [];
  #pending: FeedEvent[] = [];
  #dropped = 0;
  #ticks = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(supervisor: Supervisor, options: LiveFeedOptions = {}) {
    this.#supervisor = supervisor;
    this.#options = { historySize: 5000, intervalMs: 100, maxPending: 20_000, windowMs: 30_000, now: () => performance.now(), ...options };
    supervisor.on('transition', this.#onTransition);
    supervisor.on('started', this.#onStarted);
  }

  /** Sends the hello message now and every batch after it, until the returned function is called. */
  subscribe(send: Send): () => void {
    const { now, windowMs } = this.#options;
    const hello: FeedMessage = {
      type: 'hello',
      now: now(),
      machine: feedMachine(),
      stats: this.#supervisor.stats(),
      events: [...this.#history, ...this.#pending],
      windowMs,
    };
    send(JSON.stringify(hello));
    this.#subscribers.add(send);
    this.#timer ??= setInterval(() => this.#flush(), this.#options.intervalMs);
    return () => {
      this.#subscribers.delete(send);
      if (this.#subscribers.size === 0) this.#stopTimer();
    };
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** Stops listening to the supervisor, sends subscribers what is still pending, and drops them. */
  close(): void {
    this.#supervisor.off('transition', this.#onTransition);
    this.#supervisor.off('started', this.#onStarted);
    if (this.#pending.length > 0) this.#flush();
    this.#subscribers.clear();
    this.#stopTimer();
  }

  #push(event: FeedEvent): void {
    this.#pending.push(event);
    if (this.#pending.length > this.#options.maxPending) {
      // Pages too slow for the flow lose the older half at once (O(1) per event, not a shift each).
      const drop = Math.ceil(this.#pending.length / 2);
      this.#pending = this.#pending.slice(drop);
      this.#dropped += drop;
    }
    if (this.#subscribers.size === 0) this.#flushHistory();
  }

  /** One batch for all pages; an idle supervisor still gets stats twice a second (queue, pool). */
  #flush(): void {
    if (this.#pending.length === 0 && ++this.#ticks % 5 !== 0) return;
    const message: FeedMessage = { type: 'batch', now: this.#options.now(), stats: this.#supervisor.stats(), events: this.#pending, dropped: this.#dropped };
    this.#flushHistory();
    const text = JSON.stringify(message);
    for (const send of this.#subscribers) send(text);
  }

  /** Moves pending events into the bounded history. */
  #flushHistory(): void {
    if (this.#pending.length === 0) return;
    const { historySize } = this.#options;
    this.#history.push(...this.#pending);
    this.#pending = [];
    // Trimmed in steps of a quarter, so that trimming costs O(1) per event.
    if (this.#history.length > historySize * 1.25) this.#history = this.#history.slice(-historySize);
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

let machine: FeedMachine | undefined;

/** The session machine for the page, from its definition (computed once). */
export function feedMachine(): FeedMachine {
  if (machine !== undefined) return machine;
  const root = serializeMachine(sessionMachine);
  const key = (id: string) => id.slice(id.lastIndexOf('.') + 1);
  const states = Object.values(root.states).map((node) => ({
    name: node.key,
    type: node.type,
    transitions: node.transitions.map((t) => ({ label: transitionLabel(t), target: t.target?.[0] !== undefined ? key(t.target[0]) : null })),
  }));
  machine = { id: root.key, initial: key(root.initial.target[0] ?? ''), states };
  return machine;
}
