// Wire types: the only place where the main-thread side (supervisor/, session/, pool/) and the
// worker side (call/, providers/) meet. Everything here must survive structuredClone.
import type { MessagePort } from 'node:worker_threads';
import type { WireError } from './errors.ts';

export type Dialect = 'kimi' | 'glm' | 'openai';

export interface ContentPart {
  type: string;
  text?: string;
  [key: string]: unknown;
}

export interface ToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | 'cache';
  content: string | ContentPart[] | null;
  name?: string;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  partial?: boolean;
  reasoning_content?: string;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  cachedTokens?: number;
}

export interface SessionMetadata {
  sessionId: string;
  requestId: string;
  durationSeconds: number;
  attempts: number;
}

export interface ContinuationMetadata {
  attempts: number;
  totalTokens: number;
  complete: boolean;
  error?: WireError;
}

export interface CacheMetadata {
  id?: string;
  tokensSaved?: number;
  headers: Record<string, string>;
}

export interface ChatResult {
  provider: string;
  model: string;
  content: string;
  finishReason: string;
  usage: Usage;
  toolCalls?: ToolCall[];
  reasoningContent?: string;
  webSearch?: unknown[];
  metadata: {
    session: SessionMetadata;
    continuation?: ContinuationMetadata;
    cache?: CacheMetadata;
    [key: string]: unknown;
  };
}

/** A provider as the worker needs it: everything resolved on the main thread. */
export interface ResolvedProvider {
  name: string;
  dialect: Dialect;
  baseURL: string;
  apiKey: string;
  defaultModel: string;
  defaultTemperature?: number;
  headers?: Record<string, string>;
}

export interface RetrySettings {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface ContinuationSettings {
  maxAttempts: number;
  maxTotalTokens: number;
}

/** A validated chat request, with provider defaults applied. */
export interface ChatCall {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  maxOutputTokens?: number;
  tools?: unknown[];
  toolChoice?: unknown;
  continuation: ContinuationSettings | false;
  cache?: { id: string; resetTtlSeconds?: number };
  webSearch?: boolean | Record<string, unknown>;
  stream: boolean;
  /** A stream that sends nothing for this long fails the attempt. */
  idleTimeoutMs: number;
  extra?: Record<string, unknown>;
}

interface TaskBase {
  sessionId: string;
  requestId: string;
  /** Milliseconds left until the session's deadline when the task was dispatched. */
  budgetMs: number;
}

export interface ChatTask extends TaskBase {
  kind: 'chat';
  provider: ResolvedProvider;
  call: ChatCall;
  retry: RetrySettings;
}

export interface ExecuteTask extends TaskBase {
  kind: 'execute';
  /** Module URL (file:) of the handler. */
  handler: string;
  /** Export to call; 'default' when absent. */
  name: string;
  input: unknown;
}

export type SessionTask = ChatTask | ExecuteTask;

/** How a session ended on its worker; `threadId` says where it ran. */
export type TaskOutcome =
  | { ok: true; value: unknown; attempts: number; threadId: number }
  | { ok: false; error: WireError; attempts: number; threadId: number };

/** What the call functions return; the task runner adds the thread. */
export type CallOutcome = DistributiveOmitThread<TaskOutcome>;
type DistributiveOmitThread<T> = T extends unknown ? Omit<T, 'threadId'> : never;

/** Events a worker reports while running sessions; sent in batches, never one call per event. */
export type SessionEvent =
  | { type: 'started'; sessionId: string }
  | { type: 'retry'; sessionId: string; attempt: number; delayMs: number; error: WireError; retryAfterMs?: number }
  | { type: 'delta'; sessionId: string; text: string }
  | { type: 'continuation'; sessionId: string; round: number; completionTokens: number };

export interface EventBatch {
  threadId: number;
  events: SessionEvent[];
}

/** What the supervisor exposes to every worker (over the worker's events channel). */
export interface SupervisorInbox {
  receive(batch: EventBatch): void;
}

export type AbortReason = 'timeout' | 'aborted' | 'closed';

/** What every worker exposes to the supervisor (over its control channel). */
export interface WorkerControl {
  /**
   * Aborts a session; true when this worker runs it. A session it does not run yet is remembered
   * for a while and aborted when it arrives: its task and this call travel on different ports.
   */
  abort(sessionId: string, reason: AbortReason): boolean;
  /** Whether to report `started` for every session (execute sessions always report it). */
  reportStarts(on: boolean): void;
}

/** First message of every worker on its parentPort: the ends of its two long-lived channels. */
export interface ChannelHello {
  type: 'sessionpool:channel';
  threadId: number;
  events: MessagePort;
  control: MessagePort;
}

export function isChannelHello(message: unknown): message is ChannelHello {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'sessionpool:channel';
}
