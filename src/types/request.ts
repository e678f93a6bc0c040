// The public chat request, written out field by field (the schema in supervisor/request.ts is
// checked against it in test/engine/types.test-d.ts). Sampling parameters use the house camelCase and
// are sent under the provider's snake_case names; `extra` reaches any other body field.
import type { ChatMessage } from './chat.ts';
import type { JsonSchemaResponseFormat, ResponseFormat } from './structured.ts';

/** A tool definition (`{ type: 'function', function: { name, description?, parameters? } }`, Kimi/GLM built-ins, …), passed on. */
export type ToolDefinition = {
  /** `'function'`, or a provider's built-in tool type (GLM `web_search`, Kimi `builtin_function`); its other fields are passed on. */
  type: string;
};

/** `"auto"`, `"none"`, `"required"` or a named choice such as `{ type: 'function', function: { name } }`. */
export type ToolChoice =
  | 'auto'
  | 'none'
  | 'required'
  | {
      /** The kind of the named choice (`'function'`); its other fields (`function: { name }`) are passed on. */
      type: string;
    };

/** How far a cut answer (`finish_reason: "length"`) is continued (ChatRequest's `continuation`). */
export interface ContinuationOptions {
  /** Calls in all, the first one included. @default 3 */
  maxAttempts?: number;
  /** Completion tokens over all rounds after which no new round starts. @default 32000 */
  maxTotalTokens?: number;
}

/** Sampling and output parameters every OpenAI-compatible API knows; each is sent only when set. */
export interface ChatParameters {
  /** Sampling temperature. Kimi: not sent for models that fix it (`kimi-k2.5` and later); GLM: clamped to (0, 1]. @default the provider's `defaultTemperature` */
  temperature?: number;
  /** Sent as `max_tokens`. @default the provider's own limit */
  maxOutputTokens?: number;
  /** Sent as `max_completion_tokens` (OpenAI's reasoning models take only this one). @default not sent */
  maxCompletionTokens?: number;
  /** Nucleus sampling, sent as `top_p` (0 to 1). Kimi: not sent for models that fix it. @default not sent */
  topP?: number;
  /** Up to 16 sequences where the answer stops, sent as `stop`. @default not sent */
  stop?: string | string[];
  /** Best-effort deterministic sampling, sent as `seed`. @default not sent */
  seed?: number;
  /**
   * `{ type: 'text' | 'json_object' }` or `{ type: 'json_schema', json_schema: { name, schema } }`
   * (a {@link JsonSchemaResponseFormat}, what the openai SDK's `zodResponseFormat()` returns), sent as
   * `response_format`. With a schema, the result's `parsed` is the answer parsed; Kimi and GLM take
   * only `json_object`: the schema goes into the system prompt and the answer is checked against
   * it (see `structuredRetries`). A JSON format turns `continuation` off. @default not sent
   */
  responseFormat?:
    | ResponseFormat
    | {
        /** Another format a provider knows; its other fields are passed on. */
        type: string;
      };
  /** Whether the model may call several tools in one turn, sent as `parallel_tool_calls`. @default not sent (the provider's default) */
  parallelToolCalls?: boolean;
  /** Reasoning effort of reasoning models (`none`, `minimal`, `low`, `medium`, `high`, `xhigh`), sent as `reasoning_effort`. @default not sent */
  reasoningEffort?: string;
  /** An end-user id for the provider's abuse monitoring, sent as `user`. @default not sent */
  user?: string;
  /** -2 to 2, sent as `presence_penalty`. @default not sent */
  presencePenalty?: number;
  /** -2 to 2, sent as `frequency_penalty`. @default not sent */
  frequencyPenalty?: number;
  /** Token ids to bias, sent as `logit_bias`. @default not sent */
  logitBias?: Record<string, number>;
  /** Return log probabilities (in `result.logprobs` and each choice), sent as `logprobs`. @default not sent */
  logprobs?: boolean;
  /** 0 to 20 most likely tokens per position (needs `logprobs`), sent as `top_logprobs`. @default not sent */
  topLogprobs?: number;
  /**
   * Choices to generate (1 to 128), sent as `n`; every one comes back in `result.choices`. Not with
   * streaming, web search or an explicit `continuation` (those follow the first choice only): refused.
   * Without an explicit `continuation`, `n > 1` turns continuation off. @default 1 (not sent)
   */
  n?: number;
  /** The processing tier asked for (`auto`, `default`, `flex`, `priority`, …), sent as `service_tier`. @default not sent */
  serviceTier?: string;
}

