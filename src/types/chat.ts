// The public request and result types of chat sessions, written out so that editors show every
// field's documentation. The validation schema (supervisor/request.ts) is checked against them in
// test/engine/types.test-d.ts; messages and tool calls are in the wire (snake_case) form the providers
// and the openai SDK use, so `completion.choices[0].message` can be passed back as it is.
import type { SessionCost } from './cost.ts';
import type { WireError } from './errors.ts';

/** A part of a message's content (`text`, `image_url`, `input_audio`, `file`, `refusal`, …), passed on as it is. */
export type ContentPart = {
  /** The part's kind: `text`, `image_url`, `input_audio`, `file`, `refusal`, … */
  type: string;
  /** The text of a `text` part (other kinds carry their own field, passed on untouched). */
  text?: string;
};

/** A function tool call, as the model made it (ids and arguments are kept as the server sent them). */
export type ToolCall = {
  /** The call's id; the `tool` message that answers it repeats it as `tool_call_id`. */
  id: string;
  /** `"function"` (Kimi's built-in tools: `"builtin_function"`). */
  type: string;
  /** The function the model called. */
  function: {
    /** The function's name, as declared in the request's `tools`. */
    name: string;
    /** Its arguments as the model wrote them: a JSON string, never parsed nor checked here. */
    arguments: string;
  };
};

/** A custom (free-form input) tool call, as the openai SDK types it; accepted in messages and passed on. */
export type CustomToolCall = {
  /** The call's id; the `tool` message that answers it repeats it as `tool_call_id`. */
  id: string;
  /** Always `'custom'`: what tells it from a function call. */
  type: 'custom';
  /** The custom tool the model called. */
  custom: {
    /** The tool's name. */
    name: string;
    /** The free-form input the model wrote for it. */
    input: string;
  };
};

/**
 * A message in the OpenAI form. Every message the openai SDK's `ChatCompletionMessageParam`
 * allows is accepted (and the assistant `ChatCompletionMessage` it returns), plus Kimi's
 * `partial` and `cache` role and the `reasoning_content` Kimi and GLM send back.
 */
export interface ChatMessage {
  /** The OpenAI dialect sends `developer` as it is; Kimi and GLM get it as `system` (and no `refusal`, `annotations`, `audio`). */
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function' | 'cache';
  /** Text, content parts, or `null` (an assistant turn that only called tools). Only an assistant message may leave it out. */
  content?: string | ContentPart[] | null;
  /** An optional name of the participant (passed on; some providers ignore it). */
  name?: string;
  /** Tool calls of an assistant turn (function or custom). */
  tool_calls?: Array<ToolCall | CustomToolCall>;
  /** Which call a `tool` message answers. */
  tool_call_id?: string;
  /** An assistant's refusal, as the SDK returns it (`null` when it did not refuse). */
  refusal?: string | null;
  /** An assistant's annotations (URL citations), as the SDK returns them. */
  annotations?: Array<{
    /** The annotation's kind (`url_citation`); its other fields are passed on as they are. */
    type: string;
  }>;
  /** A previous audio answer, referred to by id. */
  audio?: {
    /** The id of the audio answer the server returned earlier. */
    id: string;
  } | null;
  /** The deprecated single function call of an assistant turn. */
  function_call?: {
    /** The function's name. */
    name: string;
    /** Its arguments, a JSON string as the model wrote it. */
    arguments: string;
  } | null;
  /** Kimi partial mode: the answer continues this assistant message. */
  partial?: boolean;
  /** Kimi and GLM thinking models: the reasoning of an earlier assistant turn. */
  reasoning_content?: string | null;
}

