// A chat session inside a worker: rounds of provider calls (each retried by policy), looped
// through Kimi's built-in web search, continued on `length`, read into the result's shape.
import { toWireError } from '../../errors/errors.ts';
import type { WireError } from '../../types/errors.ts';
import type { ChatTask, CallKind, CallOutcome } from '../../wire/protocol.ts';
import type { CacheMetadata, ChatMessage } from '../../types/chat.ts';
import { classifyError } from '../providers/errors.ts';
import { dialects, type DialectAdapter } from '../providers/index.ts';
import { addUsage, type Reading } from '../providers/read.ts';
import { providerSecrets, Redactor } from '../../util/redact.ts';
import type { SessionScope } from './channel.ts';
import { chatValue, type ChatValue, type JoinedReading } from './chat-value.ts';
import { clientFor } from './clients.ts';
import { continuationBudgetLeft } from './continuation.ts';
import { StreamWindow } from './flow.ts';
import { TextAccount } from './text-account.ts';
import { AttemptFailed, withRetries, type RetryContext } from './retry.ts';
import { callRound, type RoundResult } from './round.ts';
import { builtinToolTurns } from './web-search.ts';
import { structuredBody } from '../providers/structured.ts';
import { structuredAnswer } from './structured.ts';
import { CallLog } from './call-log.ts';

export type { ChatValue } from './chat-value.ts';

const MAX_TOOL_ROUNDS = 4;

/** The state of one chat: its rounds share the attempt count, the retry budget and the text account. */
class ChatRun {
  /** Provider calls made for this session, continuation rounds aside: 1 plus every retry. */
  attempts = 1;
  /** Reasoning or tool-call deltas reached the caller in this attempt. */
  partsDelivered = false;
  /** The provider's request id (`x-request-id`) of the last call that answered. */
  providerRequestId: string | undefined;
  readonly task: ChatTask;
  readonly scope: SessionScope;
  readonly adapter: DialectAdapter;
  readonly account: TextAccount;
  /** A record per provider call, kept only for traced tasks (the host builds spans from them). */
  readonly calls: CallLog | undefined;
  readonly #window: StreamWindow | undefined;
  readonly #retry: RetryContext;
  readonly #headers: Record<string, string>;

