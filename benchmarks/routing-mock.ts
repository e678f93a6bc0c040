// The mock provider for the routing demo, in a child process of its own (so that the host's
// thread does not stamp arrivals late): Kimi throttled per key in one of several shapes, and taken
// down on command or after a number of requests. Talks to its parent over IPC.
import { startMockProvider } from '../src/apps/mock/server.ts';
import { firstBehaviour, outage, throttle } from '../src/apps/mock/faults.ts';
import { DEFAULT_COMPLETION_TOKENS, promptTokens } from '../src/apps/mock/answer.ts';
import type { MockBehaviour, MockRequestRecord } from '../src/apps/mock/types.ts';

/**
 * - `bucket`, `sliding`: `limit` requests a second (a token bucket of `limit`, or at most `limit` in any second);
 * - `concurrency`: at most `limit` calls in flight (Kimi's "max organization concurrency" 429);
 * - `tokens`: `limit` tokens a minute (prompt words plus the answer's), refilled continuously, 2 s of burst;
 * - `halving`: a token bucket of `limit` a second whose rate halves from 5 s to 15 s after the first request;
 * - `none`: never refuses.
 */
export type ThrottleMode = 'bucket' | 'sliding' | 'concurrency' | 'tokens' | 'halving' | 'none';

export interface RoutingMockConfig {
  limit: number;
  mode: ThrottleMode;
  /** Kimi goes down after this many requests (0: down from the start; never when absent). */
  downAfter?: number;
  latencyMs?: number;
}

export interface MockCounts {
  rejected: number;
  accepted: number;
  /** Refused and all Kimi requests that arrived 5 s or more after the first one. */
  rejectedLate: number;
  requestsLate: number;
  kimiRequests: number;
  afterDown: number;
  total: number;
}

type Admit = (request: MockRequestRecord) => MockBehaviour | undefined;

const config = JSON.parse(process.argv[2] ?? '{}') as RoutingMockConfig;
const counts: MockCounts = { rejected: 0, accepted: 0, rejectedLate: 0, requestsLate: 0, kimiRequests: 0, afterDown: 0, total: 0 };
let firstAt: number | undefined;

function refusal(retryAfterMs: number, message?: string): MockBehaviour {
  const errorBody = message === undefined ? undefined : { error: { message, type: 'rate_limit_reached_error' } };
  return { status: 429, error: '429_rate_limit', retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)), ...(errorBody ? { errorBody } : {}) };
}

/** A token bucket whose refill per ms `perMsAt(now)` may change over time. */
function bucket(size: number, perMsAt: (now: number) => number, costOf: (r: MockRequestRecord) => number): Admit {
  let level = size;
  let at: number | undefined;
  return (request) => {
    const now = request.receivedAt;
    level = Math.min(size, level + (now - (at ?? now)) * perMsAt(now));
    at = now;
    const cost = costOf(request);
    if (level >= cost) {
      level -= cost;
      return undefined;
    }
    return refusal((cost - level) / perMsAt(now));
  };
}

const inFlight = new Set<number>();
function concurrency(limit: number): Admit {
  return (request) => {
    if (inFlight.size >= limit) {
      return refusal(1000, `Your account org-mock<ak-mock> request reached organization max concurrency: ${limit}, please try again after 1 seconds`);
    }
    inFlight.add(request.seq);
    return undefined;
  };
}

const tokensOf = (r: MockRequestRecord) => promptTokens(r.body?.messages ?? []) + DEFAULT_COMPLETION_TOKENS;

function admitFor(c: RoutingMockConfig): Admit {
  if (c.mode === 'none') return () => undefined;
  if (c.mode === 'concurrency') return concurrency(c.limit);
  if (c.mode === 'tokens') return bucket((c.limit / 60) * 2, () => c.limit / 60_000, tokensOf);
  if (c.mode === 'halving') {
    const half = (now: number) => firstAt !== undefined && now - firstAt >= 5000 && now - firstAt < 15_000;
    return bucket(
      c.limit,
      (now) => (half(now) ? c.limit / 2000 : c.limit / 1000),
      () => 1,
    );
  }
  const limiter = throttle({ limit: c.limit, mode: c.mode });
  return (request) => limiter.behave(request);
}

const admit = admitFor(config);
const down = outage();
if (config.downAfter === 0) down.down();
const behave = firstBehaviour((request) => {
  if (request.dialect !== 'kimi') return undefined;
  counts.kimiRequests++;
  firstAt ??= request.receivedAt;
  const late = request.receivedAt - firstAt >= 5000;
  if (late) counts.requestsLate++;
  if (down.isDown) counts.afterDown++;
  if (counts.kimiRequests === config.downAfter) {
    down.down();
    process.send?.({ type: 'down', kimiRequests: counts.kimiRequests });
  }
  const answer = down.behave(request) ?? admit(request);
  if (answer?.status === 429) {
    counts.rejected++;
    if (late) counts.rejectedLate++;
  } else if (answer === undefined) counts.accepted++;
  return answer;
});
const mock = await startMockProvider({ behave, latencyMs: config.latencyMs ?? 20 });
const ended = (record: MockRequestRecord) => inFlight.delete(record.seq);
mock.on('finished', ended);
mock.on('closed', ended);
process.on('message', (message: { type: string }) => {
  if (message.type === 'counts') process.send?.({ type: 'counts', ...counts, total: mock.totalRequests });
  if (message.type === 'close') void mock.close().then(() => process.exit(0));
});
process.send?.({ type: 'listening', kimi: mock.baseURL('kimi'), glm: mock.baseURL('glm') });