/** Token counts. Zeros when the server reported none (then `metadata.response.usageReported` is false). */
export interface Usage {
  /** Input tokens (`prompt_tokens`), summed over every round. */
  promptTokens: number;
  /** Output tokens (`completion_tokens`), summed over every round. */
  completionTokens: number;
  /** `total_tokens` as the server counted it, summed over every round. */
  totalTokens: number;
  /** Prompt tokens served from a cache (Kimi's `cached_tokens`, or `prompt_tokens_details.cached_tokens`); absent when not reported. */
  cachedTokens?: number;
  /** Completion tokens spent on reasoning (`completion_tokens_details.reasoning_tokens`); absent when not reported. */
  reasoningTokens?: number;
  /** `prompt_tokens_details` as the server sent it (`cached_tokens`, `audio_tokens`, …); absent when not sent. */
  promptTokensDetails?: Record<string, number | null>;
  /** `completion_tokens_details` as the server sent it (`reasoning_tokens`, `accepted_prediction_tokens`, …); absent when not sent. */
  completionTokensDetails?: Record<string, number | null>;
}

/** Log probabilities of a choice, as the server sent them (`content` and `refusal` token lists). */
export interface Logprobs {
  /** One entry per answer token (`{ token, logprob, bytes, top_logprobs }`), as sent; `null` when none. */
  content: unknown[] | null;
  /** The same for the tokens of a refusal; absent when not sent. */
  refusal?: unknown[] | null;
}

/**
 * The assistant message of a choice exactly as the server sent it, with continuation rounds joined
 * into `content`: `content: null` stays `null`, fields the server did not send are absent, fields
 * it added (`reasoning_content`, …) are kept.
 */
export interface AssistantMessage {
  /** Always `'assistant'`. */
  role: 'assistant';
  /** The answer text, every continuation round joined; `null` when the server sent `null` (tool calls only, a refusal). */
  content: string | null;
  /** The model's refusal; absent when the server sent no `refusal` field. */
  refusal?: string | null;
  /** Annotations of the answer (URL citations), as sent. */
  annotations?: unknown[];
  /** An audio answer (OpenAI audio models), as sent. */
  audio?: {
    /** The audio answer's id, to refer to it in a later turn. */
    id: string;
    /** The audio, base64-encoded. */
    data?: string;
    /** When the server forgets it, in Unix seconds. */
    expires_at?: number;
    /** The transcript of the audio. */
    transcript?: string;
  } | null;
  /** The deprecated single function call, as sent. */
  function_call?: {
    /** The function's name. */
    name: string;
    /** Its arguments, a JSON string as the model wrote it. */
    arguments: string;
  } | null;
  /** The tool calls the model made, as sent. */
  tool_calls?: ToolCall[];
  /** The reasoning of a thinking model (Kimi, GLM), as sent. */
  reasoning_content?: string;
  /** Any other field the server added, kept as it came. */
  [field: string]: unknown;
}

/** One choice of the answer; `n > 1` gives several. */
export interface ChatChoice {
  /** The choice's position, 0 for the first (the server's `index`). */
  index: number;
  /** The choice's assistant message, continuation rounds joined. */
  message: AssistantMessage;
  /** The server's finish reason; `null` when it sent none. */
  finishReason: string | null;
  /** Present when the server sent the field (`null` included). */
  logprobs?: Logprobs | null;
}

/** The session part of every result (`result.metadata.session`), the same for `chat()`, `stream()` and `execute()`. */
export interface SessionMetadata {
  /** The engine's id of the session (a UUID), as in every event and log line about it. */
  sessionId: string;
  /** The request's `requestId`, yours or the UUID given to it. */
  requestId: string;
  /** From admission to outcome, in seconds (queue wait included). */
  durationSeconds: number;
  /** Provider calls made: 1 plus every retry (continuation rounds are counted in `continuation`). */
  attempts: number;
  /** Times the request was sent again because the thread running it died. */
  crashRetries: number;
  /** The worker host that ran it (`hostname:pid`), behind a transport across hosts such as bullmq(). */
  host?: string;
}

/** How a cut answer (`finish_reason: "length"`) was continued (`result.metadata.continuation`); absent when the first round was not cut or continuation is off. */
export interface ContinuationMetadata {
  /** Calls made in all, the first one included. */
  attempts: number;
  /** Completion tokens over all rounds. */
  totalTokens: number;
  /** False when the answer was still cut when continuation stopped. */
  complete: boolean;
  /** Why a continuation round failed; what was produced before is kept. */
  error?: WireError;
}