export interface ChatRequest extends ChatParameters, SessionOptions {
  /** A provider name: `kimi`, `glm`, `openai` or one configured in `createSupervisor({ providers })`. */
  provider: string;
  /** @default the provider's `defaultModel` */
  model?: string;
  /** The conversation; either `messages` or `prompt` is required. */
  messages?: ChatMessage[];
  /** GLM-style form: appended to `messages` as a user turn. */
  prompt?: string;
  /** GLM-style form: prepended as a system message (unless the first message is one). */
  systemPrompt?: string;
  /** At most 128 tools, passed on. Kimi refuses `toolChoice: "required"`; GLM accepts only `"auto"` (filled in when tools are given). */
  tools?: ToolDefinition[];
  /** Whether and which tool the model must call, sent as `tool_choice`. @default not sent (GLM: `"auto"` when tools are given) */
  toolChoice?: ToolChoice;
  /**
   * On `finish_reason: "length"`, call again (Kimi partial mode; others: the cut answer plus a
   * short "continue" user turn); `false` turns it off. @default { maxAttempts: 3, maxTotalTokens: 32000 }
   */
  continuation?: false | ContinuationOptions;
  /** Kimi context cache: `X-Msh-Context-Cache` (and `-Reset-TTL`); reported in `metadata.cache`. @default none */
  cache?: {
    /** The id of a context cache created on Moonshot's platform, sent as `X-Msh-Context-Cache`. */
    id: string;
    /** Resets the cache's time to live to this many seconds from this call (0 to 86400), sent as `X-Msh-Context-Cache-Reset-TTL`. @default not sent */
    resetTtlSeconds?: number;
  };
  /** GLM: `true` or web_search options → the `web_search` tool; Kimi: the `$web_search` built-in and its tool-call loop. @default off */
  webSearch?: boolean | Record<string, unknown>;
  /** A stream that sends nothing for this long fails the attempt. @default 60000 */
  idleTimeoutMs?: number;
  /** Targets tried in order when this one fails in a way another may not (retries exhausted on a retryable failure, or an open circuit); streams only before their first delta. @default the provider's `fallbacks` */
  fallbacks?: Array<{
    /** A configured provider's name. */
    provider: string;
    /** @default that provider's `defaultModel` */
    model?: string;
  }>;
  /** Decoded bytes of one response body or stream beyond which the call fails with `ERR_RESPONSE_TOO_LARGE`. @default the supervisor's `maxResponseBytes` (32 MiB) */
  maxResponseBytes?: number;
  /** Called with answer text as it streams; setting it turns streaming on. */
  onDelta?: (text: string) => void;
  /** Provider calls of this session after the first one that failed (retries). @default the supervisor's `retry.maxRetries` (2) */
  maxRetries?: number;
  /** Headers sent with every provider call of this session (not `Authorization`, which the provider's key sets). @default none */
  headers?: Record<string, string>;
  /** Query parameters added to the URL of every provider call of this session (`{ 'api-version': '2024-10-21' }`), written as the openai SDK writes them. @default none */
  query?: Record<string, unknown>;
  /**
   * With a `responseFormat` of type `json_schema`, on a provider that takes only `json_object`
   * (Kimi, GLM): times an answer that misses the schema is asked again, with what was wrong, before
   * the session fails with ERR_PROVIDER_RESPONSE (its `issues` say what was wrong). Not with
   * streaming (the answer's text is out already). @default 0
   */
  structuredRetries?: number;
  /**
   * Body fields sent as they are (`thinking`, `web_search_options`, …). A field the engine owns
   * (`model`, `messages`, `stream`, `stream_options`, `n`) or one also set by its typed option
   * (`top_p` with `topP`) is refused with ERR_INVALID_REQUEST. @default none
   */
  extra?: Record<string, unknown>;
}

/** What every request may say about its session, beside its payload (chat and execute alike). */
export interface SessionOptions {
  /** The session's deadline, queue wait included. @default the supervisor's `timeoutMs` (120000) */
  timeoutMs?: number;
  /** Your id for the session (at most 256 characters); refused while an active session uses it. @default a UUID */
  requestId?: string;
  /** Aborting it ends the session with ERR_SESSION_ABORTED (the signal's reason as `cause`). */
  signal?: AbortSignal;
  /** Your data (at most 16 KiB of JSON); never sent to the provider. */
  metadata?: Record<string, unknown>;
}

/** A request of `supervisor.execute()`: your handler module run on a thread of the handler pool. */
export interface ExecuteRequest extends SessionOptions {
  /** The handler module: a file URL or path whose default export (or `name`) is the handler. */
  handler: string | URL;
  /** The module's export to call. @default the default export */
  name?: string;
  /** Handed to the handler as its first argument (structured-cloned to the thread). */
  input: unknown;
  /** Run the handler again (once, on a new thread) when its thread dies; off: a handler's side effects must not happen twice unasked. @default false */
  retryOnCrash?: boolean;
}
