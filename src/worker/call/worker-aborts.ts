// The worker's end of the abort protocol: one AbortController per session it runs, aborted by the
// supervisor's message or, on its own, at the session's deadline (the task's budget), so that a lost
// message never leaves a call running. The reason is always an Error with the session's code.
import type { AbortReason } from '../../types/session.ts';
import { abortError } from '../../errors/abort-reasons.ts';

interface Running {
  controller: AbortController;
  requestId: string;
  deadline: NodeJS.Timeout;
}

export class SessionAborts {
  readonly #running = new Map<string, Running>();
  /**
   * Aborts that came before their task (the two travel on different ports), or that were sent to
   * every worker because the supervisor did not know where the session runs. An entry leaves when
   * its task opens here or when the supervisor says the session's run is over (`forget`), so it
   * holds at most the sessions in flight, whatever the number of workers.
   */
  readonly #early = new Map<string, AbortReason>();

  /** Starts a session's signal; it aborts by itself `budgetMs` from now. */
  open(sessionId: string, requestId: string, budgetMs: number): AbortSignal {
    const controller = new AbortController();
    const deadline = setTimeout(() => this.#abort(sessionId, 'timeout'), budgetMs);
    deadline.unref();
    this.#running.set(sessionId, { controller, requestId, deadline });
    const early = this.#early.get(sessionId);
    if (early !== undefined) {
      this.#early.delete(sessionId);
      this.#abort(sessionId, early);
    }
    return controller.signal;
  }

  close(sessionId: string): void {
    const running = this.#running.get(sessionId);
    if (running === undefined) return;
    clearTimeout(running.deadline);
    this.#running.delete(sessionId);
  }

  /** True when this worker runs the session; otherwise the abort waits here for its task. */
  abort(sessionId: string, reason: AbortReason): boolean {
    if (this.#abort(sessionId, reason)) return true;
    this.#early.set(sessionId, reason);
    return false;
  }

  /** The session's run ended somewhere: an abort kept for it here will never be needed. */
  forget(sessionId: string): void {
    this.#early.delete(sessionId);
  }

  #abort(sessionId: string, reason: AbortReason): boolean {
    const running = this.#running.get(sessionId);
    if (running === undefined) return false;
    clearTimeout(running.deadline);
    if (!running.controller.signal.aborted) running.controller.abort(abortError(reason, { sessionId, requestId: running.requestId }));
    return true;
  }
}
