// The wire schema of a job's data, checked by a worker host before anything else: whoever can write
// to Redis can write any JSON there, and a job that is not what a producer builds (a `sessionId`
// that is an object, a missing `call`, a kind this host does not run, an execute task naming a
// module this host did not allow, a deadline a decade away,
// strings or arrays no request could hold) is refused typed instead of reaching the pool. Bounds
// follow the request schema (supervisor/request.ts) and the engine's options.
import { z } from 'zod';
import { describeValue, formatIssue, HEADER_NAME, nonNegativeInt, positiveInt } from '../../util/validation.ts';
import type { JobData } from './job.ts';
import { TRACEPARENT } from '../../telemetry/traceparent.ts';

/** The longest session a producer can ask for (`timeoutMs` is at most a day), plus clock skew between hosts. */
export const MAX_DEADLINE_AHEAD_MS = 86_400_000 + 10 * 60_000;
const MAX_TEXT = 64 * 1024 * 1024;

const id = z.string().min(1).max(256);
const record = z.record(z.string().max(1024), z.unknown());
const contentPart = z.looseObject({ type: z.string().min(1).max(256) });
const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function', 'cache']),
  content: z.union([z.string().max(MAX_TEXT), z.array(contentPart).max(10_000), z.null()]).optional(),
});
const headers = z
  .record(
    z.string().max(256).regex(HEADER_NAME, 'expected an HTTP header name'),
    z
      .string()
      .max(8192)
      .regex(/^[^\r\n\0]*$/, 'expected a header value without line breaks'),
  )
  .refine((h) => !Object.keys(h).some((name) => name.toLowerCase() === 'authorization'), 'expected no `Authorization` header');

const call = z.strictObject({
  model: id,
  messages: z.array(message).min(1).max(10_000),
  temperature: z.number().min(0).max(2).optional(),
  maxOutputTokens: positiveInt(1_000_000).optional(),
  tools: z
    .array(z.looseObject({ type: z.string().min(1).max(256) }))
    .max(128)
    .optional(),
  toolChoice: z.union([z.enum(['auto', 'none', 'required']), z.looseObject({ type: z.string().max(256) })]).optional(),
  continuation: z.union([z.literal(false), z.strictObject({ maxAttempts: positiveInt(50), maxTotalTokens: positiveInt(10_000_000) })]),
  cache: z.strictObject({ id: z.string().min(1).max(1024), resetTtlSeconds: nonNegativeInt(86_400).optional() }).optional(),
  webSearch: z.union([z.boolean(), record]).optional(),
  stream: z.boolean(),
  idleTimeoutMs: positiveInt(3_600_000),
  maxResponseBytes: positiveInt(1024 * 1024 * 1024),
  params: record.optional(),
  headers: headers.optional(),
  extra: record.optional(),
  // The caller's query parameters (the SDK encodes them into the URL) and the re-asks of an answer that misses its schema.
  query: record.optional(),
  structuredRetries: nonNegativeInt(5).optional(),
});

const chatTask = z.strictObject({
  kind: z.literal('chat'),
  sessionId: id,
  requestId: id,
  run: positiveInt(100),
  abort: z.enum(['timeout', 'aborted', 'closed']).optional(),
  provider: id,
  call,
  // deferRateLimits: the producer's routing waits for the key on a 429 (the host hands it back instead of retrying it).
  retry: z.strictObject({
    maxRetries: nonNegativeInt(20),
    baseDelayMs: nonNegativeInt(600_000),
    maxDelayMs: nonNegativeInt(3_600_000),
    deferRateLimits: z.boolean().optional(),
  }),
  // The producer's session span (W3C traceparent, 55 characters): the host records its calls and may parent spans of its own on it.
  trace: z.string().regex(TRACEPARENT, 'expected a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)').optional(),
});

const executeTask = z.strictObject({
  kind: z.literal('execute'),
  sessionId: id,
  requestId: id,
  run: positiveInt(100),
  abort: z.enum(['timeout', 'aborted', 'closed']).optional(),
  handler: z.string().min(1).max(4096),
  name: z.string().min(1).max(256),
  input: z.unknown(),
});

const jobData = (now: number, task: typeof chatTask | typeof executeTask) =>
  z.strictObject({
    task,
    deadline: z
      .number()
      .min(0)
      .refine((d) => d <= now + MAX_DEADLINE_AHEAD_MS, `expected a deadline at most a day ahead (epoch milliseconds up to ${now + MAX_DEADLINE_AHEAD_MS})`),
    // The producer that queued it (fence-keys.ts): a job whose producer is gone is refused without a call.
    producer: id,
    sig: z.string().max(256).optional(),
  });

export type ParsedJob = { ok: true; data: JobData & { sig?: string } } | { ok: false; issues: string[] };

/**
 * The job's data checked against the wire schema; the issues say what was expected and what came.
 * `handlers`: the modules this host allows for execute tasks (none: chat tasks only).
 */
export function parseJobData(data: unknown, now: number, handlers: ReadonlySet<string>): ParsedJob {
  const kind = (data as { task?: { kind?: unknown } } | null)?.task?.kind;
  // An execute task names a module to import: a host runs one only for a module it allowed itself.
  const execute = kind === 'execute' && handlers.size > 0;
  if (kind !== undefined && kind !== 'chat' && !execute)
    return { ok: false, issues: [`\`task.kind\`: this worker host runs chat tasks only ("chat"), got ${JSON.stringify(String(kind)).slice(0, 80)}`] };
  const parsed = jobData(now, execute ? executeTask : chatTask).safeParse(data, { reportInput: true });
  if (!parsed.success) return { ok: false, issues: parsed.error.issues.slice(0, 5).map((issue) => formatIssue(issue)) };
  const job = parsed.data as JobData & { sig?: string };
  if (job.task.kind === 'execute' && !handlers.has(job.task.handler))
    return {
      ok: false,
      issues: [`\`task.handler\`: this worker host does not allow the module ${describeValue(job.task.handler)} (only those in its \`handlers\` / --handler)`],
    };
  return { ok: true, data: job };
}
