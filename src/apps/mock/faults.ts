// Programmable provider faults for the fault suite and the routing benchmark, as `behave`
// functions of the mock (see MockProviderOptions.behave): a provider that throttles beyond N
// requests per second and key, and one that goes down and comes back on command.
import type { MockBehaviour, MockRequestRecord } from './types.ts';

export interface ThrottleOptions {
  /** Requests accepted per key and window. */
  limit: number;
  /** @default 1000 */
  windowMs?: number;
  /**
   * `bucket`: a token bucket of `limit` refilled at `limit` per window (how most providers
   * describe their limits); `sliding`: at most `limit` in any window, the strictest reading.
   * @default 'bucket'
   */
  mode?: 'bucket' | 'sliding';
}

export interface Throttle {
  behave(request: MockRequestRecord): MockBehaviour | undefined;
  /** Requests answered 429 so far. */
  readonly rejected: number;
  readonly accepted: number;
}

/**
 * Beyond `limit` requests per API key and window, 429 with the dialect's rate-limit error and
 * `retry-after-ms` set to when there is room again. Refused requests do not count.
 */
export function throttle(options: ThrottleOptions): Throttle {
  const windowMs = options.windowMs ?? 1000;
  const admit = options.mode === 'sliding' ? slidingWindow(options.limit, windowMs) : tokenBucket(options.limit, windowMs);
  const counts = { rejected: 0, accepted: 0 };
  return {
    behave(request) {
      const waitMs = admit(request.headers['authorization'] ?? '', request.receivedAt);
      if (waitMs === 0) {
        counts.accepted++;
        return undefined;
      }
      counts.rejected++;
      return { status: 429, error: request.dialect === 'glm' ? '429_frequency' : '429_rate_limit', retryAfterMs: waitMs };
    },
    get rejected() {
      return counts.rejected;
    },
    get accepted() {
      return counts.accepted;
    },
  };
}

/** 0 when a request of `key` at `now` is admitted, else the milliseconds until it would be. */
type Admit = (key: string, now: number) => number;

function slidingWindow(limit: number, windowMs: number): Admit {
  const logs = new Map<string, number[]>();
  return (key, now) => {
    const log = (logs.get(key) ?? []).filter((at) => at > now - windowMs);
    logs.set(key, log);
    if (log.length < limit) {
      log.push(now);
      return 0;
    }
    return Math.max(1, Math.ceil((log[0] ?? now) + windowMs - now));
  };
}

function tokenBucket(limit: number, windowMs: number): Admit {
  const buckets = new Map<string, { level: number; at: number }>();
  const perMs = limit / windowMs;
  return (key, now) => {
    const b = buckets.get(key) ?? { level: limit, at: now };
    b.level = Math.min(limit, b.level + (now - b.at) * perMs);
    b.at = now;
    buckets.set(key, b);
    if (b.level >= 1) {
      b.level -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.level) / perMs));
  };
}

export interface Outage {
  behave(request?: MockRequestRecord): MockBehaviour | undefined;
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
