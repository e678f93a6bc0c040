// The mock provider for the routing demo, in a child process of its own (so that the host's
// thread does not stamp arrivals late): Kimi throttled per key, and taken down on command or
// after a number of requests. Talks to its parent over IPC.
import { startMockProvider } from '../src/apps/mock/server.ts';
import { firstBehaviour, outage, throttle } from '../src/apps/mock/faults.ts';

export interface RoutingMockConfig {
  limit: number;
  mode: 'bucket' | 'sliding';
  /** Kimi goes down after this many requests (never when absent). */
  downAfter?: number;
  latencyMs?: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as RoutingMockConfig;
const limiter = throttle({ limit: config.limit, mode: config.mode });
const down = outage();
let kimiRequests = 0;
let afterDown = 0;
const behave = firstBehaviour((request) => {
  if (request.dialect !== 'kimi') return undefined;
  kimiRequests++;
  if (down.isDown) afterDown++;
  if (kimiRequests === config.downAfter) {
    down.down();
    process.send?.({ type: 'down', kimiRequests });
  }
  return down.behave(request) ?? limiter.behave(request);
});
const mock = await startMockProvider({ behave, latencyMs: config.latencyMs ?? 20 });
process.on('message', (message: { type: string }) => {
  if (message.type === 'counts')
    process.send?.({ type: 'counts', rejected: limiter.rejected, accepted: limiter.accepted, kimiRequests, afterDown, total: mock.totalRequests });
  if (message.type === 'close') void mock.close().then(() => process.exit(0));
});
process.send?.({ type: 'listening', kimi: mock.baseURL('kimi'), glm: mock.baseURL('glm') });
