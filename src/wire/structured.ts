// How each provider family takes a JSON schema (read by the request checks and by the worker).
import type { Dialect } from '../types/options.ts';
import type { StructuredOutputSupport } from '../types/structured.ts';

/** OpenAI takes `json_schema` and enforces it; Kimi and GLM document only `text` and `json_object`. */
const SUPPORT: Readonly<Record<Dialect, StructuredOutputSupport>> = { openai: 'json_schema', kimi: 'json_object', glm: 'json_object' };

export function structuredSupport(dialect: Dialect): StructuredOutputSupport {
  return SUPPORT[dialect];
}

/** The `json_schema` part of a `response_format` of that type, or undefined for any other format. */
export function jsonSchemaOf(format: unknown): { name?: unknown; description?: unknown; schema?: Record<string, unknown>; strict?: unknown } | undefined {
  if (format === null || typeof format !== 'object' || (format as { type?: unknown }).type !== 'json_schema') return undefined;
  const spec = (format as { json_schema?: unknown }).json_schema;
  return spec !== null && typeof spec === 'object' ? (spec as { schema?: Record<string, unknown> }) : {};
}

/** Whether a `response_format` asks for JSON (`json_object` or `json_schema`). */
export function isJsonFormat(format: unknown): boolean {
  const type = format !== null && typeof format === 'object' ? (format as { type?: unknown }).type : undefined;
  return type === 'json_object' || type === 'json_schema';
}
