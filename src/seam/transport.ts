// The seam between the supervisor and where sessions run. The in-process Piscina pool is the
// default transport; a queue across hosts (src/transport/bullmq) is another. A transport builds the
// Dispatcher the engine sends runs to, and may hold sessions in `created` until one of its workers
// takes them (its `gate`, chained after routing's). The lifecycle stays the engine's.
import type { Logger } from 'pino';
import type { Dispatcher, DispatcherOptions } from '../pool/pool.ts';
import type { SessionTask } from '../wire/protocol.ts';
import type { DispatchGate } from '../engine/engine.ts';
import type { SessionSpec } from '../engine/session-record.ts';

export interface TransportOptions extends DispatcherOptions {
  /** The task a session would be sent with now (its current route target, its budget): what a queue stores while the session waits. */
  taskFor(spec: SessionSpec, deadlineAt: number): SessionTask;
  logger: Logger | undefined;
}

export interface TransportDispatcher extends Dispatcher {
  /** Sessions wait in `created` until a worker of the transport takes them (queued transports). */
  readonly gate?: DispatchGate;
  /** Resolves once sessions can be taken (a queue: connected and listening); `ready()` waits for it. */
  readonly ready?: Promise<void>;
}

export interface Transport {
  /** Shown in logs and stats. */
  readonly name: string;
  /** Worker hosts hold the provider keys: the supervisor sends none and needs none. */
  readonly remoteKeys: boolean;
  open(options: TransportOptions): TransportDispatcher;
}

export function isTransport(value: unknown): value is Transport {
  const t = value as Partial<Transport> | null;
  return typeof t === 'object' && t !== null && typeof t.open === 'function' && typeof t.name === 'string' && typeof t.remoteKeys === 'boolean';
}

/** Two gates in a row: the second is asked once the first lets the session go. */
export function chainGates(first: DispatchGate, second: DispatchGate): DispatchGate {
  return {
    wait: (spec, deadlineAt, go, fail) => first.wait(spec, deadlineAt, () => second.wait(spec, deadlineAt, go, fail), fail),
    released(sessionId) {
      first.released(sessionId);
      second.released(sessionId);
    },
  };
}
