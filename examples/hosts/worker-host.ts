/**
 * A worker host: takes sessions from a BullMQ queue on Redis and runs them on its own pool of worker
 * threads. The provider keys live here; producers never see them. Start as many as you like, on as
 * many machines as you like (see README.md in this folder).
 *
 * Run:    SESSIONPOOL_JOB_SECRET=$(openssl rand -hex 32) node --conditions=sessionpool-source examples/hosts/worker-host.ts
 *         (in this repo; with sessionpool installed, leave out --conditions). REDIS_URL: where Redis is
 *         (default redis://127.0.0.1:6379); the producers need the same SESSIONPOOL_JOB_SECRET (≥ 32 characters).
 * Keys:   none needed: each host starts the embedded mock and answers from it. With MOONSHOT_API_KEY /
 *         KIMI_API_KEY or ZHIPUAI_API_KEY / GLM_API_KEY set, sessions go to the real Kimi or GLM.
 *         MOCK_URL: a mock already running (`npx sessionpool mock` prints its URL), shared by every host.
 * Prints: `worker host NAME: taking sessions from queue "sessionpool-example"`; on Ctrl-C (SIGINT or
 *         SIGTERM) it lets running sessions finish, then prints what it ran and exits 0.
 */
import { BUILT_IN_PROVIDERS, createWorker, type ProviderConfig } from 'sessionpool';
import { BASE_PATHS, startMockProvider } from 'sessionpool/mock';

const QUEUE = 'sessionpool-example';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

// Kimi and GLM with their keys from the environment; without any key, both answer from a mock.
const keyed = ['kimi', 'glm'].some((name) => BUILT_IN_PROVIDERS[name]?.keyEnv.some((variable) => process.env[variable]));
const mock = keyed || process.env.MOCK_URL ? undefined : await startMockProvider({ latencyMs: 200 });
const mockURL = process.env.MOCK_URL || mock?.url;
const providers: Record<string, ProviderConfig> = mockURL
  ? { kimi: { baseURL: mockURL + BASE_PATHS.kimi, apiKey: 'sk-mock' }, glm: { baseURL: mockURL + BASE_PATHS.glm, apiKey: 'sk-mock' } }
  : {};

const host = createWorker({
  connection: REDIS_URL,
  queueName: QUEUE,
  jobSecret: process.env.SESSIONPOOL_JOB_SECRET,
  providers,
  threads: 2,
  concurrency: 16, // sessions this host runs at once; the others wait in the queue for any host
  logger: false,
});
await host.ready();
console.log(`worker host ${host.host}: taking sessions from queue "${QUEUE}"`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await host.close({ timeoutMs: 10_000 }); // running sessions may finish; new ones go to other hosts
    await mock?.close();
    const { completed, aborted } = host.stats();
    console.log(`worker host ${host.host}: closed after ${completed} sessions (${aborted} aborted)`);
  });
}
