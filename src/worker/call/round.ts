// One HTTP call to the provider (a "round"), streamed or not, read into a Reading.
import type OpenAI from 'openai';
import { ProviderResponseError } from '../../errors/errors.ts';
import type { SessionEvent } from '../../wire/protocol.ts';
import type { Body } from '../providers/dialect.ts';
import { readCompletion, type Reading } from '../providers/read.ts';
import { StreamReading } from '../providers/stream-reading.ts';
import type { SessionScope } from './channel.ts';

export interface RoundRequest {
  client: OpenAI;
  provider: string;
  body: Body;
  headers: Record<string, string>;
  scope: SessionScope;
  /** Called with every piece of answer text as it arrives (streams only); a promise returned asks the reader to wait (back-pressure). */
  onText?: (text: string) => Promise<void> | undefined;
  /** Called before a reasoning or tool-call delta, usage or the response head is sent to the supervisor (streams only). */
  onPart?: (part: { type: string }) => void;
  /** A stream that sends nothing for this long fails the round. */
  idleTimeoutMs?: number;
  /** Called on every chunk of a stream (traced sessions only: their call records count chunks). */
  onChunk?: () => void;
}

export interface RoundResult {
  reading: Reading;
  responseHeaders: Headers;
}

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

/** Reads a chunk stream: text, reasoning, tool-call deltas and usage are passed on as they come. */
async function readStream(stream: AsyncIterable<unknown>, request: RoundRequest, idle: IdleWatch): Promise<Reading> {
  const { scope, provider, onText } = request;
  const { sessionId } = scope;
  const reading = new StreamReading(provider, {
    ...(onText !== undefined ? { text: onText } : {}),
    part: (part) => {
      request.onPart?.(part);
      scope.emit({ ...part, sessionId } as SessionEvent);
    },
  });
  try {
    for await (const chunk of stream) {
      idle.touch();
      request.onChunk?.();
      const wait = reading.add(chunk);
      if (wait !== undefined) await idle.paused(wait);
      if (reading.finishing !== 'no') idle.finishing(reading.finishing === 'usage');
    }
  } catch (error) {
    // The answer was complete when the stream went quiet (no [DONE]): the round is over, not failed.
    if (!idle.tail.signal.aborted || scope.signal.aborted) throw error;
  }
  // The SDK ends the loop quietly when the signal aborts mid-stream.
  if (scope.signal.aborted) throw scope.signal.reason;
  if (idle.controller.signal.aborted) throw idle.controller.signal.reason;
  return reading.reading();
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
