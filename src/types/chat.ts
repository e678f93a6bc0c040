// The public request and result types of chat sessions, written out so that editors show every
// field's documentation. The validation schema (supervisor/request.ts) is checked against them in
// test/engine/types.test-d.ts; messages and tool calls are in the wire (snake_case) form the providers
// and the openai SDK use, so `completion.choices[0].message` can be passed back as it is.
import type { WireError } from './errors.ts';

/** A part of a message's content (`text`, `image_url`, `input_audio`, `file`, `refusal`, …), passed on as it is. */
export type ContentPart = {
  type: string;
  text?: string;
};

/** A function tool call, as the model made it (ids and arguments are kept as the server sent them). */
export type ToolCall = {
  id: string;
  /** `"function"` (Kimi's built-in tools: `"builtin_function"`). */
  type: string;
  function: { name: string; arguments: string };
};

/** A custom (free-form input) tool call, as the openai SDK types it; accepted in messages and passed on. */
export type CustomToolCall = {
  id: string;
  type: 'custom';
  custom: { name: string; input: string };
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
  name?: string;
  /** Tool calls of an assistant turn (function or custom). */
  tool_calls?: Array<ToolCall | CustomToolCall>;
  /** Which call a `tool` message answers. */
  tool_call_id?: string;
  /** An assistant's refusal, as the SDK returns it (`null` when it did not refuse). */
  refusal?: string | null;
  /** An assistant's annotations (URL citations), as the SDK returns them. */
  annotations?: Array<{ type: string }>;
  /** A previous audio answer, referred to by id. */
  audio?: { id: string } | null;
  /** The deprecated single function call of an assistant turn. */
  function_call?: { name: string; arguments: string } | null;
  /** Kimi partial mode: the answer continues this assistant message. */
  partial?: boolean;
  /** Kimi and GLM thinking models: the reasoning of an earlier assistant turn. */
  reasoning_content?: string | null;
}

/** Token counts. Zeros when the server reported none (then `metadata.response.usageReported` is false). */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
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
  content: unknown[] | null;
  refusal?: unknown[] | null;
}

/**
 * The assistant message of a choice exactly as the server sent it, with continuation rounds joined
 * into `content`: `content: null` stays `null`, fields the server did not send are absent, fields
 * it added (`reasoning_content`, …) are kept.
 */
export interface AssistantMessage {
  role: 'assistant';
  content: string | null;
  refusal?: string | null;
  annotations?: unknown[];
  audio?: { id: string; data?: string; expires_at?: number; transcript?: string } | null;
  function_call?: { name: string; arguments: string } | null;
  tool_calls?: ToolCall[];
  reasoning_content?: string;
  [field: string]: unknown;
}

/** One choice of the answer; `n > 1` gives several. */
export interface ChatChoice {
  index: number;
  message: AssistantMessage;
  /** The server's finish reason; `null` when it sent none. */
  finishReason: string | null;
  /** Present when the server sent the field (`null` included). */
  logprobs?: Logprobs | null;
}

export interface SessionMetadata {
  sessionId: string;
  requestId: string;
  durationSeconds: number;
  /** Provider calls made: 1 plus every retry (continuation rounds are counted in `continuation`). */
  attempts: number;
  /** Times the request was sent again because the thread running it died. */
  crashRetries: number;
  /** The worker host that ran it (`hostname:pid`), behind a transport across hosts such as bullmq(). */
  host?: string;
}

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

export interface CacheMetadata {
  id?: string;
  tokensSaved?: number;
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
  /** Every choice the server sent, in order (several with `n > 1`). */
  choices: ChatChoice[];
  metadata: {
    session: SessionMetadata;
    continuation?: ContinuationMetadata;
    cache?: CacheMetadata;
    response?: ResponseMetadata;
    [key: string]: unknown;
  };
}

/** The fields every chunk of a stream repeats, as the first chunk of a round sent them. */
export interface ResponseHead {
  id?: string;
  created?: number;
  model?: string;
  systemFingerprint?: string | null;
  serviceTier?: string | null;
}
