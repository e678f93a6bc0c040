import { InvalidRequestError } from '../errors/errors.ts';
import { describeValue } from '../util/validation.ts';

/** The longest delay a Node timer holds (about 24.8 days); longer ones would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * The close timeout from `close(options)`: `null`/`undefined`/`{}` give the default (10 s); a number
 * from 0 to MAX_TIMER_MS, or Infinity (wait for every session), is taken; anything else is refused.
 */
export function closeTimeoutOf(options: unknown): number {
  if (options === undefined || options === null) return 10_000;
  if (typeof options !== 'object') {
    const issue = `(root): expected { timeoutMs }, null or nothing, got ${describeValue(options)}`;
    throw new InvalidRequestError(`Invalid close options: ${issue}`, [issue]);
  }
  const timeoutMs = (options as { timeoutMs?: unknown }).timeoutMs;
  if (timeoutMs === undefined) return 10_000;
  if (timeoutMs === Infinity || (typeof timeoutMs === 'number' && timeoutMs >= 0 && timeoutMs <= MAX_TIMER_MS)) return timeoutMs;
  const issue = `\`timeoutMs\`: expected a number of milliseconds from 0 to ${MAX_TIMER_MS}, or Infinity to wait for every session, got ${describeValue(timeoutMs)}`;
  throw new InvalidRequestError(`Invalid close options: ${issue}`, [issue]);
}
