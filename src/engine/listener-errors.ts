// User code the supervisor calls — event listeners and the `inspect` observer — runs behind one
// guard: what it throws (or an async listener rejects with) never reaches the engine's control
// flow. It is reported as an `error` event when someone listens, else as a logged warning.
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import { ListenerError } from '../errors/errors.ts';
import type { InspectOption } from '../types/options.ts';

type Listener = (...args: unknown[]) => unknown;

export class ListenerGuard {
  readonly #emitter: EventEmitter;
  readonly #logger: Logger | undefined;

  constructor(emitter: EventEmitter, logger: Logger | undefined) {
    this.#emitter = emitter;
    this.#logger = logger;
  }

  /** Calls every listener of `type` (a throwing one does not stop the others). */
  emit(type: string, event: { sessionId?: string }): void {
    // rawListeners: `once` wrappers remove themselves when called.
    for (const listener of this.#emitter.rawListeners(type) as Listener[]) {
      try {
        const returned = Reflect.apply(listener, this.#emitter, [event]);
        if (isThenable(returned)) returned.then(undefined, (error: unknown) => this.report(error, type, event.sessionId));
      } catch (error) {
        this.report(error, type, event.sessionId);
      }
    }
  }

  report(thrown: unknown, source: string, sessionId: string | undefined): void {
    const error = new ListenerError(
      `A ${source === 'inspect' ? 'inspect observer' : `\`${source}\` listener`} threw: ${describe(thrown)}`,
      source,
      thrown,
      sessionId === undefined ? {} : { sessionId },
    );
    const listeners = this.#emitter.rawListeners('error') as Listener[];
    if (listeners.length === 0) return this.#warn(error);
    for (const listener of listeners) {
      try {
        Reflect.apply(listener, this.#emitter, [error]);
      } catch (inner) {
        this.#warn(new ListenerError(`An \`error\` listener threw: ${describe(inner)}`, 'error', inner, error));
      }
    }
  }

  #warn(error: ListenerError): void {
    if (this.#logger !== undefined) this.#logger.warn({ err: error, source: error.source, sessionId: error.sessionId }, error.message);
    else process.emitWarning(error.message, { code: error.code });
  }
}

/** An inspection callback that never throws into XState (and so into the engine). */
export function guardInspect(inspect: InspectOption, report: (error: unknown, sessionId: string | undefined) => void): (event: InspectionEvent) => void {
  const next = typeof inspect === 'function' ? inspect : (event: InspectionEvent) => inspect.next?.call(inspect, event);
  return (event) => {
    try {
      next(event);
    } catch (error) {
      report(error, sessionIdOf(event));
    }
  };
}

function sessionIdOf(event: InspectionEvent): string | undefined {
  try {
    const id = (event.actorRef.getSnapshot() as { context?: { sessionId?: unknown } }).context?.sessionId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function describe(value: unknown): string {
  try {
    return value instanceof Error ? value.message : String(value);
  } catch {
    return 'a value that cannot be described';
  }
}
