/**
 * A producer: a supervisor whose sessions run on worker hosts (worker-host.ts) through a BullMQ queue
 * on Redis instead of on threads of this process. It holds no provider key: the hosts do.
 *
 * Run:    SESSIONPOOL_JOB_SECRET=… node --conditions=sessionpool-source examples/hosts/producer.ts
 *         (in this repo; with sessionpool installed, leave out --conditions), with the hosts' secret.
 *         REDIS_URL (default redis://127.0.0.1:6379); SESSIONS: how many (default 40);
 *         PROVIDER: kimi (default) or glm, one the hosts have a key for (or their mock).
 * Keys:   none here. The worker hosts answer with the mock, or with Kimi or GLM when they have keys.
 * Prints: `N of N sessions completed in T ms`, then how many each worker host ran; exits 0 when all did.
 */
import { bullmq, createSupervisor } from 'sessionpool';

const SESSIONS = Number(process.env.SESSIONS || 40);
const provider = process.env.PROVIDER || 'kimi';

const supervisor = createSupervisor({
  transport: bullmq({
    connection: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
    queueName: 'sessionpool-example',
    jobSecret: process.env.SESSIONPOOL_JOB_SECRET,
  }),
  maxConcurrent: SESSIONS,
  logger: false,
});
await supervisor.ready(); // connected to Redis (the sessions wait in the queue until a host takes them)

const started = performance.now();
const outcomes = await Promise.allSettled(
  Array.from({ length: SESSIONS }, (_, i) => supervisor.chat({ provider, prompt: `Give session ${i} a one-line motto.`, maxOutputTokens: 60 })),
);
const elapsed = Math.round(performance.now() - started);

const byHost = new Map<string, number>();
const failures = new Map<string, number>();
for (const outcome of outcomes) {
  if (outcome.status === 'fulfilled') {
    const host = outcome.value.metadata.session.host ?? '?';
    byHost.set(host, (byHost.get(host) ?? 0) + 1);
  } else {
    const code = (outcome.reason as { code?: string }).code ?? String(outcome.reason);
    failures.set(code, (failures.get(code) ?? 0) + 1);
  }
}
const completed = SESSIONS - [...failures.values()].reduce((sum, n) => sum + n, 0);
console.log(`${completed} of ${SESSIONS} sessions completed in ${elapsed} ms`);
for (const [host, count] of byHost) console.log(`  ${host}: ${count}`);
for (const [code, count] of failures) console.log(`  failed ${code}: ${count}`);

await supervisor.close();
if (completed < SESSIONS) process.exitCode = 1;
