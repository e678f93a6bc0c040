// Whether a load run met its criteria: a run in which (nearly) every request failed measured the
// errors, not the provider, and a script or CI job must see that in the exit code, not only in a table.
import type { LevelReport } from './level.ts';

export interface Verdict {
  ok: boolean;
  /** Why the run failed, in one line (absent when it did not). */
  reason?: string;
}

/**
 * Fails the run when more than `maxErrorRate` of the measured requests failed, or when none
 * succeeded, none ending at all included (`--rate 0.001 --duration 1s` issues nothing: a run that
 * measured nothing passed). Cancelled requests (a stop) count neither way; warm-up requests are not measured.
 */
export function runVerdict(levels: readonly LevelReport[], maxErrorRate: number): Verdict {
  let ok = 0;
  let failed = 0;
  for (const level of levels) {
    ok += level.requests.ok;
    failed += level.requests.failed;
  }
  const ended = ok + failed;
  if (ended === 0)
    return { ok: false, reason: 'the run failed: no measured request ended in it (none was issued within --duration at this --rate, or all were cancelled)' };
  if (failed === 0) return { ok: true };
  const share = failed / ended;
  if (share <= maxErrorRate && ok > 0) return { ok: true };
  const percent = `${Math.round(share * 100)}%`;
  const rule = ok === 0 && share <= maxErrorRate ? 'and none succeeded' : `more than --max-error-rate ${maxErrorRate} allows`;
  return { ok: false, reason: `the run failed: ${failed} of ${ended} requests failed (${percent}), ${rule}` };
}
