// Type tests, checked by `npm run typecheck` (not run by node --test): the written public types
// and the validation schema describe the same requests, and what the openai SDK produces fits them.
import type OpenAI from 'openai';
import type { z } from 'zod';
import type { ChatMessage, ChatRequest } from '../src/index.ts';
import { chatRequestSchema } from '../src/supervisor/request.ts';

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

// Every message the SDK's types allow is a ChatMessage; so is the assistant message it returns.
yes<Assignable<OpenAI.ChatCompletionMessageParam, ChatMessage>>(true);
yes<Assignable<OpenAI.ChatCompletionMessage, ChatMessage>>(true);
yes<Assignable<OpenAI.ChatCompletionDeveloperMessageParam, ChatMessage>>(true);

// A deliberate mistake is caught.
// @ts-expect-error: a role the SDK does not have
const wrong: ChatMessage = { role: 'robot', content: 'x' };
void wrong;
