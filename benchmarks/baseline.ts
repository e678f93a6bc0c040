// The baseline: what a host does without sessionpool. Plain `openai` SDK calls on the main thread,
// one client reused for every call (keep-alive connections, like the engine's per-worker clients).
import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';

/** What a session answered, as the caller saw it; checked after the measurement. */
export interface Outcome {
  content: string;
  finishReason: string;
  /** Streams: the deltas as the caller received them, concatenated. */
  deltas?: string;
  /** Streams: how many pieces of text arrived (SDK chunks; engine batches are coarser). */
  pieces?: number;
  /** Provider calls it took (continuation rounds). */
  calls?: number;
}

export const MODEL = 'gpt-4o-mini';
/** The same turn the engine adds for providers without a partial mode. */
export const CONTINUE_PROMPT = 'Continue exactly where you stopped, without repeating anything.';

export class Baseline {
  readonly client: OpenAI;

  constructor(baseURL: string, apiKey: string) {
    this.client = new OpenAI({ apiKey, baseURL, maxRetries: 0 });
  }

  async chat(prompt: string): Promise<Outcome> {
    const completion = await this.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: prompt }] });
    const choice = completion.choices[0];
    return { content: choice?.message.content ?? '', finishReason: choice?.finish_reason ?? '', calls: 1 };
  }

  /** `stream: true`, iterating the chunks and consuming every delta as it comes. */
  async stream(prompt: string): Promise<Outcome> {
    const stream = await this.client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: prompt }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let deltas = '';
    let pieces = 0;
    let finishReason = '';
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      const text = choice?.delta.content;
      if (typeof text === 'string' && text !== '') {
        deltas += text;
        pieces++;
      }
      if (choice?.finish_reason) finishReason = choice.finish_reason;
    }
    return { content: deltas, deltas, pieces, finishReason, calls: 1 };
  }

  /**
   * The continuation loop a host writes itself: while the answer is cut (`length`), resend the
   * history plus the cut answer and a "continue" turn, and append what comes back.
   */
  async continued(prompt: string, maxCalls = 3): Promise<Outcome> {
    let messages: ChatCompletionMessageParam[] = [{ role: 'user', content: prompt }];
    let content = '';
    let finishReason = 'length';
    let calls = 0;
    while (finishReason === 'length' && calls < maxCalls) {
      const completion = await this.client.chat.completions.create({ model: MODEL, messages });
      calls++;
      const choice = completion.choices[0];
      const chunk = choice?.message.content ?? '';
      content += chunk;
      finishReason = choice?.finish_reason ?? '';
      messages = [...messages, { role: 'assistant', content: chunk }, { role: 'user', content: CONTINUE_PROMPT }];
    }
    return { content, finishReason, calls };
  }
}
