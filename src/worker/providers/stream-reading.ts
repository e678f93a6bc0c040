// Assembles a chunk stream into a Reading, handing each piece (text, reasoning, tool-call deltas,
// usage, the response head) to a sink as it arrives. Usage is read from any of its placements
// (top level, or inside the choice as Kimi sends it); only fields the server sent are kept.
import { ProviderResponseError } from '../../errors/errors.ts';
import type { StreamPartEvent } from '../../wire/protocol.ts';
import type { ResponseHead, AssistantMessage, ChatChoice, Logprobs, Usage } from '../../types/chat.ts';
import { emptyUsage, readUsage, type Reading } from './read.ts';
import { asRecord, mergeToolCallDelta, readHead, type ToolCallDraft } from './result.ts';

type Raw = Record<string, unknown>;
type Part = StreamPartEvent extends infer E ? (E extends { sessionId: string } ? Omit<E, 'sessionId'> : never) : never;

export interface StreamSink {
  /** Answer text; a promise returned asks the reader to wait before the next chunk (back-pressure). */
  text?(text: string): Promise<void> | undefined;
  /** Everything else: reasoning, tool-call deltas, usage and the head (once, at the first chunk). */
  part?(part: Part): void;
}

export class StreamReading {
  readonly #provider: string;
  readonly #sink: StreamSink;
  #head: ResponseHead | undefined;
  #content: string | undefined;
  #reasoning = '';
  #refusal: string | null | undefined;
  #logprobs: Logprobs | null | undefined;
  #finishReason: string | undefined;
  #usage: Usage | undefined;
  #webSearch: unknown[] | undefined;
  readonly #toolCalls: ToolCallDraft[] = [];

  constructor(provider: string, sink: StreamSink) {
    this.#provider = provider;
    this.#sink = sink;
  }

  /** Whether the finish reason has come, and usage too (then a quiet stream is over, `[DONE]` or not). */
  get finishing(): 'no' | 'reason' | 'usage' {
    if (this.#finishReason === undefined) return 'no';
    return this.#usage !== undefined ? 'usage' : 'reason';
  }

  /** Takes one chunk; returns the text sink's wait, if it asked for one. */
  add(chunk: unknown): Promise<void> | undefined {
    const raw = asRecord(chunk);
    if (raw === undefined) return undefined;
    if (this.#head === undefined) {
      this.#head = readHead(raw);
      this.#sink.part?.({ type: 'response', head: this.#head });
    }
    const choice = Array.isArray(raw['choices']) ? asRecord(raw['choices'][0]) : undefined;
    const usage = readUsage(raw['usage']) ?? readUsage(choice?.['usage']);
    if (usage !== undefined) {
      this.#usage = usage;
      this.#sink.part?.({ type: 'usage', usage });
    }
    if (Array.isArray(raw['web_search'])) this.#webSearch = raw['web_search'];
    return choice !== undefined ? this.#addChoice(choice) : undefined;
  }

  #addChoice(choice: Raw): Promise<void> | undefined {
    const delta = asRecord(choice['delta']) ?? {};
    const { text, part } = this.#sink;
    let wait: Promise<void> | undefined;
    if (typeof delta['content'] === 'string') {
      this.#content = (this.#content ?? '') + delta['content'];
      if (delta['content'] !== '') wait = text?.(delta['content']);
    }
    if (typeof delta['reasoning_content'] === 'string' && delta['reasoning_content'] !== '') {
      this.#reasoning += delta['reasoning_content'];
      part?.({ type: 'reasoning', text: delta['reasoning_content'] });
    }
    if (typeof delta['refusal'] === 'string') this.#refusal = (this.#refusal ?? '') + delta['refusal'];
    else if ('refusal' in delta && this.#refusal === undefined) this.#refusal = null;
    if (Array.isArray(delta['tool_calls'])) {
      for (const call of delta['tool_calls']) {
        const record = asRecord(call);
        if (record !== undefined) part?.({ type: 'tool-call', ...mergeToolCallDelta(this.#toolCalls, record) });
      }
    }
    if ('logprobs' in choice) this.#addLogprobs(asRecord(choice['logprobs']));
    if (typeof choice['finish_reason'] === 'string') this.#finishReason = choice['finish_reason'];
    return wait;
  }

  // `logprobs: null` in every chunk means none were asked for; token lists are joined over the chunks.
  #addLogprobs(logprobs: Raw | undefined): void {
    if (logprobs === undefined) {
      this.#logprobs ??= null;
      return;
    }
    const into = (this.#logprobs ??= { content: null, refusal: null });
    if (Array.isArray(logprobs?.['content'])) into.content = [...(into.content ?? []), ...logprobs['content']];
    if (Array.isArray(logprobs?.['refusal'])) into.refusal = [...(into.refusal ?? []), ...logprobs['refusal']];
  }

  /** The stream's reading; a stream that never sent a finish reason is a malformed response. */
  reading(): Reading {
    if (this.#finishReason === undefined) throw new ProviderResponseError(`${this.#provider} ended the stream without a finish reason`, {}, true);
    const message: AssistantMessage = { role: 'assistant', content: this.#content ?? null };
    if (this.#refusal !== undefined) message.refusal = this.#refusal;
    const calls = this.#toolCalls.filter((call) => call !== undefined);
    if (calls.length > 0) message.tool_calls = calls as AssistantMessage['tool_calls'];
    if (this.#reasoning !== '') message.reasoning_content = this.#reasoning;
    const choice: ChatChoice = { index: 0, message, finishReason: this.#finishReason };
    if (this.#logprobs !== undefined) choice.logprobs = this.#logprobs;
    const reading: Reading = {
      content: this.#content ?? '',
      finishReason: this.#finishReason,
      usage: this.#usage ?? emptyUsage(),
      head: this.#head ?? {},
      choices: [choice],
      usageReported: this.#usage !== undefined,
    };
    if (message.tool_calls) reading.toolCalls = message.tool_calls;
    if (this.#reasoning !== '') reading.reasoningContent = this.#reasoning;
    if (this.#webSearch) reading.webSearch = this.#webSearch;
    return reading;
  }
}
