// Public types of the embedded mock provider (see server.ts).

/** The API a request speaks, chosen by its path (see BASE_PATHS): the shapes of its answers, errors and fixtures. */
export type MockDialect = 'kimi' | 'glm' | 'openai';

/** A tool call the mock should answer with (`behaviour.toolCalls`). */
export interface MockToolCall {
  /** The function's name. */
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
  /** Delay before the response headers, in ms. @default `options.latencyMs`, else 0 */
  latencyMs?: number;
  /** The answer text. @default `Answer to "<first 40 chars of the last user message>"` + filler */
  content?: string;
  /** Words (= mock tokens) of a generated answer per round. @default 16 */
  completionTokens?: number;
  /** Sent as `reasoning_content` when given. */
  reasoning?: string;
  /** Final finish_reason; sent as-is ('sensitive', 'network_error', ...). @default 'stop' */
  finishReason?: string;
  /** Answer with finish_reason 'length' while fewer continuation rounds than this are done. */
  lengthRounds?: number;
  /** Streaming: number of content deltas. @default one per word */
  chunks?: number;
  /** Streaming: delay between SSE events, in ms. @default 0 (everything written at once) */
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
  /** Counter key for `failTimes` and `errorRate`. @default '' */
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
  /** Bytes per drip. @default 16 */
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
  /** Streaming: how many answer events precede `streamError`. @default half of them */
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

/** A message of a request body, as the mock reads it (never validated: the mock answers what it is sent). */
export interface MockMessage {
  /** `system`, `user`, `assistant`, `tool`, …; the last `user` message is what the answer quotes and where a directive is looked for. */
  role?: string;
  /** A string, or content parts whose `text` the mock reads. */
  content?: unknown;
  /** Kimi partial mode: the answer continues this assistant message. */
  partial?: boolean;
  /** Any other field, kept as sent. */
  [key: string]: unknown;
}

/** The parsed JSON request body (only the fields the mock reads are typed). */
export interface MockRequestBody {
  /** The model asked for; the answer says it served this one. */
  model?: string;
  /** The conversation. */
  messages?: MockMessage[];
  /** `true` for a server-sent-events stream. */
  stream?: boolean;
  /** Stream options. */
  stream_options?: {
    /** Add a trailing chunk with `usage` (the only usage of an OpenAI stream; Kimi and GLM send it in their last chunk anyway). */
    include_usage?: boolean;
  };
  /** Tool definitions, as sent. */
  tools?: unknown[];
  /** A behaviour for this request (merged after `defaults` and `behave()`, before a directive). */
  mock?: MockBehaviour;
  /** Any other body field, kept as sent (`max_tokens`, `temperature`, …). */
  [key: string]: unknown;
}

/** One request the mock received, as `mock.requests` and its events give it. Times are `performance.now()` ms. */
export interface MockRequestRecord {
  /** 1, 2, 3... over the server's life (not reset by reset()). */
  seq: number;
  /** Selected by path prefix; unknown paths get the 'openai' dialect (and a 404). */
  dialect: MockDialect;
  /** The HTTP method (`POST`; anything else gets a 404). */
  method: string;
  /** The URL path, without the query string. */
  path: string;
  /** The query string's parameters (`{}` when there is none); a repeated name keeps its last value. */
  query: Record<string, string>;
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

/** The options of startMockProvider(). */
export interface MockProviderOptions {
  /** The port to listen on. @default 0 (a free port) */
  port?: number;
  /** The interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** Default latency of every response, in ms. @default 0 */
  latencyMs?: number;
  /** When set, any other bearer token gets 401 (a bearer is always required). @default any bearer token */
  apiKey?: string;
  /** A behaviour for every request (the first source merged; later ones win). @default none */
  defaults?: MockBehaviour;
  /** Chooses a behaviour per request from its record (dialect, path, headers, body); `undefined` adds nothing. If it throws, the request gets a 500. @default none */
  behave?: (request: MockRequestRecord) => MockBehaviour | undefined;
  /** Records kept in `mock.requests` (the newest). @default 10_000 */
  maxRecords?: number;
}

/** The events of a MockProvider (an EventEmitter), each with the request's record. */
export type MockProviderEvents = {
  /** A request arrived (its whole body read), before it is answered. */
  request: [MockRequestRecord];
  /** The client closed the connection before the response was finished (`closedEarly`). */
  closed: [MockRequestRecord];
  /** The response was written in full (or the mock reset the connection on purpose). */
  finished: [MockRequestRecord];
};
