// Programmable provider faults for the fault suite and the routing benchmark, as `behave`
// functions of the mock (see MockProviderOptions.behave): a provider that throttles beyond N
// requests per second and key, and one that goes down and comes back on command.
import type { MockBehaviour, MockRequestRecord } from './types.ts';

export interface ThrottleOptions {
  /** Requests accepted per key in any window. */
  limit: number;
  /** The sliding window. @default 1000 */
  windowMs?: number;
}

export interface Throttle {
  behave(request: MockRequestRecord): MockBehaviour | undefined;
  /** Requests answered 429 so far. */
  readonly rejected: number;
  readonly accepted: number;
}

/**
 * At most `limit` requests per API key in any `windowMs` (a sliding log, the strictest reading of
 * "N per second"); beyond it 429 with the dialect's rate-limit error and `retry-after-ms` set to
 * when the window has room again. Refused requests do not count.
 */
export function throttle(options: ThrottleOptions): Throttle {
  const windowMs = options.windowMs ?? 1000;
  const logs = new Map<string, number[]>();
  const counts = { rejected: 0, accepted: 0 };
  return {
    behave(request) {
      const key = request.headers['authorization'] ?? '';
      const now = request.receivedAt;
      const log = (logs.get(key) ?? []).filter((at) => at > now - windowMs);
      logs.set(key, log);
      if (log.length < options.limit) {
        log.push(now);
        counts.accepted++;
        return undefined;
      }
      counts.rejected++;
      const retryAfterMs = Math.max(1, Math.ceil((log[0] ?? now) + windowMs - now));
      return { status: 429, error: request.dialect === 'glm' ? '429_frequency' : '429_rate_limit', retryAfterMs };
    },
    get rejected() {
      return counts.rejected;
    },
    get accepted() {
      return counts.accepted;
    },
  };
}

export interface Outage {
  behave(request: MockRequestRecord): MockBehaviour | undefined;
  /** From now on every request fails (503 by default). */
  down(): void;
  up(): void;
  readonly isDown: boolean;
  /** Requests that arrived while down. */
  readonly failed: number;
}

export function outage(options: { status?: number } = {}): Outage {
  let isDown = false;
  let failed = 0;
  return {
    behave() {
      if (!isDown) return undefined;
      failed++;
      return { status: options.status ?? 503 };
    },
    down: () => void (isDown = true),
    up: () => void (isDown = false),
    get isDown() {
      return isDown;
    },
    get failed() {
      return failed;
    },
  };
}

/** Several behave functions as one: the first that has something to say wins. */
export function firstBehaviour(...fns: Array<(request: MockRequestRecord) => MockBehaviour | undefined>) {
  return (request: MockRequestRecord): MockBehaviour | undefined => {
    for (const fn of fns) {
      const behaviour = fn(request);
      if (behaviour !== undefined) return behaviour;
    }
    return undefined;
  };
}
