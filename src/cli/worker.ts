/** `sessionpool worker`: a worker host that takes sessions from a BullMQ queue until SIGINT/SIGTERM. */
import { readJsonFileSync } from './config-file.ts';
import { parseArgs } from 'node:util';
import { createWorker, type WorkerHostOptions } from '../transport/bullmq/index.ts';

const USAGE = `usage: sessionpool worker --redis URL [--threads N] [--concurrency N] [--queue NAME] [--config FILE.json]

Takes sessions that supervisors created with transport: bullmq({ connection, queueName }) queue in
Redis, and runs them on this host's pool with this host's provider keys (kimi and glm from their
environment variables, others from --config). REDIS_URL is read when --redis is not given.
--config: a JSON file of createWorker() options (providers, routing, lockDurationMs, ...).`;

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw Object.assign(new Error(`--${name} must be a positive integer, got "${value}"`), { code: 'ERR_INVALID_ARG_VALUE' });
  return n;
}

function readConfig(path: string | undefined): Partial<WorkerHostOptions> {
  if (path === undefined) return {};
  return readJsonFileSync(path) as Partial<WorkerHostOptions>;
}

export async function runWorkerCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      redis: { type: 'string' },
      threads: { type: 'string' },
      concurrency: { type: 'string' },
      queue: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const redis = values.redis ?? process.env['REDIS_URL'];
  if (redis === undefined) throw Object.assign(new Error('--redis URL is required (or REDIS_URL)'), { code: 'ERR_INVALID_ARG_VALUE' });
  const threads = positive('threads', values.threads);
  const concurrency = positive('concurrency', values.concurrency);
  const host = createWorker({
    ...readConfig(values.config),
    connection: redis,
    ...(values.queue !== undefined ? { queueName: values.queue } : {}),
    ...(threads !== undefined ? { threads } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
  });
  await host.ready();
  console.log(`sessionpool worker ${host.host}: taking sessions from queue "${values.queue ?? 'sessionpool'}"`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await host.close();
  return 0;
}
