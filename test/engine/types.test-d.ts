// Type tests, checked by `npm run typecheck` (not run by node --test): the written public types
// and the validation schema describe the same requests, and what the openai SDK produces fits them.
import type OpenAI from 'openai';
import type { z } from 'zod';
import type { ChatMessage, ChatRequest, ExecuteRequest, SessionPoolOpenAI } from '../../src/index.ts';
import type { chatRequestSchema, executeRequestSchema } from '../../src/request/request.ts';

type Assignable<From, To> = [From] extends [To] ? true : false;
const yes = <T extends true>(value: T): T => value;

type SchemaInput = z.input<typeof chatRequestSchema>;
type SchemaMessage = NonNullable<SchemaInput['messages']>[number];

// The schema and the written ChatRequest accept the same requests, field by field.
yes<Assignable<ChatRequest, SchemaInput>>(true);
yes<Assignable<SchemaInput, ChatRequest>>(true);
yes<Assignable<ChatMessage, SchemaMessage>>(true);
yes<Assignable<SchemaMessage, ChatMessage>>(true);
// Every field of the schema is written out (and the other way round).
yes<Assignable<Exclude<keyof SchemaInput, keyof ChatRequest>, never>>(true);
yes<Assignable<Exclude<keyof ChatRequest, keyof SchemaInput>, never>>(true);
yes<Assignable<Exclude<keyof SchemaMessage, keyof ChatMessage>, never>>(true);
yes<Assignable<Exclude<keyof ChatMessage, keyof SchemaMessage>, never>>(true);

// The written ExecuteRequest and its schema, the same way.
type ExecuteInput = z.input<typeof executeRequestSchema>;
yes<Assignable<ExecuteRequest, ExecuteInput>>(true);
yes<Assignable<ExecuteInput, ExecuteRequest>>(true);
yes<Assignable<Exclude<keyof ExecuteInput, keyof ExecuteRequest>, never>>(true);
yes<Assignable<Exclude<keyof ExecuteRequest, keyof ExecuteInput>, never>>(true);

// Every message the SDK's types allow is a ChatMessage; so is the assistant message it returns.
yes<Assignable<OpenAI.ChatCompletionMessageParam, ChatMessage>>(true);
yes<Assignable<OpenAI.ChatCompletionMessage, ChatMessage>>(true);
yes<Assignable<OpenAI.ChatCompletionDeveloperMessageParam, ChatMessage>>(true);

// A deliberate mistake is caught.
// @ts-expect-error: a role the SDK does not have
const wrong: ChatMessage = { role: 'robot', content: 'x' };
void wrong;

// Code written for `openai.chat.completions.create` compiles against `supervisor.openai()`, with
// the SDK's own types for the body, the completion and the chunks.
declare const openai: SessionPoolOpenAI;
declare const sdk: OpenAI;

async function writtenForTheSdk(client: Pick<SessionPoolOpenAI, 'chat'>): Promise<string> {
  const params: OpenAI.ChatCompletionCreateParamsNonStreaming = {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'developer', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ],
    temperature: 0.2,
    tools: [{ type: 'function', function: { name: 'f', parameters: {} } }],
    response_format: { type: 'json_object' },
  };
  const completion: OpenAI.ChatCompletion = await client.chat.completions.create(params, {
    timeout: 10_000,
    maxRetries: 1,
    signal: AbortSignal.timeout(5000),
    headers: { 'x-tenant': 't' },
  });
  const message: OpenAI.ChatCompletionMessage = completion.choices[0]!.message;
  const next = await client.chat.completions.create({ ...params, messages: [...params.messages, message] });
  const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  let text = '';
  for await (const chunk of stream) {
    const typed: OpenAI.ChatCompletionChunk = chunk;
    text += typed.choices[0]?.delta.content ?? '';
    if (text.length > 100) stream.controller.abort();
  }
  const final: OpenAI.ChatCompletion = await stream.finalChatCompletion();
  return `${message.content ?? ''}${next.choices[0]?.message.refusal ?? ''}${text}${final.usage?.total_tokens ?? 0}`;
}
void writtenForTheSdk(openai);
// The same function body type-checks against the SDK's own client, so nothing here is ours only.
void writtenForTheSdkClient(sdk);
async function writtenForTheSdkClient(client: OpenAI): Promise<void> {
  const completion: OpenAI.ChatCompletion = await client.chat.completions.create(
    { model: 'm', messages: [{ role: 'user', content: 'x' }] },
    { timeout: 10_000, maxRetries: 1 },
  );
  const stream = await client.chat.completions.create({ model: 'm', messages: [completion.choices[0]!.message], stream: true });
  for await (const chunk of stream) if (chunk.choices[0]?.delta.content) stream.controller.abort();
}
// A streaming call is typed as a stream, a plain one as a completion.
async function overloads(): Promise<void> {
  const plain = await openai.chat.completions.create({ model: 'm', messages: [] });
  yes<Assignable<typeof plain, OpenAI.ChatCompletion>>(true);
  const streamed = await openai.chat.completions.create({ model: 'm', messages: [], stream: true });
  yes<Assignable<typeof streamed, AsyncIterable<OpenAI.ChatCompletionChunk>>>(true);
  // @ts-expect-error: a stream is not a completion
  const wrongly: OpenAI.ChatCompletion = streamed;
  void wrongly;
}
void overloads;
