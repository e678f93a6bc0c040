// One HTTP call to the provider (a "round"), streamed or not, read into a Reading.
import type OpenAI from 'openai';
import { ProviderResponseError } from '../errors.ts';
import type { SessionEvent } from '../protocol.ts';
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
  /** Called with every piece of answer text as it arrives (streams only). */
  onText?: (text: string) => void;
  /** Called before a reasoning or tool-call delta, usage or the response head is sent to the supervisor (streams only). */
  onPart?: (part: { type: string }) => void;
  /** A stream that sends nothing for this long fails the round. */
  idleTimeoutMs?: number;
}

export interface RoundResult {
  reading: Reading;
  responseHeaders: Headers;
}

export async function callRound(request: RoundRequest): Promise<RoundResult> {
  const { client, body, headers, scope } = request;
  const streamed = body['stream'] === true;
  const idle = new IdleWatch(streamed ? request.idleTimeoutMs : undefined, request.provider);
  const signal = streamed && request.idleTimeoutMs !== undefined ? AbortSignal.any([scope.signal, idle.controller.signal]) : scope.signal;
  try {
    idle.touch();
    const { data, response } = await client.chat.completions.create(body as never, { signal, headers }).withResponse();
    const reading = streamed ? await readStream(data as unknown as AsyncIterable<unknown>, request, idle) : readCompletion(data, request.provider);
    return { reading, responseHeaders: response.headers };
  } catch (error) {
    throw idle.controller.signal.aborted && !scope.signal.aborted ? idle.controller.signal.reason : error;
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
  for await (const chunk of stream) {
    idle.touch();
    reading.add(chunk);
  }
  // The SDK ends the loop quietly when the signal aborts mid-stream.
  if (scope.signal.aborted) throw scope.signal.reason;
  if (idle.controller.signal.aborted) throw idle.controller.signal.reason;
  return reading.reading();
}

/** Aborts the round when it goes `idleMs` without a chunk; `touch()` on every chunk. */
class IdleWatch {
  readonly controller = new AbortController();
  #timer: NodeJS.Timeout | undefined;
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

  stop(): void {
    clearTimeout(this.#timer);
  }
}
