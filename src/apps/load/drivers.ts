// The two ways of loading a provider. Closed loop: `concurrency` sessions in flight, each issuing
// its next request when the previous one ends (latency throttles the load). Open loop: requests
// issued on a Poisson schedule at a rate, whatever the latency (the load does not wait).
import { setTimeout as sleep } from 'node:timers/promises';
import { poissonGaps, seededRandom } from './arrivals.ts';

/** Whether another request may start (`dueMs`: when it is due, ms after the level started). */
export type Budget = (dueMs: number) => boolean;

export function requestBudget(requests: number, stop: AbortSignal): Budget {
  let left = requests;
  return () => !stop.aborted && left-- > 0;
}

export function durationBudget(durationMs: number, stop: AbortSignal, startedAt: number): Budget {
  return (dueMs) => !stop.aborted && dueMs < durationMs && performance.now() - startedAt < durationMs;
}

export async function closedLoop(concurrency: number, budget: Budget, startedAt: number, issue: () => Promise<void>): Promise<void> {
  const user = async () => {
    while (budget(performance.now() - startedAt)) await issue();
  };
  await Promise.all(Array.from({ length: concurrency }, user));
}

export interface OpenLoopOptions {
  ratePerSec: number;
  seed: number;
  startedAt: number;
  stop: AbortSignal;
}

/** Issues at the scheduled times (late ones at once, to keep the rate); waits for all to end. */
export async function openLoop(o: OpenLoopOptions, budget: Budget, issue: () => Promise<void>): Promise<void> {
  const gap = poissonGaps(o.ratePerSec, seededRandom(o.seed));
  const inFlight = new Set<Promise<void>>();
  let due = 0;
  for (;;) {
    due += gap();
    if (!budget(due)) break;
    if (!(await waitUntil(o.startedAt + due, o.stop))) break;
    const running = issue();
    inFlight.add(running);
    void running.finally(() => inFlight.delete(running));
  }
  await Promise.all(inFlight);
}

/** Sleeps until performance.now() ≥ `at` (timers may fire up to 1 ms early: never issue before time); false when stopped. */
async function waitUntil(at: number, stop: AbortSignal): Promise<boolean> {
  for (let wait = at - performance.now(); wait > 0; wait = at - performance.now()) {
    try {
      await sleep(Math.ceil(wait), undefined, { signal: stop });
    } catch {
      return false;
    }
  }
  return !stop.aborted;
}
