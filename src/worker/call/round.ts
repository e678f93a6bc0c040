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
  /** Query parameters of the URL (the caller's `query`). */
  query?: Record<string, unknown>;
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
  const idle = new IdleWatch(streamed ? request.idleTimeoutMs : undefined, request.provider, scope.signal);
  try {
    idle.touch();
    const signal = idle.signal;
    const options = request.query === undefined ? { signal, headers } : { signal, headers, query: request.query };
    const { data, response } = await client.chat.completions.create(body as never, options).withResponse();
    const reading = streamed ? await readStream(data as unknown as AsyncIterable<unknown>, request, idle) : readCompletion(data, request.provider);
    return { reading, responseHeaders: response.headers };
  } catch (error) {
    throw idle.silence !== undefined && !scope.signal.aborted ? idle.silence : error;
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
    if (!idle.tailEnded || scope.signal.aborted) throw error;
  }
  // The SDK ends the loop quietly when the signal aborts mid-stream.
  if (scope.signal.aborted) throw scope.signal.reason;
  if (idle.silence !== undefined) throw idle.silence;
  return reading.reading();
}

/** How long a stream that sent its finish reason and usage may stay open before the round ends without `[DONE]`. */
const TAIL_MS = 1000;

/**
 * Aborts the round when it goes `idleMs` without a chunk (`touch()` on every chunk). Once the finish
 * reason has come, a quiet stream ends the round through the tail instead (`tailEnded`): soon when
 * usage came too, after `idleMs` otherwise. Time spent waiting for the consumer (`paused`) is not
 * idleness.
 *
 * Per chunk it only notes the time: one timer per round checks, when it fires, how long the stream
 * has really been quiet and sets itself again for the rest (refreshing a timer on each of a stream's
 * hundreds of chunks, and a signal composed with AbortSignal.any whose `aborted` the SDK reads on each
 * of them, cost a 500-chunk stream ~0.4 ms of its worker's CPU). The round's signal is one
 * controller's, aborted by the session's signal, by silence or by the tail.
 */
class IdleWatch {
  /** What the round's HTTP call listens to: the session's own signal when nothing is watched. */
  readonly signal: AbortSignal;
  /** The error of a stream that went silent for `idleMs`, once it did. */
  silence: ProviderResponseError | undefined;
  /** The stream was quiet after its finish reason: the round is over. */
  tailEnded = false;
  readonly #round: AbortController | undefined;
  readonly #session: AbortSignal;
  readonly #onSessionAbort = () => this.#round?.abort(this.#session.reason);
  #timer: NodeJS.Timeout | undefined;
  #lastChunkAt = 0;
  #quietMs: number;
  #finishing: 'no' | 'reason' | 'usage' = 'no';
  readonly #idleMs: number | undefined;
  readonly #provider: string;

  constructor(idleMs: number | undefined, provider: string, session: AbortSignal) {
    this.#idleMs = idleMs;
    this.#quietMs = idleMs ?? 0;
    this.#provider = provider;
    this.#session = session;
    if (idleMs === undefined) {
      this.signal = session;
      return;
    }
    this.#round = new AbortController();
    this.signal = this.#round.signal;
    if (session.aborted) this.#onSessionAbort();
    else session.addEventListener('abort', this.#onSessionAbort, { once: true });
  }

  touch(): void {
    if (this.#idleMs === undefined) return;
    this.#lastChunkAt = performance.now();
    this.#timer ??= setTimeout(this.#check, this.#quietMs);
  }

  readonly #check = (): void => {
    const quiet = performance.now() - this.#lastChunkAt;
    if (quiet < this.#quietMs) {
      this.#timer = setTimeout(this.#check, this.#quietMs - quiet);
      return;
    }
    this.#timer = undefined;
    if (this.#finishing !== 'no') {
      this.tailEnded = true;
      this.#round?.abort();
      return;
    }
    this.silence = new ProviderResponseError(`${this.#provider} sent nothing for ${this.#idleMs} ms`, {}, true);
    this.#round?.abort(this.silence);
  };

  /** The finish reason arrived (and usage, when `withUsage`): silence from now on ends the round. */
  finishing(withUsage: boolean): void {
    if (this.#idleMs === undefined || this.#finishing === 'usage' || (this.#finishing === 'reason' && !withUsage)) return;
    this.#finishing = withUsage ? 'usage' : 'reason';
    this.#quietMs = withUsage ? Math.min(TAIL_MS, this.#idleMs) : this.#idleMs;
    // The quiet time counts from now, and the next check comes no later than the new limit.
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.touch();
  }

  /** Waits for `wait` with the watch stopped. */
  async paused(wait: Promise<void>): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      await wait;
    } finally {
      this.touch();
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#session.removeEventListener('abort', this.#onSessionAbort);
  }
}
