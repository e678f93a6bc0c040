// The openai SDK's per-request options (its RequestOptions) as a session's options: each one is
// honoured, or refused with ERR_INVALID_REQUEST naming it; none is dropped without a word.
import { InvalidRequestError } from '../errors/errors.ts';
import type { ChatRequest } from '../types/request.ts';
import { describeValue } from '../util/validation.ts';
import type { CreateOptions } from '../types/openai.ts';

function invalid(issue: string): never {
  throw new InvalidRequestError(`Invalid request: ${issue}`, [issue]);
}

/** Options the SDK takes that have no meaning on the pool, with why (the message names them). */
const REFUSED: Readonly<Record<string, string>> = {
  fetchOptions: "the provider call runs on a worker thread with the supervisor's fetch; fetch options (a dispatcher, a proxy agent) cannot cross to it",
  defaultBaseURL: "the provider's baseURL is configured in createSupervisor({ providers })",
  method: 'chat.completions.create() always POSTs',
  path: 'chat.completions.create() always calls /chat/completions',
  body: 'the body is the first argument of create()',
  stream: 'set `stream` in the body',
  __binaryResponse: 'completions are JSON',
  __streamClass: 'streams are ChatCompletionChunkStream',
  __synthesizeEventData: 'chat completion streams carry no named events',
  __streamMode: 'chat completion streams carry no named events',
  __security: "the provider's apiKey authenticates every call",
};

/** Options honoured, and the SDK-internal `__metadata` (the helpers pass it; it names the helper, nothing to send). */
const HONOURED = new Set([
  'signal',
  'timeout',
  'maxRetries',
  'headers',
  'query',
  'idempotencyKey',
  'continuation',
  'requestId',
  'metadata',
  'structuredRetries',
  '__metadata',
]);

/** The session options of a create() call's options; throws ERR_INVALID_REQUEST for one the pool cannot honour. */
export function sessionOptions(options: CreateOptions): Partial<ChatRequest> {
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined || HONOURED.has(name)) continue;
    // Own names only: `toString`, `constructor` or a parsed `__proto__` are options nobody takes, not reasons.
    const why = Object.hasOwn(REFUSED, name) ? REFUSED[name] : undefined;
    invalid(why !== undefined ? `\`${name}\`: not supported by supervisor.openai(): ${why}` : `\`${name}\`: not a request option of supervisor.openai()`);
  }
  const out: Partial<ChatRequest> = {};
  out.continuation = options.continuation === true ? {} : options.continuation === undefined ? false : options.continuation;
  // Checked here: a streamed create() listens to the signal before the request's own checks see it.
  if (options.signal !== undefined && options.signal !== null && !(options.signal instanceof AbortSignal)) {
    invalid(`\`signal\`: expected an AbortSignal, got ${describeValue(options.signal)}`);
  }
  if (options.signal) out.signal = options.signal;
  // Checked under the SDK's names (the session's own checks would name `timeoutMs`).
  if (options.timeout !== undefined) {
    if (!Number.isInteger(options.timeout) || options.timeout < 1 || options.timeout > 86_400_000)
      invalid(`\`timeout\`: expected whole milliseconds from 1 to 86400000 (the session's deadline), got ${describeValue(options.timeout)}`);
    out.timeoutMs = options.timeout;
  }
  if (options.maxRetries !== undefined) out.maxRetries = options.maxRetries;
  const requestId = options.requestId ?? options.idempotencyKey;
  if (
    options.idempotencyKey !== undefined &&
    (typeof options.idempotencyKey !== 'string' || options.idempotencyKey === '' || options.idempotencyKey.length > 256)
  ) {
    invalid("`idempotencyKey`: expected 1 to 256 characters (it becomes the session's requestId)");
  }
  if (requestId !== undefined) out.requestId = requestId;
  if (options.metadata !== undefined) out.metadata = options.metadata;
  if (options.structuredRetries !== undefined) out.structuredRetries = options.structuredRetries;
  const headers = headerRecord(options.headers);
  if (headers !== undefined) out.headers = headers;
  if (options.query !== undefined && options.query !== null) {
    if (typeof options.query !== 'object' || Array.isArray(options.query)) invalid('`query`: expected an object of query parameters');
    out.query = options.query as Record<string, unknown>;
  }
  return out;
}

type HeaderValue = string | null | undefined | readonly (string | null | undefined)[];

/**
 * Headers in any form the SDK takes (a `Headers`, `[name, value]` pairs, a record whose values may
 * be lists), merged as the SDK merges them: later names win, case-insensitively; a `null` value
 * removes the header; a list sends each value.
 */
function headerRecord(headers: CreateOptions['headers']): Record<string, string> | undefined {
  if (headers === undefined || headers === null) return undefined;
  // A string's characters would become headers named 0, 1, 2, …
  if (typeof headers !== 'object') invalid(`\`headers\`: expected an object, a Headers or [name, value] pairs, got a ${typeof headers}`); // never quoted: it may hold a credential
  const entries: Array<[string, HeaderValue]> =
    headers instanceof Headers
      ? [...headers.entries()]
      : Array.isArray(headers)
        ? (headers as Array<[string, HeaderValue]>)
        : Object.entries(headers as Record<string, HeaderValue>);
  const merged = new Map<string, { name: string; values: string[] }>();
  for (const [name, value] of entries) {
    const key = name.toLowerCase();
    if (value === null) {
      merged.delete(key);
      continue;
    }
    if (value === undefined) continue;
    const values = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
    merged.set(key, { name, values });
  }
  const out: Record<string, string> = {};
  for (const { name, values } of merged.values()) if (values.length > 0) out[name] = values.join(', ');
  return Object.keys(out).length > 0 ? out : undefined;
}
