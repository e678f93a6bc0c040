// The pool, wrapped: a chat session whose target failed in a way another target may not (the
// retry policy gave up on a retryable failure, nothing streamed yet, time left) is sent to its
// next target within the same deadline, as the same session. Aborts of a session that waits
// between two targets end it here: no worker has it.
import { abortError } from '../errors/abort-reasons.ts';
import type { WireError } from '../types/errors.ts';
import type { ChatTask, SessionTask, TaskOutcome } from '../wire/protocol.ts';
import { passThrough, type Dispatcher, type RunReceiver } from '../seam/seam.ts';
import type { Route, Router } from './router.ts';
import type { RouteTarget } from './targets.ts';

export function routedDispatcher(inner: Dispatcher, router: Router, now: () => number, setTimer: (fn: () => void, ms: number) => unknown): Dispatcher {
  // The engine is told with the task it gave (its run), whichever target's task ran.
  const runTarget = (route: Route, task: ChatTask, outer: RunReceiver): void => {
    const target = route.targets[route.index] as RouteTarget;
    const sent: ChatTask = { ...task, provider: target.provider, call: target.call, budgetMs: Math.max(1, Math.min(task.budgetMs, route.deadlineAt - now())) };
    // A probe gets one call; a 429 comes back here, to wait for the key like every call on it.
    route.deferring = router.defersRateLimits(route);
    if (route.probe) sent.retry = { ...task.retry, maxRetries: 0 };
    else if (route.deferring) sent.retry = { ...task.retry, deferRateLimits: true };
    inner.run(sent, {
      settled: (_sent, outcome) => ran(route, task, outcome, outer),
      crashed: (_sent, error) => {
        router.settle(route, undefined);
        outer.crashed(task, error);
      },
    });
  };

  const ran = (route: Route, task: ChatTask, outcome: TaskOutcome, outer: RunReceiver): void => {
    route.threadId = outcome.threadId;
    const deferred = route.deferring === true && !route.probe;
    router.settle(route, outcome);
    const attempts = route.attemptsBefore + outcome.attempts;
    if (outcome.ok) {
      const target = route.targets[route.index] as RouteTarget;
      route.entries.push({ provider: target.provider.name, model: target.call.model, outcome: 'completed', attempts: outcome.attempts });
      const value = outcome.value as { metadata?: Record<string, unknown> };
      value.metadata = { ...value.metadata, route: route.entries };
      return outer.settled(task, { ...outcome, attempts });
    }
    const error = outcome.error;
    if (deferred && router.mayRerun(route, error, task.retry)) return rerun(route, task, outcome, outer);
    if (!mayFallBack(route, error, now())) {
      if (error.code !== 'ERR_SESSION_TIMEOUT' && error.code !== 'ERR_SESSION_ABORTED') router.leave(route, 'failed', outcome.attempts, error, false);
      return outer.settled(task, { ...outcome, attempts, error: { ...error, route: route.entries } });
    }
    router.leave(route, 'failed', outcome.attempts, error);
    route.attemptsBefore = attempts;
    route.index++;
    route.pending = (ended) => outer.settled(task, ended);
    router.acquire(route, (ok) => {
      if (route.pending === undefined) return;
      route.pending = undefined;
      if (ok) runTarget(route, task, outer);
      else outer.settled(task, { ...outcome, attempts, error: { ...error, route: route.entries } });
    });
  };

  // The same target again, once its key gives budget (after a Retry-After, at the learned pace).
  const rerun = (route: Route, task: ChatTask, outcome: TaskOutcome & { ok: false }, outer: RunReceiver): void => {
    // A 429 handed back was reported as a retry whose attempt the worker counted but did not make.
    route.attemptsBefore += outcome.attempts - (route.refusalSeen === true ? 1 : 0);
    const attempts = route.attemptsBefore;
    route.pending = (ended) => outer.settled(task, ended);
    const again = (): void => {
      // Ended (aborted, closed) while it waited out its backoff: it is not queued for the key.
      if (route.pending === undefined) return;
      router.acquire(
        route,
        (ok) => {
          if (route.pending === undefined) return;
          route.pending = undefined;
          if (ok) runTarget(route, task, outer);
          else outer.settled(task, { ...outcome, attempts, error: { ...outcome.error, route: route.entries } });
        },
        true,
      );
    };
    const delayMs = route.rerunDelayMs ?? 0;
    route.rerunDelayMs = undefined;
    if (delayMs > 0) setTimer(again, delayMs);
    else again();
  };

  return passThrough(inner, {
    run(task: SessionTask, receiver: RunReceiver): void {
      const route = router.route(task.sessionId);
      if (route === undefined || task.kind !== 'chat') return inner.run(task, receiver);
      runTarget(route, task, receiver);
    },
    abort(threadId, sessionId, reason) {
      const route = router.route(sessionId);
      const pending = route?.pending;
      if (route === undefined || pending === undefined) return inner.abort(threadId, sessionId, reason);
      route.pending = undefined;
      router.released(sessionId);
      pending({
        ok: false,
        error: { ...abortError(reason, { sessionId }).toJSON(), route: route.entries },
        attempts: route.attemptsBefore,
        threadId: route.threadId ?? -1,
      });
      return Promise.resolve(route.threadId);
    },
  });
}

/** Another target may answer: a retryable provider failure, nothing streamed, a target left, time left. */
function mayFallBack(route: Route, error: WireError, now: number): boolean {
  if (route.streamed || route.index + 1 >= route.targets.length || now >= route.deadlineAt) return false;
  return error.retryable === true && (error.code === 'ERR_PROVIDER' || error.code === 'ERR_PROVIDER_RESPONSE');
}
