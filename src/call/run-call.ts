// A chat session inside a worker: rounds of provider calls (each retried by policy), looped
// through Kimi's built-in web search, continued on `length`, read into the result's shape.
import type { WireError } from '../errors.ts';
import type { CacheMetadata, ChatMessage, ChatTask, ContinuationMetadata, CallOutcome } from '../protocol.ts';
import { classifyError } from '../providers/errors.ts';
import { dialects, type DialectAdapter } from '../providers/index.ts';
import { addUsage, type Reading } from '../providers/read.ts';
import type { SessionScope } from './channel.ts';
import { clientFor } from './clients.ts';
import { continuationBudgetLeft } from './continuation.ts';
import { AttemptFailed, withRetries, type RetryContext } from './retry.ts';
import { callRound, type RoundResult } from './round.ts';
import { builtinToolTurns } from './web-search.ts';

/** What a worker returns for a chat; the supervisor adds `metadata.session`. */
export interface ChatValue extends Reading {
  provider: string;
  model: string;
  metadata: { continuation?: ContinuationMetadata; cache?: CacheMetadata };
}

const MAX_TOOL_ROUNDS = 4;

/** The state of one chat: its rounds share the attempt count, the retry budget and the stream flag. */
class ChatRun {
  /** Provider calls made for this session, continuation rounds aside: 1 plus every retry. */
  attempts = 1;
  delivered = false;
  readonly task: ChatTask;
  readonly scope: SessionScope;
  readonly adapter: DialectAdapter;
  readonly #retry: RetryContext;
  readonly #headers: Record<string, string>;

  constructor(task: ChatTask, scope: SessionScope) {
    this.task = task;
    this.scope = scope;
    this.adapter = dialects[task.provider.dialect];
    this.#headers = this.adapter.headers(task.call);
    this.#retry = {
      settings: task.retry,
      deadlineAt: Date.now() + task.budgetMs,
      signal: scope.signal,
      classify: (error) => classifyError(error, task.provider.dialect, task.provider.name),
      mayRetry: () => !this.delivered,
      onRetry: (delayMs, failure) => {
        this.attempts++;
        const retryAfter = failure.retryAfterMs !== undefined ? { retryAfterMs: failure.retryAfterMs } : {};
        scope.emit({ type: 'retry', sessionId: scope.sessionId, attempt: this.attempts, delayMs, error: failure.error, ...retryAfter });
      },
    };
  }

  readonly #onText = (text: string) => {
    this.delivered = true;
    this.scope.emit({ type: 'delta', sessionId: this.scope.sessionId, text });
  };

  /** One round: a provider call that sends `messages`, retried until it succeeds or the policy stops it. */
  async round(messages: ChatMessage[]): Promise<RoundResult> {
    const { task, adapter } = this;
    const body = adapter.body(task.call, task.provider, messages);
    const request = { client: clientFor(task.provider), provider: task.provider.name, body, headers: this.#headers, scope: this.scope, idleTimeoutMs: task.call.idleTimeoutMs };
    const once = async () => {
      const result = await callRound(task.call.stream ? { ...request, onText: this.#onText } : request);
      const failed = adapter.failedFinish(result.reading.finishReason, task.provider.name);
      if (failed) throw failed;
      return result;
    };
    return withRetries(once, this.#retry);
  }
}

export async function runChat(task: ChatTask, scope: SessionScope): Promise<CallOutcome> {
  const run = new ChatRun(task, scope);
  try {
    let messages = task.call.messages;
    let first = await run.round(messages);
    for (let tools = 0; tools < MAX_TOOL_ROUNDS && task.call.webSearch; tools++) {
      const turns = builtinToolTurns(first.reading);
      if (turns === undefined) break;
      messages = [...messages, ...turns];
      first = await run.round(messages);
    }
    const value: ChatValue = { provider: task.provider.name, model: task.call.model, ...(await continueAsNeeded(run, first.reading, messages)) };
    const cache = cacheMetadata(first.responseHeaders, task.call.cache?.id);
    if (cache) value.metadata.cache = cache;
    return { ok: true, value, attempts: run.attempts };
  } catch (error) {
    return { ok: false, error: failureOf(error, run), attempts: run.attempts };
  }
}

function failureOf(error: unknown, run: ChatRun): WireError {
  if (run.scope.signal.aborted) return run.scope.signal.reason as WireError;
  if (error instanceof AttemptFailed) return error.failure.error;
  return classifyError(error, run.task.provider.dialect, run.task.provider.name).error;
}

/** Calls again while the answer was cut (`length`) and the budget allows; every paid chunk is kept. */
async function continueAsNeeded(run: ChatRun, first: Reading, messages: ChatMessage[]): Promise<Omit<ChatValue, 'provider' | 'model'>> {
  const settings = run.task.call.continuation;
  let last = first;
  let content = first.content;
  let usage = first.usage;
  let rounds = 1;
  let error: WireError | undefined;
  while (settings && last.finishReason === 'length' && continuationBudgetLeft(settings, rounds, usage.completionTokens)) {
    messages = run.adapter.continueWith(messages, last.content, content);
    try {
      last = (await run.round(messages)).reading;
    } catch (failure) {
      // A failed continuation keeps what was produced and notes why it stopped.
      if (!(failure instanceof AttemptFailed)) throw failure;
      error = failure.failure.error;
      break;
    }
    rounds++;
    content += last.content;
    usage = addUsage(usage, last.usage);
    run.scope.emit({ type: 'continuation', sessionId: run.scope.sessionId, round: rounds, completionTokens: usage.completionTokens });
  }
  const value: Omit<ChatValue, 'provider' | 'model'> = { ...first, content, usage, finishReason: last.finishReason, metadata: {} };
  if (settings && first.finishReason === 'length') {
    value.metadata.continuation = { attempts: rounds, totalTokens: usage.completionTokens, complete: last.finishReason !== 'length' };
    if (error) value.metadata.continuation.error = error;
  }
  return value;
}

function cacheMetadata(headers: Headers, requested: string | undefined): CacheMetadata | undefined {
  const seen: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name.startsWith('msh-context-cache')) seen[name] = value;
  });
  if (requested === undefined && Object.keys(seen).length === 0) return undefined;
  const meta: CacheMetadata = { headers: seen };
  const id = seen['msh-context-cache-id'] ?? requested;
  if (id !== undefined) meta.id = id;
  const saved = seen['msh-context-cache-token-saved'];
  if (saved !== undefined && Number.isFinite(Number(saved))) meta.tokensSaved = Number(saved);
  return meta;
}
