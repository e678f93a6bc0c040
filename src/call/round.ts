// One HTTP call to the provider (a "round"), streamed or not, read into a Reading.
import type OpenAI from 'openai';
import { ProviderResponseError } from '../errors.ts';
import type { Body } from '../providers/dialect.ts';
import { emptyUsage, readCompletion, readToolCalls, readUsage, type Reading } from '../providers/read.ts';
import type { SessionScope } from './channel.ts';

export interface RoundRequest {
  client: OpenAI;
  provider: string;
  body: Body;
  headers: Record<string, string>;
  scope: SessionScope;
  /** Called with every piece of answer text as it arrives (streams only); a promise returned asks the reader to wait (back-pressure). */
  onText?: (text: string) => Promise<void> | undefined;
  /** A stream that sends nothing for this long fails the round. */
  idleTimeoutMs?: number;
}

export interface RoundResult {
  reading: Reading;
  responseHeaders: Headers;
}

type Raw = Record<string, unknown>;

export async function callRound(request: RoundRequest): Promise<RoundResult> {
  const { client, body, headers, scope } = request;
  const streamed = body['stream'] === true;
  const idle = new IdleWatch(streamed ? request.idleTimeoutMs : undefined, request.provider);
  const signal = streamed && request.idleTimeoutMs !== undefined ? AbortSignal.any([scope.signal, idle.controller.signal, idle.tail.signal]) : scope.signal;
  try {
    idle.touch();
    const { data, response } = await client.chat.completions.create(body as never, { signal, headers }).withResponse();
    const reading = streamed ? await readStream(data as unknown as AsyncIterable<unknown>, request, idle) : readCompletion(data, request.provider);
    return { reading, responseHeaders: response.headers };
  } catch (error) {
    throw idle.controller.signal.aborted && !scope.signal.aborted ? idle.controller.signal.reason : error;
    // (a stream that went quiet after its finish reason was read to its end in readStream)
  } finally {
    idle.stop();
  }
}

interface ToolCallDraft {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

/** Reads a chunk stream: text deltas are passed on as they come, usage from any of its placements. */
async function readStream(stream: AsyncIterable<unknown>, request: RoundRequest, idle: IdleWatch): Promise<Reading> {
  const { scope, provider, onText } = request;
  let content = '';
  let reasoning = '';
  let finishReason: string | undefined;
  let usage = emptyUsage();
  let webSearch: unknown[] | undefined;
  const toolCalls: ToolCallDraft[] = [];
  let sawUsage = false;
  try {
    for await (const chunk of stream) {
      idle.touch();
      const raw = chunk as Raw;
      const choice = (Array.isArray(raw['choices']) ? raw['choices'][0] : undefined) as Raw | undefined;
      const chunkUsage = readUsage(raw['usage']) ?? readUsage(choice?.['usage']);
      if (chunkUsage !== undefined) [usage, sawUsage] = [chunkUsage, true];
      if (Array.isArray(raw['web_search'])) webSearch = raw['web_search'];
      if (choice !== undefined) {
        const delta = (choice['delta'] ?? {}) as Raw;
        if (typeof delta['content'] === 'string' && delta['content'] !== '') {
          content += delta['content'];
          const wait = onText?.(delta['content']);
          if (wait !== undefined) await idle.paused(wait);
        }
        if (typeof delta['reasoning_content'] === 'string') reasoning += delta['reasoning_content'];
        if (Array.isArray(delta['tool_calls'])) mergeToolCallDeltas(toolCalls, delta['tool_calls'] as Raw[]);
        if (typeof choice['finish_reason'] === 'string') finishReason = choice['finish_reason'];
      }
      if (finishReason !== undefined) idle.finishing(sawUsage);
    }
  } catch (error) {
    // The answer was complete when the stream went quiet (no [DONE]): the round is over, not failed.
    if (!idle.tail.signal.aborted || scope.signal.aborted) throw error;
  }
  // The SDK ends the loop quietly when the signal aborts mid-stream.
  if (scope.signal.aborted) throw scope.signal.reason;
  if (idle.controller.signal.aborted) throw idle.controller.signal.reason;
  if (finishReason === undefined) throw new ProviderResponseError(`${provider} ended the stream without a finish reason`, {}, true);
  const reading: Reading = { content, finishReason, usage };
  const calls = readToolCalls(toolCalls);
  if (calls) reading.toolCalls = calls;
  if (reasoning !== '') reading.reasoningContent = reasoning;
  if (webSearch) reading.webSearch = webSearch;
  return reading;
}

function mergeToolCallDeltas(drafts: ToolCallDraft[], deltas: Raw[]): void {
  for (const delta of deltas) {
    const index = typeof delta['index'] === 'number' ? delta['index'] : drafts.length;
    const fn = (delta['function'] ?? {}) as Raw;
    const draft = (drafts[index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
    if (typeof delta['id'] === 'string') draft.id = delta['id'];
    if (typeof delta['type'] === 'string') draft.type = delta['type'];
    if (typeof fn['name'] === 'string') draft.function.name += fn['name'];
    if (typeof fn['arguments'] === 'string') draft.function.arguments += fn['arguments'];
  }
}

/** How long a stream that sent its finish reason and usage may stay open before the round ends without `[DONE]`. */
const TAIL_MS = 1000;

/**
 * Aborts the round when it goes `idleMs` without a chunk (`touch()` on every chunk). Once the finish
 * reason has come, a quiet stream ends the round through `tail` instead: soon when usage came too,
 * after `idleMs` otherwise. Time spent waiting for the consumer (`paused`) is not idleness.
 */
class IdleWatch {
  readonly controller = new AbortController();
  readonly tail = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #finishing: 'no' | 'reason' | 'usage' = 'no';
  readonly #idleMs: number | undefined;
  readonly #provider: string;

  constructor(idleMs: number | undefined, provider: string) {
    this.#idleMs = idleMs;
    this.#provider = provider;
  }

  touch(): void {
    if (this.#idleMs === undefined) return;
    if (this.#timer !== undefined) {
      this.#timer.refresh();
      return;
    }
    const error = () => new ProviderResponseError(`${this.#provider} sent nothing for ${this.#idleMs} ms`, {}, true);
    this.#timer = setTimeout(() => this.controller.abort(error()), this.#idleMs);
  }

  /** The finish reason arrived (and usage, when `withUsage`): silence from now on ends the round. */
  finishing(withUsage: boolean): void {
    if (this.#idleMs === undefined || this.#finishing === 'usage' || (this.#finishing === 'reason' && !withUsage)) return;
    this.#finishing = withUsage ? 'usage' : 'reason';
    clearTimeout(this.#timer);
    const ms = withUsage ? Math.min(TAIL_MS, this.#idleMs) : this.#idleMs;
    this.#timer = setTimeout(() => this.tail.abort(), ms);
  }

  /** Waits for `wait` with the watch stopped. */
  async paused(wait: Promise<void>): Promise<void> {
    clearTimeout(this.#timer);
    try {
      await wait;
    } finally {
      this.#timer?.refresh();
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}