  constructor(task: ChatTask, scope: SessionScope) {
    this.task = task;
    this.scope = scope;
    this.adapter = dialects[task.provider.dialect];
    this.calls = task.trace === undefined ? undefined : new CallLog();
    this.#headers = { ...task.call.headers, ...this.adapter.headers(task.call) };
    this.#window = task.flow !== undefined ? new StreamWindow(scope.sessionId, task.flow, scope.signal) : undefined;
    this.account = new TextAccount(new Redactor(providerSecrets(task.provider)), (text) => {
      scope.emit({ type: 'delta', sessionId: scope.sessionId, text });
      return this.#window?.sent(text.length);
    });
    this.#retry = {
      settings: task.retry,
      deadlineAt: Date.now() + task.budgetMs,
      signal: scope.signal,
      classify: (error) => classifyError(error, task.provider.dialect, task.provider.name),
      // Text handed to the caller cannot be taken back: that attempt is not made again.
      mayRetry: () => !this.account.deliveredThisAttempt && !this.partsDelivered,
      onRetry: (delayMs, failure) => {
        this.attempts++;
        const retryAfter = failure.retryAfterMs !== undefined ? { retryAfterMs: failure.retryAfterMs } : {};
        scope.emit({ type: 'retry', sessionId: scope.sessionId, attempt: this.attempts, delayMs, error: failure.error, ...retryAfter });
      },
    };
  }

  readonly #onText = (text: string) => this.account.stream(text);

  // Reasoning and tool-call deltas reach the caller too: after them a retry would repeat what was seen.
  readonly #onPart = (part: { type: string }) => {
    if (part.type === 'reasoning' || part.type === 'tool-call') this.partsDelivered = true;
  };

  /** One round: a provider call that sends `messages`, retried until it succeeds or the policy stops it; `kind` names its first call. */
  async round(messages: ChatMessage[], kind: CallKind): Promise<RoundResult> {
    const { task, adapter, account, calls } = this;
    const body = structuredBody(task.provider.dialect, adapter.body(task.call, task.provider, messages));
    const client = clientFor(task.provider, task.call.maxResponseBytes);
    const request = {
      client,
      provider: task.provider.name,
      body,
      headers: this.#headers,
      scope: this.scope,
      idleTimeoutMs: task.call.idleTimeoutMs,
      query: task.call.query,
    };
    const roundRequest = task.call.stream ? { ...request, onText: this.#onText, onPart: this.#onPart, ...(calls ? { onChunk: calls.chunk } : {}) } : request;
    let tries = 0;
    const once = async () => {
      account.beginAttempt();
      this.partsDelivered = false;
      calls?.begin(tries++ === 0 ? kind : 'retry', task.provider.name, task.call.model);
      const result = calls === undefined ? await callRound(roundRequest) : await callRound(roundRequest).catch((error: unknown) => calls.fail(error));
      calls?.answered(result.reading);
      this.providerRequestId = result.responseHeaders.get('x-request-id') ?? this.providerRequestId;
      const failed = adapter.failedFinish(result.reading.finishReason, task.provider.name);
      if (failed) throw calls === undefined ? failed : calls.fail(failed);
      if (task.call.stream) account.commit();
      else account.add(result.reading.content);
      return result;
    };
    return withRetries(once, this.#retry);
  }

  /** An answer asked again (a structured answer that missed its schema, never streamed) replaces the one kept. */
  restartText(): void {
    this.account.restart();
  }

  close(): void {
    this.#window?.close();
  }
}

export async function runChat(task: ChatTask, scope: SessionScope): Promise<CallOutcome> {
  const run = new ChatRun(task, scope);
  try {
    let messages = task.call.messages;
    let first = await run.round(messages, 'first');
    for (let tools = 0; tools < MAX_TOOL_ROUNDS && task.call.webSearch; tools++) {
      const turns = builtinToolTurns(first.reading);
      if (turns === undefined) break;
      messages = [...messages, ...turns];
      first = await run.round(messages, 'web_search');
    }
    const structured = await structuredAnswer(run, first, messages);
    first = structured.result;
    const joined = await continueAsNeeded(run, first.reading, structured.messages);
    const value: ChatValue = chatValue(task.provider.name, task.call.model, joined, run.providerRequestId);
    if ('parsed' in structured) value.parsed = structured.parsed;
    const cache = cacheMetadata(first.responseHeaders, task.call.cache?.id);
    if (cache) value.metadata.cache = cache;
    return withCalls({ ok: true, value, attempts: run.attempts }, run.calls);
  } catch (error) {
    // The text delivered so far leaves before the failure, which travels on another port.
    scope.flush();
    return withCalls({ ok: false, error: failureOf(error, run), attempts: run.attempts }, run.calls);
  } finally {
    run.close();
  }
}

function withCalls(outcome: CallOutcome, calls: CallLog | undefined): CallOutcome {
  if (calls !== undefined) outcome.calls = calls.records;
  return outcome;
}

function failureOf(error: unknown, run: ChatRun): WireError {
  if (run.scope.signal.aborted) return toWireError(run.scope.signal.reason);
  if (error instanceof AttemptFailed) return error.failure.error;
  return classifyError(error, run.task.provider.dialect, run.task.provider.name).error;
}

/**
 * Calls again while the answer was cut (`length`) and the budget allows; every paid chunk is kept,
 * a failed round's streamed text included. `content` is the session's text account: what every
 * round (tool rounds too) added, exactly what the deltas added up to.
 */
async function continueAsNeeded(run: ChatRun, first: Reading, messages: ChatMessage[]): Promise<JoinedReading> {
  const settings = run.task.call.continuation;
  let last = first;
  // What the provider wrote since the tool rounds, sent back as it was to continue it.
  let answer = first.content;
  let usage = first.usage;
  let rounds = 1;
  let error: WireError | undefined;
  while (settings && last.finishReason === 'length' && continuationBudgetLeft(settings, rounds, usage.completionTokens)) {
    messages = run.adapter.continueWith(messages, last.content, answer);
    rounds++;
    try {
      last = (await run.round(messages, 'continuation')).reading;
    } catch (failure) {
      // A failed continuation keeps what was produced and notes why it stopped.
      if (!(failure instanceof AttemptFailed)) throw failure;
      error = failure.failure.error;
      break;
    }
    answer += last.content;
    usage = addUsage(usage, last.usage);
    run.scope.emit({ type: 'continuation', sessionId: run.scope.sessionId, round: rounds, completionTokens: usage.completionTokens });
  }
  run.account.commit();
  const value: JoinedReading = {
    ...first,
    content: run.account.text,
    usage,
    finishReason: last.finishReason,
    usageReported: first.usageReported || last.usageReported,
    metadata: {},
  };
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