/** Kimi's context cache as the response reported it (`result.metadata.cache`); present when the request named a `cache` or the server sent cache headers. */
export interface CacheMetadata {
  /** The cache id (the `msh-context-cache-id` header, else the one the request named). */
  id?: string;
  /** Prompt tokens the cache saved (the `msh-context-cache-token-saved` header); absent when not sent. */
  tokensSaved?: number;
  /** Every `msh-context-cache*` response header, by lower-cased name. */
  headers: Record<string, string>;
}

/** What the provider's HTTP response said about itself. */
export interface ResponseMetadata {
  /** The provider's request id (`x-request-id` header of the last call), for its support desk; absent when not sent. */
  requestId?: string;
  /** Whether the server reported `usage`; when false, `result.usage` holds zeros. */
  usageReported: boolean;
}

/** The result of `supervisor.chat()` (and the last event of `stream()`). */
export interface ChatResult {
  /** The provider name the request named. */
  provider: string;
  /** The model the server says it served (`gpt-4o-mini-2024-07-18`), or the one asked for when it named none. */
  model: string;
  /** The served completion's id; absent when the server sent none. */
  id?: string;
  /** The completion's Unix time in seconds, as the server sent it; absent when it sent none. */
  created?: number;
  /** `system_fingerprint` as sent (`null` included); absent when not sent. */
  systemFingerprint?: string | null;
  /** `service_tier` as sent (`null` included); absent when not sent. */
  serviceTier?: string | null;
  /**
   * The answer text of the first choice, every continuation round joined. Always a string: `""`
   * when the server sent `content: null` (tool calls, refusals); `choices[0].message.content`
   * keeps the `null`.
   */
  content: string;
  /** The finish reason of the last round of the first choice (`"unknown"` when the server sent none). */
  finishReason: string;
  /** Summed over every round (retries that failed are not counted). */
  usage: Usage;
  /** The first choice's tool calls, as sent. */
  toolCalls?: ToolCall[];
  /** The first choice's reasoning (`reasoning_content`), as sent. */
  reasoningContent?: string;
  /** The first choice's refusal; absent when the server sent no `refusal` field. */
  refusal?: string | null;
  /** The first choice's annotations (URL citations); absent when not sent. */
  annotations?: unknown[];
  /** The first choice's log probabilities; absent when not sent. */
  logprobs?: Logprobs | null;
  /** GLM web search results (`web_search`) or Kimi's, as sent. */
  webSearch?: unknown[];
  /**
   * With a `responseFormat` of type `json_schema`: the answer (`content`) parsed as JSON; checked
   * against the schema where the provider takes only `json_object` (Kimi, GLM). Absent when the
   * answer was cut (`length`), refused, filtered, or only called tools.
   */
  parsed?: unknown;
  /** Every choice the server sent, in order (several with `n > 1`). */
  choices: ChatChoice[];
  /** What the engine knows about the answer besides its content. */
  metadata: {
    /** The session that produced it: ids, duration, attempts. */
    session: SessionMetadata;
    /** Present when the first round was cut and continuation ran. */
    continuation?: ContinuationMetadata;
    /** Kimi's context cache, when the request named one or the server reported one. */
    cache?: CacheMetadata;
    /** What the provider's response said about itself (its request id, whether usage came). */
    response?: ResponseMetadata;
    /** What the session cost (its usage, continuation rounds summed, at its model's price); absent when the model has no price. */
    cost?: SessionCost;
    /**
     * Also `route` (a RouteEntry list: every target tried, for a session with fallbacks, `limits` or a
     * circuit breaker) and `request` (the request's own `metadata`, when it had some).
     */
    [key: string]: unknown;
  };
}

/** The fields every chunk of a stream repeats, as the first chunk of a round sent them. */
export interface ResponseHead {
  /** The completion's id; absent when the server sent none. */
  id?: string;
  /** The completion's Unix time in seconds; absent when not sent. */
  created?: number;
  /** The model the server says it serves; absent when not sent. */
  model?: string;
  /** `system_fingerprint` as sent (`null` included); absent when not sent. */
  systemFingerprint?: string | null;
  /** `service_tier` as sent (`null` included); absent when not sent. */
  serviceTier?: string | null;
}
