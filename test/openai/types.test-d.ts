// Type tests, checked by `npm run typecheck` (not run by node --test): the SDK's helpers, typed as
// the SDK types them, on `supervisor.openai()` — parsed values and tool arguments are inferred from
// the zod schemas, the helpers are the SDK's classes, the errors the SDK's.
import type { ChatCompletionRunner } from 'openai/lib/ChatCompletionRunner';
import type { ChatCompletionStream } from 'openai/lib/ChatCompletionStream';
import type { ChatCompletionStreamingRunner } from 'openai/lib/ChatCompletionStreamingRunner';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import type { Stream } from 'openai/streaming';
import { z } from 'zod';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { SessionPoolOpenAI } from '../../src/index.ts';

type Assignable<From, To> = [From] extends [To] ? true : false;
const yes = <T extends true>(value: T): T => value;

declare const openai: SessionPoolOpenAI;
const City = z.object({ city: z.string(), population: z.number() });

export async function written(): Promise<void> {
  const parsed = await openai.chat.completions.parse({ model: 'm', messages: [], response_format: zodResponseFormat(City, 'city') });
  const value = parsed.choices[0]?.message.parsed;
  yes<Assignable<typeof value, { city: string; population: number } | null | undefined>>(true);
  const requestId = parsed._request_id;
  yes<Assignable<typeof requestId, string | null | undefined>>(true);

  const stream = openai.chat.completions.stream({ model: 'm', messages: [], response_format: zodResponseFormat(City, 'city') });
  yes<Assignable<typeof stream, ChatCompletionStream<{ city: string; population: number }>>>(true);

  const tools = [zodFunction({ name: 'where', parameters: City, function: async (args) => args.city })];
  const runner = openai.chat.completions.runTools({ model: 'm', messages: [], tools });
  yes<Assignable<typeof runner, ChatCompletionRunner<null>>>(true);
  const streaming = openai.chat.completions.runTools({ model: 'm', messages: [], tools, stream: true });
  yes<Assignable<typeof streaming, ChatCompletionStreamingRunner<null>>>(true);

  const chunks = await openai.chat.completions.create({ model: 'm', messages: [], stream: true });
  yes<Assignable<typeof chunks, Stream<ChatCompletionChunk>>>(true);
}
