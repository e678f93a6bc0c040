// A JSON schema for a provider that takes only `response_format: { type: 'json_object' }` (Kimi and
// GLM, as they document it; fixtures/{kimi,glm}/json-mode.json): the schema goes into the system
// prompt, as Kimi's JSON-mode guide asks ("tell the model the fields and their types"), and
// `json_object` is sent instead. The answer is checked against the schema afterwards
// (src/worker/call/structured.ts). Pure: no I/O.
import type { ChatMessage } from '../../types/chat.ts';
import type { Dialect } from '../../types/options.ts';
import { jsonSchemaOf, structuredSupport } from '../../wire/structured.ts';
import type { Body } from './dialect.ts';

/** The instruction that carries the schema; it ends with the schema's JSON. */
export function schemaInstruction(spec: NonNullable<ReturnType<typeof jsonSchemaOf>>): string {
  const name = typeof spec.name === 'string' ? ` "${spec.name}"` : '';
  const about = typeof spec.description === 'string' && spec.description !== '' ? ` (${spec.description})` : '';
  const schema = spec.schema === undefined ? '' : `, matching this JSON Schema:\n${JSON.stringify(spec.schema)}`;
  return `Answer with a single JSON object${name}${about} and nothing else: no text before or after it, no code fence${schema}`;
}

/** The messages with the instruction added to the first system message (or in a system message of its own, first). */
function withInstruction(messages: ChatMessage[], instruction: string): ChatMessage[] {
  const first = messages[0];
  if (first?.role === 'system' && typeof first.content === 'string') {
    return [{ ...first, content: `${first.content}\n\n${instruction}` }, ...messages.slice(1)];
  }
  return [{ role: 'system', content: instruction }, ...messages];
}

/** The body as the provider takes it: unchanged, unless it asks for a JSON schema the provider does not take. */
export function structuredBody(dialect: Dialect, body: Body): Body {
  if (structuredSupport(dialect) === 'json_schema') return body;
  const spec = jsonSchemaOf(body['response_format']);
  if (spec === undefined) return body;
  return { ...body, response_format: { type: 'json_object' }, messages: withInstruction(body['messages'] as ChatMessage[], schemaInstruction(spec)) };
}

/** The turns that ask again after an answer that missed the schema: that answer, then what was wrong with it. */
export function retryTurns(answer: string, issues: readonly string[]): ChatMessage[] {
  const list = issues.map((issue) => `- ${issue}`).join('\n');
  return [
    { role: 'assistant', content: answer },
    {
      role: 'user',
      content: `That answer does not match the JSON Schema:\n${list}\nAnswer again with a single JSON object that matches it, and nothing else.`,
    },
  ];
}
