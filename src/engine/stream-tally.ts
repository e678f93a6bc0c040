// The result of a stream and its last event batch travel on different ports, so the result may
// arrive first and the batch is then dropped. The engine hands over the text the caller has not
// seen; this tally does the same for the other parts, so that a stream's events always add up to
// its result: the head first, missing reasoning before the text, tool-call pieces and usage after.
import type { ResponseHead, ChatResult } from '../types/chat.ts';
import type { StreamEvent } from '../types/session.ts';

interface CallSeen {
  id: boolean;
  name: boolean;
  argumentsLength: number;
}

export class StreamTally {
  #head = false;
  #reasoning = 0;
  #usage = false;
  readonly #calls: CallSeen[] = [];

  see(event: StreamEvent): void {
    if (event.type === 'response') this.#head = true;
    else if (event.type === 'reasoning') this.#reasoning += event.text.length;
    else if (event.type === 'usage') this.#usage = true;
    else if (event.type === 'tool-call') {
      const seen = (this.#calls[event.index] ??= { id: false, name: false, argumentsLength: 0 });
      if (event.id !== undefined) seen.id = true;
      if (event.name !== undefined) seen.name = true;
      seen.argumentsLength += event.arguments?.length ?? 0;
    }
  }

  /** Adds to `queue` (events not yet consumed) what `result` holds and no event carried. */
  complete(queue: StreamEvent[], result: ChatResult): void {
    if (!this.#head) queue.unshift({ type: 'response', head: headOf(result) });
    const reasoning = result.reasoningContent?.slice(this.#reasoning);
    if (reasoning) {
      const text = queue.findIndex((e) => e.type === 'delta');
      queue.splice(text === -1 ? queue.length : text, 0, { type: 'reasoning', text: reasoning });
    }
    result.toolCalls?.forEach((call, index) => {
      const seen = this.#calls[index] ?? { id: false, name: false, argumentsLength: 0 };
      const part: StreamEvent & { type: 'tool-call' } = { type: 'tool-call', index };
      if (!seen.id && typeof call.id === 'string') part.id = call.id;
      if (!seen.name && typeof call.function?.name === 'string') part.name = call.function.name;
      const rest = typeof call.function?.arguments === 'string' ? call.function.arguments.slice(seen.argumentsLength) : '';
      if (rest !== '') part.arguments = rest;
      if (Object.keys(part).length > 2) queue.push(part);
    });
    if (!this.#usage && result.metadata.response?.usageReported) queue.push({ type: 'usage', usage: result.usage });
  }
}

function headOf(result: ChatResult): ResponseHead {
  const head: ResponseHead = { model: result.model };
  if (result.id !== undefined) head.id = result.id;
  if (result.created !== undefined) head.created = result.created;
  if (result.systemFingerprint !== undefined) head.systemFingerprint = result.systemFingerprint;
  if (result.serviceTier !== undefined) head.serviceTier = result.serviceTier;
  return head;
}
