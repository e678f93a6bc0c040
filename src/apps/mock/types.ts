/** Public types of the embedded mock provider (see server.ts). */

export type MockDialect = 'kimi' | 'glm' | 'openai';

/** A tool call the mock should answer with (`behaviour.toolCalls`). */
export interface MockToolCall {
  name: string;
  /** A JSON string, or an object that is serialized. */
  arguments: string | Record<string, unknown>;
}

/**
 * What one response does. Every field is optional; sources are merged in this order (later wins):
 * `options.defaults`, `options.behave(record)`, the request body's `mock` object, and a
 * `[[mock key=value flag]]` directive in the last user message that has one (see parseMockDirective).
 */
export interface MockBehaviour {
  /** Delay before the response headers (default `options.latencyMs ?? 0`). */
  latencyMs?: number;
  /** The answer text (default: `Answer to "<first 40 chars of the last user message>"` + filler). */
  content?: string;
  /** Words (= mock tokens) of a generated answer per round (default 16). */
  completionTokens?: number;
  /** Sent as `reasoning_content` when given. */
  reasoning?: string;
  /** Final finish_reason (default 'stop'); sent as-is ('sensitive', 'network_error', ...). */
  finishReason?: string;
  /** Answer with finish_reason 'length' while fewer continuation rounds than this are done. */
  lengthRounds?: number;
  /** Streaming: number of content deltas (default one per word). */
  chunks?: number;
  /** Streaming: delay between SSE events (default 0: everything written at once). */
  chunkDelayMs?: number;
  /**
   * Streaming: pace the answer at this many tokens (words) per second, i.e. a delay between SSE
   * events of the words per content chunk ÷ tokensPerSec (chunkDelayMs, when given, wins).
   */
  tokensPerSec?: number;
  /** Respond with this HTTP status (>= 400) and an error body. */
  status?: number;
  /** An error fixture key of the dialect ('429_rate_limit', '429_concurrency', ...), a GLM code or a Kimi type. */
  error?: string;
  /** A raw error body (overrides `error`). */
  errorBody?: unknown;
  /** Only the first `failTimes` requests carrying the same `key` get the error; later ones succeed. */
  failTimes?: number;
  /**
   * Fail this fraction of the requests carrying the same `key`, in a fixed pattern rather than at
   * random: request n (counted per key) fails when floor(n × errorRate) > floor((n − 1) × errorRate),
   * so 0.1 fails the 10th, 20th, 30th... (status default 500, or `status` / `error`).
   */
  errorRate?: number;
  /** Counter key for `failTimes` and `errorRate` (default ''). */
  key?: string;
  /** Sent as the `Retry-After` header. */
  retryAfter?: string;
  /** Sent as the `retry-after-ms` header. */
  retryAfterMs?: number;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Accept the request and never answer. */
  hang?: boolean;
  /** Streaming: send this many SSE events (the first one included), then stall forever (no stall if n covers the stream). */
  hangAfterChunks?: number;
  /** Write the body `dripBytes` bytes every `dripMs` ms. */
  dripMs?: number;
  /** Bytes per drip (default 16). */
  dripBytes?: number;
  /** Destroy the socket before the headers, or after half the events / half the body. */
  reset?: 'before' | 'mid';
  /** A malformed JSON body (status 200), or one malformed SSE event in the middle of a stream. */
  garbage?: 'body' | 'chunk';
  /** Never send a finish_reason (streams end with `[DONE]` all the same; non-stream: null). */
  noFinish?: boolean;
  /** openai: refuse with this text (`content: null`, `refusal` set; streamed as refusal deltas). */
  refusal?: string;
  /** Answer finish_reason 'tool_calls' with these calls (ids `call_<n>`). */
  toolCalls?: MockToolCall[];
  /** Streaming: send this error inside the stream (status 200): a fixture key of the dialect, or the `error` object itself. */
  streamError?: string | Record<string, unknown>;
  /** Streaming: how many answer events precede `streamError` (default half of them). */
  streamErrorAfter?: number;
  /** Streaming: frame `streamError` as `event: error` instead of a plain `data:` event. */
  streamErrorEvent?: boolean;
  /** Streaming: leave out `data: [DONE]` and keep the connection open after the last event. */
  noDone?: boolean;
  /** The HTTP reason phrase of the response. */
  statusText?: string;
  /** Respond 200 with this body as is (set `content-encoding` and the like through `headers`). */
  rawBody?: string | Uint8Array;
}

export interface MockMessage {
  role?: string;
  content?: unknown;
  partial?: boolean;
  [key: string]: unknown;
}

/** The parsed JSON request body (only the fields the mock reads are typed). */
export interface MockRequestBody {
  model?: string;
  messages?: MockMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: unknown[];
  mock?: MockBehaviour;
  [key: string]: unknown;
}

export interface MockRequestRecord {
  /** 1, 2, 3... over the server's life (not reset by reset()). */
  seq: number;
  /** Selected by path prefix; unknown paths get the 'openai' dialect (and a 404). */
  dialect: MockDialect;
  method: string;
  path: string;
  /** Lower-cased names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** The parsed JSON body, or null when it is not a JSON object. */
  body: MockRequestBody | null;
  /** performance.now() when the whole request body had arrived. */
  receivedAt: number;
  /** performance.now() when the response headers were written. */
  respondedAt?: number;
  /** The client closed the connection before the response was finished. */
  closedEarly: boolean;
  /** performance.now() when the exchange ended (response finished or connection closed). */
  finishedAt?: number;
}

export interface MockProviderOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default latency of every response. */
  latencyMs?: number;
  /** When set, any other bearer token gets 401 (a bearer is always required). */
  apiKey?: string;
  defaults?: MockBehaviour;
  behave?: (request: MockRequestRecord) => MockBehaviour | undefined;
  /** Records kept (newest); default 10_000. */
  maxRecords?: number;
}

export type MockProviderEvents = {
  request: [MockRequestRecord];
  closed: [MockRequestRecord];
  finished: [MockRequestRecord];
};
