/** `sessionpool worker`: a worker host that takes sessions from a BullMQ queue until SIGINT/SIGTERM. */
import { parseArgs } from 'node:util';
import { createWorker, type WorkerHost, type WorkerHostOptions } from '../../api/public.ts';
import { hasPassword, readJSONFile, readSecretFile, redisURL } from './worker-credentials.ts';

const USAGE = `usage: sessionpool worker [--redis URL] [--redis-password-file FILE] [--job-secret-file FILE]
                         [--threads N] [--concurrency N] [--queue NAME] [--config FILE.json]
                         [--handler MODULE]...

Takes sessions that supervisors created with transport: bullmq({ connection, queueName }) queue in
Redis, and runs them on this host's pool with this host's provider keys (kimi and glm from their
environment variables, others from --config). Runs only jobs signed with the job secret the
producers hold: chat sessions, and execute sessions whose handler is a module given with --handler
(a path or file: URL, repeatable; "handlers" in --config), the same file: URL as on the producers.

Secrets never go on the command line (ps shows it to every user of the machine):
  Redis URL       --redis URL, else REDIS_URL (keep the password out of it:)
  Redis password  --redis-password-file FILE, else REDIS_PASSWORD (replaces a password in the URL)
  job secret      --job-secret-file FILE, else "jobSecret" in --config, else SESSIONPOOL_JOB_SECRET
                  (at least 32 characters; the same on producers and worker hosts)
--config: a JSON file of createWorker() options (providers, routing, lockDurationMs, ...).

SIGTERM or SIGINT: stops taking jobs, lets running ones finish for up to 10 s, aborts the rest, and
exits. A second SIGTERM or SIGINT exits at once (running jobs go back to the queue when their
locks lapse).`;

function usageError(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_INVALID_ARG_VALUE' });
}

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  // Digits only: Number() also reads "0x10", "1e1" and " 2", which nobody means as a count.
  const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw usageError(`--${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      redis: { type: 'string' },
      'redis-password-file': { type: 'string' },
      'job-secret-file': { type: 'string' },
      threads: { type: 'string' },
      concurrency: { type: 'string' },
      queue: { type: 'string' },
      config: { type: 'string' },
      handler: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

/** createWorker()'s options from the flags, the config file and the environment. */
function workerOptions(values: ReturnType<typeof parse>): WorkerHostOptions {
  const redis = values.redis ?? process.env['REDIS_URL'];
  if (redis === undefined) throw usageError('--redis URL is required (or REDIS_URL)');
  if (values.redis !== undefined && hasPassword(values.redis))
    console.error(
      'sessionpool worker: warning: the password in --redis is visible to every user of this machine (ps); use REDIS_URL, REDIS_PASSWORD or --redis-password-file',
    );
  const config = values.config !== undefined ? (readJSONFile(values.config) as Partial<WorkerHostOptions>) : {};
  const fromFile = values['job-secret-file'] !== undefined ? readSecretFile('job-secret-file', values['job-secret-file']) : undefined;
  const jobSecret = fromFile ?? config.jobSecret;
  if (jobSecret === undefined && !process.env['SESSIONPOOL_JOB_SECRET'])
    throw usageError(
      'a job secret is required: set SESSIONPOOL_JOB_SECRET or give --job-secret-file FILE (at least 32 characters, the one the producers sign jobs with)',
    );
  const threads = positive('threads', values.threads);
  const concurrency = positive('concurrency', values.concurrency);
  return {
    ...config,
    connection: redisURL(redis, values['redis-password-file']),
    ...(jobSecret !== undefined ? { jobSecret } : {}),
    ...(values.queue !== undefined ? { queueName: values.queue } : {}),
    ...(threads !== undefined ? { threads } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    // Added to the file's list only when it is one: anything else goes on as written, for createWorker to refuse by name.
    ...(values.handler !== undefined && (config.handlers === undefined || Array.isArray(config.handlers))
      ? { handlers: [...(config.handlers ?? []), ...values.handler] }
      : {}),
  };
}

function create(options: WorkerHostOptions): WorkerHost {
  try {
    return createWorker(options);
  } catch (error) {
    // Options that do not check out are the operator's to fix: a usage error, one line.
    if ((error as { code?: string }).code === 'ERR_INVALID_REQUEST') throw usageError((error as Error).message);
    throw error;
  }
}

export async function runWorkerCommand(argv: string[]): Promise<number> {
  const values = parse(argv);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const host = create(workerOptions(values));
  try {
    await host.ready();
  } catch (error) {
    // Redis refused us (a wrong password) or the pool did not start: let go of everything, so the process ends.
    await host.close({ timeoutMs: 0 });
    throw error;
  }
  console.log(`sessionpool worker ${host.host}: taking sessions from queue "${values.queue ?? 'sessionpool'}"`);
  // One listener per signal for the rest of the process: removing it and adding another between the
  // first signal and the second would leave a moment where SIGTERM has Node's default action (the
  // process killed by the signal rather than exiting 143), and the line below can be read before then.
  let received: NodeJS.Signals | undefined;
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (again: NodeJS.Signals) => {
      if (received === undefined) {
        received = again;
        resolve(again);
        return;
      }
      // Asked twice: the operator does not want to wait for the running jobs.
      console.error(`sessionpool worker: ${again} again: exiting now`);
      process.exit(exitCodeOf(again));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  console.error(`sessionpool worker: ${signal}: closing (running jobs have up to ${CLOSE_TIMEOUT_MS / 1000} s; ${signal} again exits now)`);
  await host.close({ timeoutMs: CLOSE_TIMEOUT_MS });
  exitSoon(signal);
  return 0;
}

/** createWorker's default close timeout: running jobs have this long to finish on SIGTERM. */
const CLOSE_TIMEOUT_MS = 10_000;
/** After close() returned, nothing should hold the process; if something does, it ends anyway. */
const EXIT_BACKSTOP_MS = 500;

function exitCodeOf(signal: NodeJS.Signals): number {
  return 128 + (signal === 'SIGINT' ? 2 : 15);
}

/** A handle left open after close (a bug to report, not a reason to hang past SIGTERM) is named, then the process exits. */
function exitSoon(signal: NodeJS.Signals): void {
  setTimeout(() => {
    console.error(
      `sessionpool worker: still running ${EXIT_BACKSTOP_MS} ms after closing on ${signal} (${process.getActiveResourcesInfo().join(', ')}): exiting`,
    );
    process.exit(0);
  }, EXIT_BACKSTOP_MS).unref();
}
