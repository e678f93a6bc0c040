// What a queued session is sent with: the same task the routed dispatcher would build when the
// session leaves `created` (its current target, the time left), computed when it is enqueued.
import type { SessionTask } from '../wire/protocol.ts';
import type { Router } from '../routing/router.ts';
import type { RouteTarget } from '../routing/targets.ts';
import type { SessionSpec } from '../seam/seam.ts';

export function queuedTask(router: Router, now: () => number): (spec: SessionSpec, deadlineAt: number) => SessionTask {
  return (spec, deadlineAt) => {
    const budgetMs = Math.max(1, deadlineAt - now());
    const route = router.route(spec.sessionId);
    const target = route?.targets[route.index] as RouteTarget | undefined;
    if (spec.task.kind !== 'chat' || target === undefined) return { ...spec.task, budgetMs, run: 1 } as SessionTask;
    return { ...spec.task, provider: target.provider, call: target.call, budgetMs, run: 1 };
  };
}
