// The mock provider for the routing demo, in a child process of its own (so that the host's
// thread does not stamp arrivals late): Kimi throttled per key in one of several shapes, and taken
// down on command or after a number of requests. Talks to its parent over IPC.
import { startMockProvider } from '../src/apps/mock/server.ts';
import { firstBehaviour, outage } from '../src/apps/mock/faults.ts';
import { DEFAULT_COMPLETION_TOKENS, promptTokens } from '../src/apps/mock/answer.ts';
import type { MockBehaviour, MockRequestRecord } from '../src/apps/mock/types.ts';
import { throttleFor, type Refusal, type ThrottleMode } from './throttles.ts';

export type { ThrottleMode } from './throttles.ts';

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

const config = JSON.parse(process.argv[2] ?? '{}') as RoutingMockConfig;
const counts: MockCounts = { rejected: 0, accepted: 0, rejectedLate: 0, requestsLate: 0, kimiRequests: 0, afterDown: 0, total: 0 };
let firstAt: number | undefined;

/** The throttle's refusal as the mock's answer: Kimi's rate-limit 429, or the message given. */
function answerOf(refused: Refusal): MockBehaviour {
  const errorBody = refused.message === undefined ? undefined : { error: { message: refused.message, type: 'rate_limit_reached_error' } };
  return { status: 429, error: '429_rate_limit', retryAfterMs: refused.retryAfterMs, ...(errorBody ? { errorBody } : {}) };
}

const throttled = throttleFor(config.mode, config.limit);
const tokensOf = (r: MockRequestRecord) => promptTokens(r.body?.messages ?? []) + DEFAULT_COMPLETION_TOKENS;
const admit = (request: MockRequestRecord): MockBehaviour | undefined => {
  const refused = throttled.admit({ seq: request.seq, receivedAt: request.receivedAt, tokens: config.mode === 'tokens' ? tokensOf(request) : 1 });
  return refused === undefined ? undefined : answerOf(refused);
};
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
const ended = (record: MockRequestRecord) => throttled.release(record.seq);
mock.on('finished', ended);
mock.on('closed', ended);
process.on('message', (message: { type: string }) => {
  if (message.type === 'counts') process.send?.({ type: 'counts', ...counts, total: mock.totalRequests });
  if (message.type === 'close') void mock.close().then(() => process.exit(0));
});
process.send?.({ type: 'listening', kimi: mock.baseURL('kimi'), glm: mock.baseURL('glm') });
