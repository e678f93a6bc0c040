// The parity suite's bench: one mock provider, the plain openai SDK pointed at it, and
// `supervisor.openai()` on a pool whose providers point at the same mock. Each example of the SDK's
// documentation is a function of an `OpenAI` client that returns what a reader of its output would
// see (values, events, errors and where they were thrown); the suite runs it both ways and compares.
import OpenAI from 'openai';
import { harness, KEYS, type Harness } from '../support/helpers.ts';
import type { MockBehaviour, MockRequestRecord } from '../../src/apps/mock/server.ts';

// biome-ignore lint/suspicious/noExplicitAny: observations are JSON compared field by field
export type Json = any;

/** What differs between two runs of the same example by design: ids, timestamps, tool call ids. */
const VOLATILE = new Set(['id', 'created', 'tool_call_id', '_request_id']);

/** A value as JSON, volatile fields left out (at the time of the call: snapshots mutate later). */
export function plain(value: unknown): Json {
  if (value === undefined) return undefined;
  return JSON.parse(JSON.stringify(value, (key, v) => (VOLATILE.has(key) ? undefined : v)));
}

/** An error as a reader sees it: its class (and the SDK classes it is an instance of) and its fields. */
export function describeError(error: unknown): Json {
  if (!(error instanceof Error)) return { thrown: String(error) };
  const e = error as Error & Record<string, unknown>;
  const out: Json = {
    class: error.constructor.name,
    name: error.name,
    message: e.message,
    openAIError: error instanceof OpenAI.OpenAIError,
    apiError: error instanceof OpenAI.APIError,
    userAbort: error instanceof OpenAI.APIUserAbortError,
  };
  if (error instanceof OpenAI.APIError) {
    Object.assign(out, {
      status: error.status,
      code: error.code,
      type: error.type,
      param: error.param,
      error: plain(error.error),
      hasRequestID: typeof error.requestID === 'string' && error.requestID.startsWith('req_mock_'),
      contentType: error.headers?.get('content-type'),
    });
  }
  return out;
}

/** Runs `step` and records its value or error under `label`. */
export async function attempt<T>(label: string, step: () => Promise<T> | T): Promise<Json> {
  try {
    return { [label]: plain(await step()) };
  } catch (error) {
    return { [label]: { threw: describeError(error) } };
  }
}

/** Events whose runs (consecutive, of any of these names) depend on how the stream was cut into chunks. */
const DELTA_EVENTS = new Set([
  'chunk',
  'content',
  'content.delta',
  'refusal.delta',
  'tool_calls.function.arguments.delta',
  'logprobs.content.delta',
  'logprobs.refusal.delta',
]);

export type RecordedEvent = [name: string, args: Json[]];

/** Records every event of an SDK helper (ChatCompletionStream, a runner), its arguments as JSON at that time. */
export function record(emitter: { on(event: string, listener: (...args: unknown[]) => void): unknown }, names: readonly string[]): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  for (const name of names) emitter.on(name, (...args: unknown[]) => events.push([name, args.map((a) => (a instanceof Error ? describeError(a) : plain(a)))]));
  return events;
}

export const STREAM_EVENTS = [
  'connect',
  'chunk',
  'content',
  'content.delta',
  'content.done',
  'refusal.delta',
  'refusal.done',
  'tool_calls.function.arguments.delta',
  'tool_calls.function.arguments.done',
  'logprobs.content.delta',
  'logprobs.content.done',
  'logprobs.refusal.delta',
  'logprobs.refusal.done',
  'message',
  'chatCompletion',
  'functionToolCall',
  'functionToolCallResult',
  'finalContent',
  'finalMessage',
  'finalChatCompletion',
  'finalFunctionToolCall',
  'finalFunctionToolCallResult',
  'totalUsage',
  'error',
  'abort',
  'end',
] as const;

/**
 * The events with each run of chunk-level events merged: the provider's pieces reach the pool's
 * client joined when they arrive together, so how many `content.delta` events a run has is not
 * compared; what they add up to (the joined deltas, the last snapshot and parsed value) is, and
 * so is every other event, in order. `chunk` events are left out (the final snapshot is compared).
 */
