// Wire types: the only place where the main-thread side (supervisor/, session/, pool/) and the
// worker side (call/, providers/) meet. Everything here must survive structuredClone.
import type { MessagePort } from 'node:worker_threads';
import type { AbortReason } from '../types/session.ts';
import type { WireError } from '../types/errors.ts';

import type { ChatMessage, Usage, ResponseHead } from '../types/chat.ts';
import type { Dialect } from '../types/options.ts';

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
  /**
   * A 429 that would be retried is reported (its `retry` event) and handed back instead: the main
   * thread's router sends it again once the key allows (one back-off for everyone on the key).
   */
  deferRateLimits?: boolean;
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
  /** Decoded bytes of a response body (a stream's included) beyond which the call fails. */
  maxResponseBytes: number;
  /** The typed sampling parameters that were set, under their wire names (`top_p`, `n`, …). */
  params?: Record<string, unknown>;
  /** The caller's headers for every call of the session. */
  headers?: Record<string, string>;
  /** The caller's query parameters for every call of the session (the SDK writes them into the URL). */
  query?: Record<string, unknown>;
  /** Times an answer that misses its JSON schema is asked again (json_object providers). */
  structuredRetries?: number;
  extra?: Record<string, unknown>;
}

/** The window of a streamed session: how far the worker may read ahead of the consumer. */
export interface FlowSettings {
  /** Name of the supervisor's BroadcastChannel on which consumption is reported. */
  channel: string;
  /** Characters sent and not yet read beyond which the worker stops reading the provider's stream. */
  windowChars: number;
}

/** Posted by the main thread on the flow channel: the session's consumer has read `consumed` characters in all. */
export interface CreditMessage {
  sessionId: string;
  consumed: number;
}

interface TaskBase {
  sessionId: string;
  requestId: string;
  /** Milliseconds left until the session's deadline when the task was dispatched; the worker ends the call by then on its own. */
  budgetMs: number;
  /** 1 for the first run, 2 for a retry after a crash: the worker names it in its `started` report. */
  run: number;
  /**
   * Set by the supervisor when the session is stopped while this task still waits in the pool's
   * queue (a task is copied only when it is posted): the worker opens it aborted, whatever order
   * the task and the abort message arrive in.
   */
  abort?: AbortReason;
}

export interface ChatTask extends TaskBase {
  kind: 'chat';
  provider: ResolvedProvider;
  call: ChatCall;
  retry: RetrySettings;
  /** Present for streamed sessions: the reader waits for its consumer (back-pressure). */
  flow?: FlowSettings;
  /**
   * The W3C `traceparent` of the session's span, set only when the host records traces: the worker
   * then keeps a {@link CallRecord} per provider call and returns them with the outcome (a worker
   * host with a tracer provider of its own parents its spans on it).
   */
  trace?: string;
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

/** What kind of provider call a {@link CallRecord} is. */
/** `structured`: the answer missed its JSON schema and was asked for again with the issues (`structuredRetries`). */
export type CallKind = 'first' | 'retry' | 'continuation' | 'web_search' | 'fallback' | 'structured';

/**
 * One provider call of a traced session (tasks with `trace` only), as the worker saw it: the main
 * side builds a child span from it. Times are epoch milliseconds (`Date.now()` on the worker).
 */
export interface CallRecord {
  kind: CallKind;
  startedAt: number;
  endedAt: number;
  /** The provider and model called (a fallback target's, for its calls). */
  provider: string;
  model: string;
  /** The HTTP status when the call failed with one. */
  status?: number;
  /** Low-cardinality failure type (`error.type`): the HTTP status, or the error's name. */
  errorType?: string;
  responseId?: string;
  responseModel?: string;
  finishReason?: string;
  inputTokens?: number;
  outputTokens?: number;
  cachedTokens?: number;
  /** Streams: when the first chunk came, and how many came. */
  firstChunkAt?: number;
  chunks?: number;
}

/** How a session ended on its worker; `threadId` says where it ran (`host`: which host, for a transport across hosts); `calls` for traced tasks. */
export type TaskOutcome =
  | { ok: true; value: unknown; attempts: number; threadId: number; host?: string; calls?: CallRecord[] }
  | { ok: false; error: WireError; attempts: number; threadId: number; host?: string; calls?: CallRecord[] };

/** What the call functions return; the task runner adds the thread. */
export type CallOutcome = DistributiveOmitThread<TaskOutcome>;
type DistributiveOmitThread<T> = T extends unknown ? Omit<T, 'threadId'> : never;

/** Events a worker reports while running sessions; sent in batches, never one call per event. */
export type SessionEvent =
  | { type: 'started'; sessionId: string; run: number }
  | { type: 'retry'; sessionId: string; attempt: number; delayMs: number; error: WireError; retryAfterMs?: number }
  | { type: 'delta'; sessionId: string; text: string }
  | { type: 'continuation'; sessionId: string; round: number; completionTokens: number }
  | StreamPartEvent;

/** What a stream carries besides answer text; reasoning of consecutive chunks travels as one event. */
export type StreamPartEvent =
  | { type: 'reasoning'; sessionId: string; text: string }
  | { type: 'tool-call'; sessionId: string; index: number; id?: string; name?: string; arguments?: string }
  | { type: 'usage'; sessionId: string; usage: Usage }
  | { type: 'response'; sessionId: string; head: ResponseHead };

export interface EventBatch {
  threadId: number;
  events: SessionEvent[];
}

/** How a chat session's run ended on its thread, reported with the events of the same turn. */
export interface RunOutcome {
  sessionId: string;
  run: number;
  outcome: TaskOutcome;
}

/**
 * What a worker posts on its events port, once per event-loop turn in which it has something:
 * the sessions' events, then the outcomes of the runs that ended (so a result comes after its deltas).
 */
export interface WorkerReport extends EventBatch {
  outcomes: RunOutcome[];
}

/** What the supervisor posts on a worker's events port: one chat session to run. */
export interface TaskMessage {
  type: 'task';
  task: SessionTask;
}

/** What every worker exposes to the supervisor (over its control channel). */
export interface WorkerControl {
  /**
   * Aborts a session; true when this worker runs it. A session it does not run yet is remembered
   * for a while and aborted when it arrives: its task and this call travel on different ports.
   */
  abort(sessionId: string, reason: AbortReason): boolean;
  /** Drops an abort kept for a session whose run is over (it was told to every worker). */
  forget(sessionId: string): void;
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