export function normalizeEvents(events: RecordedEvent[]): Json[] {
  const out: Json[] = [];
  let run: Map<string, Json> | undefined;
  const flush = () => {
    if (run !== undefined) for (const [name, merged] of run) out.push([name, merged]);
    run = undefined;
  };
  for (const [name, args] of events) {
    if (!DELTA_EVENTS.has(name)) {
      flush();
      out.push([name, args]);
      continue;
    }
    if (name === 'chunk') continue;
    run ??= new Map();
    const key = name === 'tool_calls.function.arguments.delta' ? `${name}#${args[0]?.index}` : name;
    run.set(key, merge(name, run.get(key), args));
  }
  flush();
  return out;
}

function merge(name: string, previous: Json, args: Json[]): Json {
  switch (name) {
    case 'content': // (delta, snapshot)
      return [(previous?.[0] ?? '') + args[0], args[1]];
    case 'content.delta':
    case 'refusal.delta':
      return { ...args[0], delta: (previous?.delta ?? '') + args[0].delta };
    case 'tool_calls.function.arguments.delta':
      return { ...args[0], arguments_delta: (previous?.arguments_delta ?? '') + args[0].arguments_delta };
    case 'logprobs.content.delta':
      return { ...args[0], content: [...(previous?.content ?? []), ...args[0].content] };
    case 'logprobs.refusal.delta':
      return { ...args[0], refusal: [...(previous?.refusal ?? []), ...args[0].refusal] };
    default:
      return args;
  }
}

/** The scripted model behind every example (the same mock answers both clients). */
function script(record: MockRequestRecord): MockBehaviour | undefined {
  const messages = (record.body?.messages ?? []) as Array<{ role?: string; content?: unknown }>;
  const first = JSON.stringify(messages.find((m) => m.role === 'user')?.content ?? '');
  const results = messages.filter((m) => m.role === 'tool');
  if (first.includes('weather this week')) {
    if (results.length === 0) return { toolCalls: [{ name: 'getCurrentLocation', arguments: {} }] };
    if (results.length === 1) return { toolCalls: [{ name: 'getWeather', arguments: { location: String(results[0]?.content) } }] };
    return { content: `The weather in Boston: ${String(results[1]?.content)}` };
  }
  if (first.includes('orders in november')) {
    if (results.length > 0) return { content: 'Here are your orders.' };
    const args = {
      table_name: 'orders',
      columns: ['id', 'status', 'expected_delivery_date', 'delivered_at'],
      conditions: [
        { column: 'ordered_at', operator: '>=', value: '2023-11-01' },
        { column: 'ordered_at', operator: '<', value: '2023-12-01' },
        { column: 'status', operator: '=', value: 'fulfilled' },
        { column: 'delivered_at', operator: '>', value: { column_name: 'expected_delivery_date' } },
      ],
      order_by: 'asc',
    };
    return { toolCalls: [{ name: 'query', arguments: args }] };
  }
  if (first.includes('never stop calling')) return { toolCalls: [{ name: 'ping', arguments: { n: results.length } }] };
  if (first.includes('two at once') && results.length === 0) {
    return {
      toolCalls: [
        { name: 'getWeather', arguments: { location: 'Paris' } },
        { name: 'getWeather', arguments: { location: 'Oslo' } },
      ],
    };
  }
  return undefined;
}

export interface Bench {
  h: Harness;
  /** The plain SDK on the mock's OpenAI dialect (no retries unless an example asks). */
  sdk: OpenAI;
  /** supervisor.openai() on the same mock, typed as the SDK's client the examples are written for. */
  pool: OpenAI;
  /** Runs an example with each client; resolves with [the plain SDK's observation, the pool's]. */
  both(example: (client: OpenAI) => Promise<Json>): Promise<[Json, Json]>;
}

export async function bench(): Promise<Bench> {
  // The plain SDK has no routing: the pool's (on by default: one back-off per key, 429s waited out in
  // the key's queue, a breaker) would answer these scripted 429s and failures its own way.
  const h = await harness({ mock: { behave: script }, supervisor: { routing: false } });
  const sdk = new OpenAI({ apiKey: KEYS.openai, baseURL: h.mock.baseURL('openai'), maxRetries: 0 });
  const pool = h.supervisor.openai() as unknown as OpenAI;
  return {
    h,
    sdk,
    pool,
    async both(example) {
      const viaSdk = await example(sdk);
      const viaPool = await example(pool);
      return [viaSdk, viaPool];
    },
  };
}
